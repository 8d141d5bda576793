"""What makes two product titles the same product: numbers and model words.

A shop title mixes three kinds of words: *identity* tokens that make a different SKU
(numbers with their units — 128 ГБ, 1.7 л, 44 мм — and model words, usually Latin:
"Pro", "Q30", "WH1000XM5"), the product noun and brand (identity-neutral, but spelt many
ways: "Samsung" / "Самсунг"), and *non-identity* words a seller adds (colours, "оригинал",
"для дома", the year). The contrastive objective needs this split twice: augmentations
may rewrite or drop only non-identity words, and a mined hard negative must differ in an
identity token (otherwise it may be the same product spelt differently, a false negative).

The rules are generic and documented here, not learnt from our example catalog:
- numbers: every digit run, decimal comma read as a dot ("1,7" == "1.7"); with a unit, an
  amount compared by magnitude (`tuning.quantity`: "500 мл" == "0,5 л"); a standalone
  4-digit year 1990–2039 is filler; "4/128" is two numbers;
- letter sizes and grades standing alone ("размер M", "XL", "база A"): both titles give
  one and they differ → another product;
- model words: Latin-script tokens (hyphens and dots dropped, lower-cased, letter/digit
  runs split: "Watch6" → "watch", "6"), minus units beside a number and the colour /
  filler lexicon below;
- a model word matches a word of the other title when their Latin spellings are within a
  small edit distance (so "Сони" ~ "Sony", "Сяоми" ~ "Xiaomi" via transliteration); a
  one-letter word must stand alone or end a Latin code there.

`same_identity(a, b)` is True when nothing conflicts, False when an identity token
conflicts, None when one title only omits information the other gives (unknown).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import cyrtranslit

from tuning.quantity import SPELLINGS, UNIT_OF, amounts, unmatched

WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*", re.UNICODE)
LATIN = re.compile(r"[A-Za-z]")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

# Units as sellers write them, Latin and Cyrillic spellings of one unit on one line (the short
# spellings of `tuning.quantity.SPELLINGS`: what `tuning.augment` may respell a unit as).
UNITS: tuple[tuple[str, ...], ...] = tuple(tuple(s for s in row if len(s) <= 4)
                                           for _, row in SPELLINGS)
UNIT_WORDS = frozenset(UNIT_OF)

# Words that never make a different product (colours, seller filler), Russian + English.
COLOURS = frozenset("""
черный чёрный белый серый серебристый золотой синий голубой красный розовый зеленый
зелёный желтый жёлтый фиолетовый оранжевый бежевый коричневый бирюзовый графитовый хаки
black white grey gray silver gold blue red pink green yellow purple violet orange beige
brown graphite navy khaki
""".split())
FILLER = frozenset("""
оригинал оригинальный новый новинка хит подарок гарантия официальный ростест доставка
акция скидка лучший качественный
original new official hit sale the and for with of
""".split())
NON_IDENTITY = COLOURS | FILLER
# A letter size or grade standing alone ("размер M", "XL", "база A", "витамин C"); not a
# unit after a number ("2 M" is two metres, "-40 °C"), nor a code split before its number
# ("G 12" is "G12", "M 4,2x25" a screw thread).
LETTER_MARK = re.compile(r"(?<![\w.'’°-])(?<!\d )(X{0,3}[SML]|[2-5]XL|[A-H])(?![\w.'’-])(?! ?\d)")
# Words that turn a model into a sibling model ("iPhone 15" → "iPhone 15 Pro").
MODIFIERS = frozenset("""
pro plus max mini lite ultra se fe air neo prime classic slim note edge fold flip plus
про плюс макс мини лайт ультра
""".split())
_LAT2CYR_REST = {"x": "кс", "w": "в", "q": "к", "h": "х", "y": "и", "c": "к", "j": "дж"}


def words(text: str) -> list[str]:
    """Word tokens (letters/digits, inner hyphens and dots kept) in order."""
    return WORD.findall(text)


def numbers(text: str) -> Counter[str]:
    """Multiset of the title's numbers (normalised), years excluded."""
    return Counter(a.raw for a in amounts(text))


def to_latin(word: str) -> str:
    """Latin spelling of a word (Cyrillic transliterated), lower-case, no punctuation."""
    latin = cyrtranslit.to_latin(word, "ru") if CYRILLIC.search(word) else word
    return re.sub(r"[^a-z0-9]", "", latin.lower())


_SOUNDS = (("ph", "f"), ("ch", "c"), ("sh", "s"), ("x", "ks"), ("w", "v"), ("q", "k"),
           ("c", "k"), ("y", "i"), ("j", "i"), ("h", ""))


def skeleton(latin: str) -> str:
    """A rough sound skeleton of a Latin word, so 'galaxy' and 'galaksi' (Галакси), 'huawei'
    and 'huavej' (Хуавей) compare equal: spellings that transliteration moves apart."""
    out = latin.lower()
    for a, b in _SOUNDS:
        out = out.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", out)


def to_cyrillic(word: str) -> str | None:
    """Cyrillic spelling of a Latin word, or None when it cannot be written fully in Cyrillic."""
    out = cyrtranslit.to_cyrillic(word, "ru")
    out = "".join(_LAT2CYR_REST.get(ch.lower(), ch) if LATIN.match(ch) else ch for ch in out)
    return None if LATIN.search(out) else out


def model_words(text: str) -> set[str]:
    """Latin-script identity words, lower-case, letter runs only (digits go to `numbers`).

    A unit's spelling is a unit only beside a number ("64GB", "20 W"); standing alone it is
    a model word: the "M" and "L" of a glove size are no metre or litre."""
    out: set[str] = set()
    previous = ""
    for word in words(text):
        beside_number = previous[-1:].isdigit() or any(c.isdigit() for c in word)
        previous = word
        if not LATIN.search(word) or CYRILLIC.search(word):
            continue
        for part in re.findall(r"[a-z]+", re.sub(r"[-'’.]", "", word.lower())):
            if not (part in UNIT_WORDS and beside_number) and part not in NON_IDENTITY:
                out.add(part)
    return out


@lru_cache(maxsize=65536)
def _latin_vocab(text: str) -> tuple[tuple[str, bool], ...]:
    """Every word of a title as (Latin sound skeleton, came from Cyrillic)."""
    out = []
    for word in words(text):
        cyr = bool(CYRILLIC.search(word))
        out.extend((skeleton(w), cyr) for w in re.findall(r"[a-z]+", to_latin(word)))
    return tuple(out)


def _close(a: str, b: str, loose: bool) -> bool:
    """Edit distance ≤ 1, or ≤ 2 for a transliterated word of 4+ letters (Хаеир ~ Haier)."""
    if a == b:
        return True
    limit = 2 if loose and max(len(a), len(b)) >= 4 else 1
    if abs(len(a) - len(b)) > limit or min(len(a), len(b)) < 3:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= limit


def unmatched_words(mine: set[str], other_text: str) -> set[str]:
    """Model words with no close spelling in the other title (joined or split codes count:
    'wifi' is found in 'Wi Fi', 'wi' in 'WiFi'). A one-letter word ("S", the "d" of "3D")
    is found only as a word of its own or at either end of a Latin word ("x" in "X-Pert"):
    inside the joined words any letter is found, and a glove of size S was the same product
    as one of size M ("смотровые" holds an "s")."""
    vocab = _latin_vocab(other_text)
    joined = "".join(v for v, _ in vocab)

    def found(word: str) -> bool:
        sound = skeleton(word)
        if len(word) < 2:  # a word of its own, or the end of a Latin code ("X" of "X-Pert")
            return any(v == sound or not cyr and (v.startswith(sound) or v.endswith(sound))
                       for v, cyr in vocab)
        return sound in joined or any(_close(sound, v, cyr) for v, cyr in vocab)

    return {w for w in mine if not found(w)}


def letter_marks(text: str) -> set[str]:
    """The title's letter sizes and grades, as written (upper case only: a lower-case
    letter alone is a preposition or a unit more often than a size)."""
    return set(LETTER_MARK.findall(text))


def same_identity(a: str, b: str) -> bool | None:
    """True: no identity conflict; False: a number or model word differs; None: unknown.

    Numbers are compared as amounts (`tuning.quantity`: 500 мл = 0,5 л) and conflict only
    when each title has one the other lacks (one title omitting the memory size is not
    evidence of another product); letter sizes and grades ("S" / "M", "база A" / "база C")
    conflict when both titles give one and they differ. Model words conflict when both
    titles have one the other lacks, or when the one-sided word is a sibling modifier ("15"
    vs "15 Pro"); a one-sided brand or line name ("Vichy", "Google TV") is only omitted
    information, so unknown.
    """
    left, right = unmatched(amounts(a), amounts(b))
    marks_a, marks_b = letter_marks(a), letter_marks(b)
    if (left and right) or (marks_a and marks_b and marks_a != marks_b):
        return False
    only_a, only_b = unmatched_words(model_words(a), b), unmatched_words(model_words(b), a)
    if (only_a and only_b) or (only_a | only_b) & MODIFIERS:
        return False
    return True if not (left or right or only_a or only_b) else None
