"""Identity-keeping rewrites of a product title: the positives of the contrastive objective.

Two views of one title should be "the same product", as two sellers would list it. Each
rule below imitates one way real listings of one SKU differ, and none touches an identity
token's value (numbers keep their values, model words keep their letters up to case,
script and hyphens; see `tuning.identity`); `tests/test_augment.py` checks that over the
whole example corpus.

- word order: the leading noun phrase moved behind the brand/model ("Наушники Sony X" →
  "Sony X наушники"), comma-separated parts shuffled;
- non-identity words dropped: colours and seller filler (lexicon in `tuning.identity`) and
  other lower-case Cyrillic words with no digits (adjectives, "для дома"), a few at a time;
- script: Latin brand/model words written in Cyrillic and Cyrillic ones in Latin
  (transliteration by the `cyrtranslit` package);
- numbers and units: "128 ГБ" / "128ГБ" / "128 гб" / "128GB", "1,7 л" / "1.7 л",
  one amount in another unit ("500 мл" / "0,5 л", "2 м" / "200 см": `tuning.quantity`),
  "4/128" / "4+128", "Watch6" / "Watch 6", hyphens in model codes ("WH-CH720N" / "WHCH720N");
- case: lower-case, upper-case brand;
- typos: one swapped, dropped or doubled letter in a long non-identity Cyrillic word.
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable

from tuning.identity import (CYRILLIC, LATIN, NON_IDENTITY, UNITS, to_cyrillic, to_latin)
from tuning.quantity import CONVERTIBLE, SPELLINGS, amounts, convert

_UNIT_ALTS = {u: row for row in UNITS for u in row if len(u) > 1 or u in ("л", "г", "м")}
_NUM_UNIT = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s?([A-Za-zА-Яа-яЁё]{1,5})(?![\w])")
_PAIR = re.compile(r"(?<![\w/+])(\d{1,4})\s?([/+])\s?(\d{1,4})(?![\w/+])")
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
_CODE_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z\d])|(?<=\d)-(?=[A-Za-z])")  # never digit-digit
_COMMA = re.compile(r",\s+")  # a list comma, not a decimal one ("15,6")
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-zА-Яа-яЁё])(?=\d)|(?<=\d)(?=[A-Za-zА-Яа-яЁё]{2,})")


def _units(text: str, rng: random.Random) -> str:
    """Respell 'number unit' pairs: spacing and Latin/Cyrillic/case of a known unit."""
    def swap(m: re.Match[str]) -> str:
        num, unit = m.group(1), m.group(2)
        alts = _UNIT_ALTS.get(unit.lower())
        if alts is None:
            return m.group(0)
        new = rng.choice(alts)
        new = new.upper() if rng.random() < 0.5 and new.isascii() else new
        if not new.isascii() and rng.random() < 0.5:
            new = new.upper()
        attached = len(new) == 1 and new.isascii()  # "12V", never "12 V": "48 M" is a size
        return num + ("" if attached else rng.choice(["", " "])) + new
    return _NUM_UNIT.sub(swap, text)


_FIRST_SPELLING = dict(SPELLINGS)


def _convert(text: str, rng: random.Random) -> str:
    """One amount written in another unit of its family: '500 мл' → '0,5 л', '1 кг' → '1000 г'.

    Only amounts written alone with a unit of more than one Latin letter (a lone 'L' or 'M'
    after a number is as often a clothing size), and only when the converted number is short
    (0.1 ≤ value < 10000, at most 3 decimals), as a seller would write it.
    """
    sites = []
    for a in amounts(text):
        family = next((f for f in CONVERTIBLE if a.unit in f), None)
        m = _AMOUNT_UNIT.match(text, a.end)
        if family is None or m is None or (len(m.group(1)) == 1 and m.group(1).isascii()):
            continue
        if a.start and text[a.start - 1] in "/+-–—" or text[m.end():m.end() + 1] in ("/", "+", "-"):
            continue
        for to in family:
            value = round(convert(float(a.raw), a.unit, to), 3)
            if to != a.unit and 0.1 <= value < 10000 and abs(value - convert(float(a.raw), a.unit, to)) < 1e-9:
                sites.append((a.start, m.end(), value, to))
    if not sites:
        return text
    start, end, value, to = rng.choice(sites)
    number = f"{value:g}".replace(".", rng.choice([",", "."]))
    return text[:start] + number + rng.choice([" ", ""]) + _FIRST_SPELLING[to][0] + text[end:]


_AMOUNT_UNIT = re.compile(r"\s?([^\W\d_]+)")


def _pairs(text: str, rng: random.Random) -> str:
    """'4/128' ↔ '4+128' (spacing too): memory and size pairs spelt both ways."""
    return _PAIR.sub(lambda m: m.group(1) + rng.choice(["/", "+", " / "]) + m.group(3), text)


def _decimal(text: str, rng: random.Random) -> str:
    mark = rng.choice([".", ","])
    return _DECIMAL.sub(mark, text)


def _split_codes(text: str, rng: random.Random) -> str:
    """'Watch6' ↔ 'Watch 6', 'WH-CH720N' ↔ 'WHCH720N': the same code spelt apart or joined."""
    out = []
    for token in text.split(" "):
        if any(c.isdigit() for c in token) and rng.random() < 0.5:
            token = _LETTER_DIGIT.sub(" ", token)
        if "-" in token and LATIN.search(token) and rng.random() < 0.5:
            token = _CODE_HYPHEN.sub(rng.choice(["", " "]), token)
        out.append(token)
    return " ".join(out)


def _transliterate(text: str, rng: random.Random) -> str:
    """Brand/model words in the other script (digits and units untouched).

    The first word is left alone: it is usually the product noun ("Смартфон"), which no
    seller writes in Latin letters.
    """
    def swap(index: int, word: str) -> str:
        if any(c.isdigit() for c in word) or len(word) < 3 or rng.random() < 0.5:
            return word
        if LATIN.search(word) and not CYRILLIC.search(word) and word.lower() not in NON_IDENTITY:
            new = to_cyrillic(word)
            return new if new else word
        if index and CYRILLIC.search(word) and word[0].isupper() and not LATIN.search(word):
            latin = to_latin(word)
            return latin.capitalize() if latin.isalpha() else word
        return word
    return " ".join(swap(i, w) for i, w in enumerate(text.split(" ")))


def droppable(word: str) -> bool:
    """A word that never carries identity: lexicon words and lower-case Cyrillic words."""
    core = word.strip(",.;:!()«»\"'").lower()
    if not core or any(c.isdigit() for c in core):
        return False
    if core in NON_IDENTITY:
        return True
    bare = word.strip(",.;:!()«»\"'")
    return bool(CYRILLIC.search(bare)) and not LATIN.search(bare) and bare.islower() and len(bare) > 3


def _drop(text: str, rng: random.Random) -> str:
    """Drop up to three non-identity words (never all of them, never a unit after a number)."""
    tokens = text.split(" ")
    candidates = [i for i, w in enumerate(tokens) if droppable(w)
                  and not (i and any(c.isdigit() for c in tokens[i - 1]))]
    rng.shuffle(candidates)
    gone = set(candidates[:rng.randint(1, 3)]) if candidates else set()
    kept = [w for i, w in enumerate(tokens) if i not in gone]
    return " ".join(kept) if kept else text


def _reorder(text: str, rng: random.Random) -> str:
    """Shuffle comma parts, or move the leading Cyrillic noun behind the rest."""
    parts = [p.strip() for p in _COMMA.split(text) if p.strip()]
    if len(parts) > 1 and rng.random() < 0.5:
        rng.shuffle(parts)
        return ", ".join(parts)
    tokens = _COMMA.sub(" ", text).split()
    if len(tokens) > 2 and CYRILLIC.search(tokens[0]) and not any(c.isdigit() for c in tokens[0]):
        return " ".join(tokens[1:] + [tokens[0].lower()])
    return text


def _case(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return text.lower()
    tokens = text.split(" ")
    latin = [i for i, w in enumerate(tokens) if LATIN.search(w) and not any(c.isdigit() for c in w)]
    if latin:
        i = rng.choice(latin)
        tokens[i] = tokens[i].upper()
    return " ".join(tokens)


def slip(word: str, rng: random.Random) -> str:
    """One keyboard slip in a word of 4+ letters: a swapped, dropped or doubled letter.

    (`examples/make_products.py` makes its corpus typos the same way, in its own copy: the
    example generators run standalone, from a copy of examples/.)
    """
    k = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    return (word[:k] + word[k + 1] + word[k] + word[k + 2:] if kind == 0 else
            word[:k] + word[k + 1:] if kind == 1 else word[:k] + word[k] + word[k:])


def _typo(text: str, rng: random.Random) -> str:
    tokens = text.split(" ")
    long = [i for i, w in enumerate(tokens) if droppable(w) and len(w) >= 5 and not LATIN.search(w)]
    if not long:
        return text
    i = rng.choice(long)
    tokens[i] = slip(tokens[i], rng)
    return " ".join(tokens)


RULES: dict[str, tuple[Callable[[str, random.Random], str], float]] = {
    "reorder": (_reorder, 0.5), "drop": (_drop, 0.5), "typo": (_typo, 0.15),
    "transliterate": (_transliterate, 0.4), "convert": (_convert, 0.3), "units": (_units, 0.6),
    "pairs": (_pairs, 0.5), "decimal": (_decimal, 0.5), "split_codes": (_split_codes, 0.4),
    "case": (_case, 0.3),
}
"""Rule name → (function, probability of applying it to one view), applied in this order: the
typo comes before transliteration and lower-casing, so it never hits a brand just written in
Cyrillic ("Jeans" → "жеанс" → "женас" would no longer match "Jeans")."""


def augment(text: str, rng: random.Random) -> str:
    """One random identity-keeping view of a title (each rule applied with its probability)."""
    out = " ".join(text.split())
    for func, prob in RULES.values():
        if rng.random() < prob:
            out = " ".join(func(out, rng).split()) or out
    return out
