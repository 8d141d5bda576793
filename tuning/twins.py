"""Catalog twins: one product written by another seller, found in the catalog itself.

Why: the augmentations (`tuning.augment`) respell a title — script, order, units, case,
filler — but cannot reword it: "Зарядка Анкер 20W быстрая" and "Сетевое зарядное
устройство Anker 20 Вт, белое" share no rewrite. A marketplace catalog often holds such
other wordings of one product, unlabelled. Training a title against its twin as the positive teaches exactly
the invariance that matching across sellers needs, in the catalog's own words.

A twin of title `a` is the nearest title `b` (base encoder, among `k` neighbours) that:
- has the same identity (`tuning.identity.same_identity` is True: every amount, letter
  size and model word of each is found in the other; "500 мл" = "0,5 л", "S" ≠ "M");
- shares evidence, not only an absence: a model word, or an amount written with a unit in
  both (a bare "15" beside "15 м" is no evidence);
- is not a template sibling (`tuning.siblings`): not the same words around one short span
  that differs ("… апельсиновый 1 л" / "… яблочный 1 л", "Rexona Нежно и сочно спрей" / "Rexona Яркий
  букет спрей", "… песок 1000 г" / "… песок тростниковый 1000 г"), unless the span differs
  only in colour, filler, word order or script ("Сони" / "Sony");
- names no other gender ("муж." / "жен."), when both name one;
- has no variant-word conflict: no word of `a` missing from `b` whose catalog alternatives
  (`tuning.variants.VariantMaker`, learned from one-word siblings; one pair is enough)
  start like a word of `b` missing from `a` ("апельсиновый" vs "яблоко": flavours that the
  catalog's siblings swap).

Precision matters more than coverage: a wrong twin teaches that two variants are one
product, the very mistake this tuning exists to fix. Most titles get no twin.
"""
from __future__ import annotations

import re

import numpy as np

from tuning.identity import model_words, same_identity, unmatched_words
from tuning.neighbours import first_neighbour
from tuning.quantity import amounts, unmatched
from tuning.siblings import stem, stems, template_sibling
from tuning.variants import SIBLING_MAX_WORDS, WORD_TOKEN, VariantMaker

_GENDER = re.compile(r"\b(муж|жен|мальч|девоч)\w*|\b(?:wo)?men\b", re.IGNORECASE)


def _evidence(a: str, b: str) -> bool:
    """Something both titles state: a shared model word or a shared amount with a unit."""
    return _states(a, b) or _states(b, a)


def _states(a: str, b: str) -> bool:
    """A model word (two letters or more: a lone "d" of "3D" is found at the end of any Latin
    word, "Android" among them) or a unit amount of `a` that `b` states too."""
    mine = {w for w in model_words(a) if len(w) > 1}
    if mine and len(unmatched_words(mine, b)) < len(mine):
        return True
    with_unit = tuple(x for x in amounts(a) if x.unit)
    if not with_unit:
        return False
    left, _ = unmatched(with_unit, tuple(x for x in amounts(b) if x.unit))
    return len(left) < len(with_unit)


def _variant_conflict(a: str, b: str, maker: VariantMaker) -> bool:
    """A word of one title (not in the other) whose catalog alternatives include a word of
    the other (not in the first)."""
    wa, wb = set(WORD_TOKEN.findall(a.lower())), set(WORD_TOKEN.findall(b.lower()))
    stems_a, stems_b = stems(wa), stems(wb)
    only_a = {w for w in wa if stem(w) not in stems_b}
    only_b = {w for w in wb if stem(w) not in stems_a}
    if not only_a or not only_b:
        return False
    return any(stems(set(maker.alternatives.get(w, ()))) & stems(rivals)
               for mine, rivals in ((only_a, only_b), (only_b, only_a)) for w in mine)


def _genders_differ(a: str, b: str) -> bool:
    """Both titles name a gender ("муж." / "жен."), and not the same one (one-sided is fine;
    letter sizes and grades are `same_identity`'s)."""
    ga, gb = ({m.group().lower()[:3] for m in _GENDER.finditer(t)} for t in (a, b))
    return bool(ga and gb and ga != gb)


def is_twin(a: str, b: str, maker: VariantMaker) -> bool:
    """All the rules above for one pair (the neighbour search is `find_twins`)."""
    return (a.lower() != b.lower() and same_identity(a, b) is True and _evidence(a, b)
            and not template_sibling(a, b) and not _genders_differ(a, b)
            and not _variant_conflict(a, b, maker))


def find_twins(texts: list[str], base_emb: np.ndarray, k: int = 10,
               chunk: int = 2048) -> list[int | None]:
    """For each title, its nearest twin among `k` base neighbours (index), or None.

    Variant words are learned from a single sibling pair here (two for the negatives that
    `tuning.variants` makes): a word the catalog swaps even once is enough to refuse a twin.
    A text of more than `SIBLING_MAX_WORDS` words is a description, not a title: it has no
    twin and is no twin (and a hostile file of long rows costs no more than a catalog)."""
    maker = VariantMaker.learn(texts, min_support=1)
    short = [len(t.split()) <= SIBLING_MAX_WORDS for t in texts]
    return first_neighbour(
        base_emb, k, lambda i, j: short[i] and short[j] and is_twin(texts[i], texts[j], maker),
        chunk)
