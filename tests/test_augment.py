"""Augmentations keep a product's identity; identity rules tell SKUs apart (property tests)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from tuning.augment import RULES, augment, droppable
from tuning.data import load_corpus
from tuning.identity import model_words, numbers, same_identity
from tuning.quantity import amounts, unmatched

CORPUS = Path(__file__).resolve().parents[1] / "examples" / "products_corpus.csv"


@pytest.fixture(scope="module")
def titles() -> list[str]:
    return load_corpus(CORPUS, "title").texts


def test_every_view_of_every_corpus_title_keeps_numbers_and_model_words(titles: list[str]) -> None:
    rng = random.Random(1)
    for title in titles:
        for _ in range(3):
            view = augment(title, rng)
            assert unmatched(amounts(view), amounts(title)) == ([], []), (title, view)
            assert same_identity(title, view) is True, (title, view)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_alone_keeps_identity(rule: str, titles: list[str]) -> None:
    func, _ = RULES[rule]
    rng = random.Random(2)
    changed = 0
    for title in titles[:600]:
        view = " ".join(func(title, rng).split())
        changed += view != title
        assert unmatched(amounts(view), amounts(title)) == ([], []), (rule, title, view)
        assert same_identity(title, view) is True, (rule, title, view)
    assert changed > 0, f"rule {rule} never changed a title"


def test_views_differ_from_the_title_and_from_each_other(titles: list[str]) -> None:
    rng = random.Random(3)
    pairs = [(augment(t, rng), augment(t, rng)) for t in titles[:300]]
    assert sum(a != b for a, b in pairs) / len(pairs) > 0.8


@pytest.mark.parametrize("a,b,expected", [
    ("Смартфон Apple iPhone 15 128 ГБ", "Apple iPhone 15 Pro 128 ГБ", False),
    ("Чайник Polaris 1.7 л", "Чайник Polaris 1,2 л", False),
    ("Xiaomi Redmi Note 13 4/128 ГБ", "Xiaomi Redmi Note 13 4/256 ГБ", False),
    ("Сяоми Редми Нот 13 4/128", "Xiaomi Redmi Note 13 4+128 GB", True),
    ("Чайник Polaris 1,7 л черный", "Чайник Polaris 1.7л", True),
    ("Sony WH-CH720N наушники", "Сони WHCH720N наушники Grey", True),
    ("Samsung Galaxy Watch6 44mm", "Самсунг Galaxy Watch 6 44 мм", True),
    ("Apple iPhone 15", "Apple iPhone 15 128 ГБ", None),       # one omits the memory: unknown
    ("Наушники Anker Life Q30", "Наушники Anker Life Q35", False),
])
def test_same_identity(a: str, b: str, expected: bool | None) -> None:
    assert same_identity(a, b) is expected
    assert same_identity(b, a) is expected


def test_years_colours_and_units_are_not_identity() -> None:
    assert numbers("Куртка 2024 размер 50") == numbers("Куртка размер 50")
    assert model_words("Наушники Sony 64 GB Black") == {"sony"}
    assert droppable("черный") and droppable("Black") and not droppable("128") and not droppable("Pro")
