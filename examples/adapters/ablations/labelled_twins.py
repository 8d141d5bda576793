"""Ablation (not kept): a ceiling for any adapter shipped before the user's catalog exists.

`python examples/adapters/ablations/labelled_twins.py examples/dev_variants.csv -- train
--corpus titles.txt --out X --twin-positives 1 --sibling-negatives 1` — the catalog twins
(`tuning.twins.find_twins`) are replaced by the labels of the given dev files: titles linked
by a query → positive row are one product, so each title's positive is, every time, a real
other seller's wording of it, and its same-template siblings are its negatives. Trained on
one hand-written set and scored on the other, it asks how far even labelled data of exactly
this task carries to categories the adapter never saw — the situation of the shipped default
on a visitor's catalog (examples/adapters/README.md, "A ceiling on unseen categories").
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import networkx as nx
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import tuning.objectives as objectives  # noqa: E402
from tuning.cli import cli  # noqa: E402


def product_of(label_files: list[str]) -> dict[str, int]:
    """Each labelled title → its product's number (titles joined by query → positive rows)."""
    graph = nx.Graph()
    for f in label_files:
        d = pd.read_csv(f)
        graph.add_edges_from(zip(d["query"], d["positive"]))
    return {t: k for k, titles in enumerate(nx.connected_components(graph)) for t in titles}


def labelled_twins(products: dict[str, int]):
    """A `find_twins` stand-in: a random other title of the same labelled product, or None."""
    def twins(texts: list[str], base_emb, **_: object) -> list[int | None]:
        groups: dict[int, list[int]] = {}
        for i, t in enumerate(texts):
            if t in products:
                groups.setdefault(products[t], []).append(i)
        rng = random.Random(0)
        mates = [[j for j in groups.get(products.get(t, -1), []) if j != i] for i, t in enumerate(texts)]
        return [rng.choice(m) if m else None for m in mates]
    return twins


if __name__ == "__main__":
    cut = sys.argv.index("--")
    objectives.find_twins = labelled_twins(product_of(sys.argv[1:cut]))
    raise SystemExit(cli(sys.argv[cut + 1:]))
