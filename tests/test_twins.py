"""Catalog twins: another seller's wording of one product is a twin; a template sibling,
another amount, size, gender or learned variant word is not."""
from __future__ import annotations

import numpy as np
import pytest

from tuning.twins import find_twins, is_twin
from tuning.variants import VariantMaker

CATALOG = [
    "Сок Добрый апельсиновый 1 л",
    "Сок Добрый яблочный 1 л",
    "Сок Добрый мультифрукт 1 л",
    "Добрый сок апельсин, пакет 1000 мл",
    "Добрый сок яблоко, пакет 1000 мл",
    "Добрый сок мультифрукт, пакет 1000 мл",
    "DOBRY нектар Яблоко 1л тетрапак",
    "Нектар Добрый апельсиновый 0,2 л с трубочкой",
    "Нектар Добрый яблочный 0,2 л с трубочкой",
]


@pytest.fixture(scope="module")
def maker() -> VariantMaker:
    learned = VariantMaker.learn(CATALOG)
    assert "яблочный" in learned.alternatives["апельсиновый"]  # two templates swap them
    return learned


@pytest.mark.parametrize("a, b", [
    ("Сок Добрый апельсиновый 1 л", "Добрый сок апельсин, пакет 1000 мл"),  # 1 л = 1000 мл
    ("Сетевое зарядное устройство Anker 20 Вт, белое", "Зарядка Анкер 20W быстрая"),
    ("Пылесос циклонный DryBOX Amfibia", "Пылесос циклонный DryBOX Amfibia Green"),  # a colour
    ("Наушники Сони WH-CH720N беспроводные", "Наушники Sony WH-CH720N беспроводные"),  # script
    ("Колготки Omsa Attiva 40 den, размер 3 (M)", "Омса Аттива колготки 40 ден р.3"),  # one-sided M
    ("Кроссовки Nike Air Max 90 женские 38", "Nike Air Max 90 кроссовки для женщин, 38"),
])
def test_another_sellers_wording_is_a_twin(a: str, b: str, maker: VariantMaker) -> None:
    assert is_twin(a, b, maker)
    assert is_twin(b, a, maker)


@pytest.mark.parametrize("a, b", [
    # one template, one slot changed (a word, a phrase, an added word)
    ("Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л"),
    ("Дезодорант Rexona Нежно и сочно спрей 150 мл", "Дезодорант Rexona Яркий букет спрей 150 мл"),
    ("Русский сахар песок 1000 г в пакете", "Русский сахар песок тростниковый 1000 г в пакете"),
    # another amount or code
    ("Масло Shell Helix HX8 5W-30 4 л", "Shell Хеликс HX8 5W-30 масло 1 л"),
    ("Лампа Gauss 9 Вт E27", "Гаусс лампочка E14 9W"),
    # a bare number beside an amount is no shared evidence
    ("Чемпион леска триммерная звезда 3.0мм 15м", "Стекло на айфон 15 защитное 3D, олеофобное"),
    # letter size, grade, gender
    ("Футболка Lacoste TH2038 мужская S", "LACOSTE TH2038 футболка для мужчин M"),
    ("Краска Caparol Samtex 7, база A, 2,5 л", "Капарол Samtex 7 краска база C 2,5 л"),
    ("Ветровка Zolla 022345102 жен., размер 44", "ZOLLA 022345102 ветровка муж. 44"),
    # a flavour the catalog's siblings swap, written in another template
    ("Сок Добрый апельсиновый 1 л", "DOBRY нектар Яблоко 1л тетрапак"),
    ("Сок Добрый апельсиновый 1 л", "сок добрый апельсиновый 1 л"),  # the title itself
])
def test_a_sibling_or_another_attribute_is_not_a_twin(a: str, b: str, maker: VariantMaker) -> None:
    assert not is_twin(a, b, maker)
    assert not is_twin(b, a, maker)


def test_find_twins_takes_the_nearest_qualifying_neighbour(maker: VariantMaker) -> None:
    texts = [CATALOG[0], CATALOG[1], CATALOG[3]]  # orange, apple (one template), orange (another)
    emb = np.array([[1.0, 0.0, 0.0], [0.99, 0.14, 0.0], [0.8, 0.0, 0.6]])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    twins = find_twins(texts, emb.astype(np.float32))
    # the orange juice's nearest neighbour is its template sibling; its twin is the other wording
    assert twins == [2, None, 0]  # the apple juice has no other wording here


def test_one_title_has_no_twin(maker: VariantMaker) -> None:
    assert find_twins(["Сок Добрый апельсиновый 1 л"], np.ones((1, 3), np.float32)) == [None]


def test_a_description_has_no_twin() -> None:
    """Over SIBLING_MAX_WORDS words a text is a description: no twin, and no cost per word."""
    long = "Сок Добрый апельсиновый 1 л " + "очень вкусный " * 40
    texts = [long, "Добрый сок апельсин, пакет 1000 мл", long + "правда"]
    assert find_twins(texts, np.ones((3, 3), np.float32)) == [None, None, None]
