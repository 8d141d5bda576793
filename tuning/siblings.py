"""Template siblings: two titles written in one seller template with one slot changed.

Why one owner: two mined pairs need the same answer. A catalog twin (`tuning.twins`) must
not be a template sibling, and in a catalog that lists its variants in one template a
sibling is the hardest negative a title has (`tuning.contrastive.mine_hard_negatives`):
"Сок Добрый апельсиновый 1 л" / "Сок Добрый яблочный 1 л" share every number and model
word, so no identity rule (`tuning.identity`) tells them apart, yet they are two products.

A sibling pair has the same words before and after one short span (up to `SLOT` words on
each side) that differs in more than colour, filler, word order or script. Two spellings
of one word ("персик" / "персиковый", "олива" / "Olive") are one word here: their Latin
sound skeletons start with the same `STEM` letters.
"""
from __future__ import annotations

import os

from tuning.identity import NON_IDENTITY, skeleton, to_latin

SLOT = 3
"""A template's slot is at most this many words ("Нежно и сочно" / "Яркий букет")."""
STEM = 4
"""Two words whose Latin sound skeletons start with the same 4 letters are one word here
(inflection and script: "персик" / "персиковый", "олива" / "Olive")."""


def template_sibling(a: str, b: str) -> bool:
    """One template, one slot changed: the same words before and after a short span that
    differs in more than colour, filler, order or script."""
    wa, wb = a.lower().split(), b.lower().split()
    head = len(os.path.commonprefix([wa, wb]))
    tail = len(os.path.commonprefix([wa[head:][::-1], wb[head:][::-1]]))
    mid_a, mid_b = wa[head:len(wa) - tail], wb[head:len(wb) - tail]
    if head + tail == 0 or len(mid_a) > SLOT or len(mid_b) > SLOT:
        return False
    content = {w.strip(",.;:()") for w in mid_a + mid_b} - NON_IDENTITY - {""}
    if not content or sorted(mid_a) == sorted(mid_b):
        return False
    return stems(set(mid_a)) != stems(set(mid_b))


def stem(word: str) -> str:
    """A word's start in one script ("olive" and "олива" both start "oliv")."""
    return skeleton(to_latin(word))[:STEM]


def stems(words: set[str]) -> set[str]:
    return {stem(w) for w in words}
