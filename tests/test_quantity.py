"""Quantities compare as amounts (pint), so one amount in two units is one product."""
from __future__ import annotations

import random

import pytest

from tuning.augment import _convert
from tuning.identity import same_identity
from tuning.quantity import amounts


@pytest.mark.parametrize("a,b", [
    ("Молоко Простоквашино 2,5% 500 мл", "Молоко Простоквашино 2,5% 0,5 л"),
    ("Кабель USB Type-C 2 м", "Кабель USB Type-C 200 см"),
    ("Ибупрофен таблетки 200 мг №20", "Ибупрофен таблетки 0,2 г №20"),
    ("Мука пшеничная Макфа 1 кг", "Мука пшеничная Макфа 1000 г"),
    ("Мука пшеничная Макфа 1 kg", "Мука пшеничная Макфа 1000гр"),
    ("Бахилы медицинские №10", "Бахилы медицинские 10 шт"),
    ("Бахилы медицинские, упаковка 10 штук", "Бахилы медицинские №10"),
    ("Перчатки нитриловые Benovy M, 100 шт", "Бенови перчатки нитрил M упаковка 50 пар"),
    ('Велосипед Stels Navigator 26"', "Велосипед Stels Navigator 26 дюймов"),
    ("Подгузники Pampers 4 (9–14 кг)", "Подгузники Pampers 4 9-14 кг"),
    ("Xiaomi Redmi Note 13 4/128 ГБ", "Xiaomi Redmi Note 13 4 ГБ/128 ГБ"),
    ("Вертикальный пылесос X-Pert 6.60", "Вертикальный X Pert 6.60"),  # a split code
    ("Зубная паста R.O.C.S. 74 г", "Зубная паста Р.О.К.С. 74 г"),  # dotted letters, two scripts
])
def test_one_amount_in_two_units_is_the_same_product(a: str, b: str) -> None:
    assert same_identity(a, b) is True
    assert same_identity(b, a) is True


@pytest.mark.parametrize("a,b", [
    ("Масло моторное Shell Helix HX8 4 л", "Масло моторное Shell Helix HX8 1 л"),
    ("Масло моторное Shell Helix HX8 5W-30 4 л", "Масло моторное Shell Helix HX8 5W-40 4 л"),
    ("Лампа светодиодная Gauss 9 Вт E27", "Лампа светодиодная Gauss 9 Вт E14"),
    ("Молоко Простоквашино 500 мл", "Молоко Простоквашино 1 л"),
    ("Носки мужские Conte Classic 5 пар", "Носки мужские Conte Classic 3 пары"),
    ("Подгузники Pampers 4 (9–14 кг)", "Подгузники Pampers 5 (11–16 кг)"),
    # one-letter sizes: the "s" is inside "смотровые", and a lone "M" / "L" is no unit
    ("Перчатки нитриловые Benovy смотровые размер S, 100 шт", "Перчатки нитриловые Benovy смотровые размер M, 100 шт"),
    ("Футболка хлопковая Uniqlo L", "Футболка хлопковая Uniqlo M"),
])
def test_another_amount_grade_or_socket_is_another_product(a: str, b: str) -> None:
    assert same_identity(a, b) is False
    assert same_identity(b, a) is False


def test_amounts_read_units_spellings_and_chains() -> None:
    keys = {a.raw: a.key for a in amounts("Масло 5W-30 0,5 л, 9–14 кг, №10, 26\"")}
    assert keys["5"] is None and keys["30"] is None            # a viscosity grade is a code
    assert keys["0.5"] == amounts("500 ml")[0].key              # decimal comma, Latin spelling
    assert keys["9"] == keys["9"] and keys["9"] == amounts("9 кг")[0].key  # a range shares its unit
    assert keys["10"] == amounts("10 шт")[0].key and keys["26"] == amounts("26 дюймов")[0].key
    assert [a.raw for a in amounts("Куртка 2024 размер 50")] == ["50"]  # a year is filler


def test_a_converted_view_is_the_same_amount_in_another_unit() -> None:
    rng = random.Random(0)
    views = {_convert("Молоко Простоквашино 500 мл", rng) for _ in range(20)}
    assert views and all(same_identity(v, "Молоко Простоквашино 500 мл") is True for v in views)
    assert any("0.5" in v or "0,5" in v for v in views)
    assert _convert("Футболка мужская 48 M", rng) == "Футболка мужская 48 M"  # a size, not metres
