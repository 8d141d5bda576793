"""Quantities in product titles as quantities: "500 мл" and "0,5 л" are one amount.

Why: two sellers write one amount in different units ("500 мл" / "0,5 л", "2 м" / "200 см",
"200 мг" / "0,2 г", "1 кг" / "1000 г"), and comparing raw numbers made such a pair "a
different product" (a false hard negative). Here a number with a unit becomes a magnitude
in base units, converted by the `pint` units library (not by a hand-written factor table);
only the seller *spellings* of each unit are ours (`SPELLINGS`, Russian and Latin).

Rules (generic, for any catalog):
- a number is digits with an optional decimal comma or dot ("0,5" == "0.5");
- a unit follows the number, with or without a space ("500мл", "500 ml"), case-insensitive
  (a one-letter Latin unit only without a space: "12V", "1L", but "48 M" is a size),
  and is not followed by a letter, digit or hyphen (so "5W-30", a viscosity grade, stays
  a code, and "2 в 1" reads "в" as volt in both titles alike); `"`, `″` or `''` right after a
  number is inches (26" = 26 дюймов);
- "№10" is a count of 10, as are "10 шт" / "10 штук" / "упаковка 10 штук"; a pair is two
  ("50 пар" = "100 шт" of gloves);
- a chain of numbers joined by "/", "+" (memory pairs "4/128 ГБ") or a dash (ranges
  "9–14 кг") shares the unit written after its last number;
- numbers inside codes ("S24", "E27", "WH1000XM5", "5W-30") and numbers without a unit stay
  bare numbers, compared by value as before; a bare number matches a quantity written with
  the same number ("iPhone 15 128" vs "iPhone 15 128 ГБ").

`amounts(text)` lists them; `tuning.identity` compares two titles' amounts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pint

# Seller spelling (lower-case) → pint unit. One row per unit; the first spelling of a row is
# how `tuning.augment` writes that unit when it converts an amount.
SPELLINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("milliliter", ("мл", "ml", "миллилитров", "миллилитра")),
    ("liter", ("л", "l", "литр", "литра", "литров", "ltr", "lt")),
    ("milligram", ("мг", "mg")),
    ("microgram", ("мкг", "mcg")),
    ("gram", ("г", "гр", "g", "gr", "грамм", "грамма", "граммов")),
    ("kilogram", ("кг", "kg", "килограмм", "килограмма", "килограммов")),
    ("millimeter", ("мм", "mm")),
    ("centimeter", ("см", "cm")),
    ("meter", ("м", "m", "метр", "метра", "метров")),
    ("kilometer", ("км", "km")),
    ("inch", ("дюйм", "дюйма", "дюймов", "inch")),
    ("watt", ("вт", "w")),
    ("kilowatt", ("квт", "kw")),
    ("milliampere_hour", ("мач", "mah")),
    ("ampere_hour", ("ач", "ah")),
    ("watt_hour", ("втч", "wh")),
    ("volt", ("в", "v")),
    ("hertz", ("гц", "hz")),
    ("megahertz", ("мгц", "mhz")),
    ("gigahertz", ("ггц", "ghz")),
    ("megabyte", ("мб", "mb")),
    ("gigabyte", ("гб", "gb")),
    ("terabyte", ("тб", "tb")),
    ("megapixel", ("мп", "mp")),
    ("piece", ("шт", "штук", "штуки", "штука", "pcs", "pc")),
    ("pair", ("пар", "пары", "пара", "pairs", "pair")),
    ("kilocalorie", ("ккал", "kcal")),
)
UNIT_OF: dict[str, str] = {s: unit for unit, row in SPELLINGS for s in row}
CONVERTIBLE: tuple[tuple[str, ...], ...] = (
    ("milliliter", "liter"), ("milligram", "gram", "kilogram"),
    ("millimeter", "centimeter", "meter"), ("watt", "kilowatt"),
)
"""Units sellers really write one amount in either of (a converted view uses these only)."""

REGISTRY = pint.UnitRegistry(cache_folder=None)
REGISTRY.define("piece = [count] = pcs")
REGISTRY.define("pair = 2 * piece")  # gloves: "50 пар" = "100 шт"
REGISTRY.define("megapixel = [pixels]")

_NUM = r"\d+(?:[.,]\d+)?"
_JOIN = r"(?:\s?[/+]\s?|[-–—]|\s[–—]\s)"
_UNIT_ALT = "|".join(sorted((re.escape(s) for s in UNIT_OF), key=len, reverse=True))
QUANTITY = re.compile(
    rf"(?<![\w.,])(?P<no>№\s?)?(?P<chain>{_NUM}(?:{_JOIN}{_NUM})*)"
    rf"(?:\s?(?P<unit>{_UNIT_ALT})\.?(?![\w-])|(?P<inch>\"|″|''))?", re.IGNORECASE)
NUMBER = re.compile(_NUM)
YEAR = re.compile(r"^(199\d|20[0-3]\d)$")


@dataclass(frozen=True)
class Amount:
    """One number of a title: its value as written and, with a unit, its normalised key."""

    raw: str            # the written number normalised: '0,50' → '0.5'
    key: str | None     # '<base units>:<magnitude>' or None for a bare number
    start: int          # character span of the number in the title
    end: int
    unit: str | None = None  # the pint unit it was written in


def norm_number(raw: str) -> str:
    """'1,7' → '1.7', '007' → '7', '2.0' → '2' (one spelling per value)."""
    value = float(raw.replace(",", "."))
    return str(int(value)) if value.is_integer() else f"{value:g}"


@lru_cache(maxsize=4096)
def magnitude_key(value: float, unit: str) -> str:
    """The amount in base units as text, so equal amounts compare equal ('1 кг' = '1000 г')."""
    base = REGISTRY.Quantity(value, unit).to_base_units()
    return f"{base.units:~}:{base.magnitude:.6g}"


def convert(value: float, unit: str, to: str) -> float:
    """`value` `unit` expressed in `to` (pint does the arithmetic)."""
    return float(REGISTRY.Quantity(value, unit).to(to).magnitude)


@lru_cache(maxsize=65536)
def amounts(text: str) -> tuple[Amount, ...]:
    """Every number of the title, in order, with a magnitude key where a unit is written."""
    unit_at: dict[int, str] = {}
    for m in QUANTITY.finditer(text):
        spelled = (m.group("unit") or "").lower()
        if len(spelled) == 1 and spelled.isascii() and m.start("unit") > m.end("chain"):
            spelled = ""  # "48 M", "50 L": a clothing size as often as metres or litres
        unit = "inch" if m.group("inch") else "piece" if m.group("no") and not spelled else UNIT_OF.get(spelled)
        if unit:
            for n in NUMBER.finditer(m.group("chain")):
                unit_at[m.start("chain") + n.start()] = unit
    out = []
    for n in NUMBER.finditer(text):
        raw, unit = norm_number(n.group()), unit_at.get(n.start())
        if unit is None and YEAR.match(raw):
            continue
        key = magnitude_key(float(raw), unit) if unit else None
        out.append(Amount(raw, key, n.start(), n.end(), unit))
    return tuple(out)


def unmatched(a: tuple[Amount, ...], b: tuple[Amount, ...]) -> tuple[list[Amount], list[Amount]]:
    """The amounts of each title with no partner in the other.

    Partners: equal magnitudes (500 мл ~ 0,5 л); then equal written numbers where one of the
    two has no unit (a title that omits a unit is not evidence of another product).
    """
    left, right = list(a), list(b)
    for same in (lambda x, y: x.key is not None and x.key == y.key,
                 lambda x, y: (x.key is None or y.key is None) and x.raw == y.raw):
        for x in list(left):
            y = next((y for y in right if same(x, y)), None)
            if y is not None:
                left.remove(x)
                right.remove(y)
    return left, right
