"""The hand-written variant dev sets stay what they claim: unseen categories, unseen titles.

Why: they measure whether an adapter tells same-template variants apart in categories it
never saw (issue #18). A category or title that slips into the training corpus, or a title
reused across rows, would make that number flatter the adapter without anyone noticing.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SETS = {"dev_variants.csv": 17, "dev_variants_b.csv": 15}


@pytest.mark.parametrize("name,categories", SETS.items())
def test_variant_set_is_unseen_and_uses_every_title_once(name: str, categories: int) -> None:
    dev = pd.read_csv(EXAMPLES / name, dtype=str, keep_default_na=False)
    corpus = pd.read_csv(EXAMPLES / "products_corpus.csv", dtype=str, keep_default_na=False)
    assert list(dev.columns) == ["query", "positive", "hard_negative", "category"]
    assert dev["category"].nunique() == categories and (dev.groupby("category").size() == 3).all()
    titles = pd.concat([dev["query"], dev["positive"], dev["hard_negative"]])
    assert titles.nunique() == 3 * len(dev)  # three products × three sellers, each title once
    assert not set(dev["category"]) & set(corpus["category"])
    assert not set(titles.str.lower()) & set(corpus["title"].str.lower())


def test_the_two_variant_sets_share_no_category() -> None:
    cats = [set(pd.read_csv(EXAMPLES / n, dtype=str)["category"]) for n in SETS]
    assert not cats[0] & cats[1]
