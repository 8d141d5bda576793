"""Template siblings (`tuning.siblings`) and their use as mined hard negatives."""
from __future__ import annotations

import numpy as np
import pytest

from tuning.contrastive import mine_hard_negatives
from tuning.identity import same_identity
from tuning.siblings import template_sibling
from tuning.variants import auto_sibling_negatives, template_sibling_share


@pytest.mark.parametrize("a, b", [
    ("Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л"),
    ("Сменный модуль Барьер Жесткость 4 для кувшина", "Сменный модуль Барьер Standard 4 для кувшина"),
    ("Рексона антиперспирант аэрозоль алоэ вера женский 150мл",
     "Рексона антиперспирант аэрозоль яркий букет женский 150мл"),
    ("Сахар-песок Русский белый 1 кг", "Сахар-песок Русский тростниковый 1 кг"),
])
def test_one_slot_changed_is_a_sibling_that_no_identity_rule_separates(a: str, b: str) -> None:
    assert template_sibling(a, b) and template_sibling(b, a)
    assert same_identity(a, b) is not False  # why the identity rules alone never mined them


@pytest.mark.parametrize("a, b", [
    ("Сок Добрый апельсиновый 1 л", "Сок Добрый апельсин 1 л"),  # one word, two spellings
    ("Гель для душа Palmolive Olive 250 мл", "Гель для душа Palmolive Олива 250 мл"),  # script
    ("Кабель Ugreen USB-C 1 м черный", "Кабель Ugreen USB-C 1 м белый"),  # colour only
    ("Кабель Ugreen USB-C 1 м", "Ugreen кабель USB-C 1 м"),  # order only
    ("Сок Добрый апельсиновый 1 л", "Добрый сок апельсин, пакет 1000 мл"),  # another template
])
def test_spelling_colour_order_or_another_template_is_no_sibling(a: str, b: str) -> None:
    assert not template_sibling(a, b) and not template_sibling(b, a)


# one seller's template, three flavours, and one title in another seller's words
CATALOG = ["Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л",
           "Сок Добрый мультифрукт 1 л", "Добрый сок апельсин, пакет 1000 мл"]


def _vectors() -> np.ndarray:
    """The other wording of the orange juice is its nearest neighbour, then the siblings."""
    emb = np.array([[1.0, 0.0, 0.0], [0.9, 0.4, 0.0], [0.85, 0.0, 0.5], [0.95, 0.1, 0.1]])
    return (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)


def test_siblings_become_the_mined_negatives_only_when_asked() -> None:
    with_siblings = mine_hard_negatives(CATALOG, _vectors(), siblings=True)
    # the orange juice's negative is its nearest sibling, never its other wording (index 3)
    assert with_siblings[0] == 1 and 3 not in with_siblings[:3]
    assert with_siblings[3] is None  # another template: no sibling, and no identity conflict
    assert mine_hard_negatives(CATALOG, _vectors()) == [None] * 4  # the identity rules alone


def test_a_long_description_is_no_sibling_negative() -> None:
    long = " ".join(["слово"] * 40)
    texts = [long + " апельсиновый", long + " яблочный"]
    emb = np.eye(2, dtype=np.float32)
    assert mine_hard_negatives(texts, emb, siblings=True) == [None, None]


def test_siblings_are_on_by_themselves_only_for_a_catalog_of_template_variants() -> None:
    assert auto_sibling_negatives(template_sibling_share(CATALOG)) is True  # 3 of 4 titles
    sellers = ["Сок Добрый апельсиновый 1 л", "Добрый сок апельсин, пакет 1000 мл",
               "DOBRY нектар Апельсин 1л тетрапак", "Наушники Sony WH-CH720N"]
    assert auto_sibling_negatives(template_sibling_share(sellers)) is False
