"""An honest verdict without labels: a few pairs from the user's own catalog, marked by hand.

How pairs are chosen (said to the user too): most come from titles where the base and the
adapter put a DIFFERENT title first — for such a title both first hits are shown, so one mark
each tells which model was right; the disputed titles are taken in order of how strongly
each model prefers its own first hit over the other's. The rest are titles picked at random,
with their first hit(s), so agreement is sampled too.

What the marks give: per title, a model "put the right one first" when its first hit was
marked *same*, and not when marked *different* (*not sure* counts for neither). The verdict
counts both, gives each a Wilson 95 % interval, and decides with an exact two-sided sign test
on the titles where exactly one model was right (McNemar's test in its exact form): with few
marks it says "cannot tell yet" instead of guessing. The counts describe the pairs chosen —
mostly disputed ones — not the whole catalog, and the verdict says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from comparison.catalog.index import CatalogError
from comparison.catalog.moved import Moved

MARKS = ("same", "different", "unsure")
ALPHA = 0.05


def propose_pairs(titles: list[str], base: np.ndarray, tuned: np.ndarray, moved: Moved,
                  n_pairs: int = 20, random_share: float = 0.2, seed: int = 0) -> pd.DataFrame:
    """About `n_pairs` (query, candidate) pairs: disputed first hits, then random titles.

    Columns: pair, query, candidate, q_row, c_row, base_first, tuned_first, source.
    """
    b1, t1 = moved.base_idx[:, 0], moved.tuned_idx[:, 0]
    q = moved.rows
    strength = ((tuned[q] * tuned[t1]).sum(1) - (tuned[q] * tuned[b1]).sum(1)
                + (base[q] * base[b1]).sum(1) - (base[q] * base[t1]).sum(1))
    disputed = np.flatnonzero(b1 != t1)
    disputed = disputed[np.argsort(-strength[disputed], kind="stable")]
    n_disputed = min(len(disputed), int(round(n_pairs * (1 - random_share) / 2)))
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    seen: set[frozenset[int]] = set()

    def add(i: int, source: str) -> None:
        for cand in dict.fromkeys([int(b1[i]), int(t1[i])]):  # base's first, then the adapter's
            key = frozenset((int(q[i]), cand))
            if key in seen:
                continue
            seen.add(key)
            rows.append((titles[q[i]], titles[cand], int(q[i]), cand, cand == int(b1[i]),
                         cand == int(t1[i]), source))

    for i in disputed[:n_disputed]:
        add(int(i), "disputed")
    rest = np.setdiff1d(np.arange(len(q)), disputed[:n_disputed])
    for i in rng.permutation(rest):
        if len(rows) >= n_pairs:
            break
        add(int(i), "random")
    frame = pd.DataFrame(rows, columns=["query", "candidate", "q_row", "c_row", "base_first",
                                        "tuned_first", "source"])
    frame.insert(0, "pair", np.arange(1, len(frame) + 1))
    return frame


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for k successes in n (sound at small n, unlike ±1.96·SE)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


@dataclass(frozen=True)
class LabelFreeVerdict:
    """What the marks say; `outcome` is "better", "worse" or "unclear"."""

    n_marked: int
    n_titles: int
    base_right: int
    tuned_right: int
    tuned_only: int
    base_only: int
    p_value: float
    base_ci: tuple[float, float]
    tuned_ci: tuple[float, float]
    outcome: str
    n_disputed: int
    n_random: int


def _clean_marks(proposal: pd.DataFrame, marks: dict[int, str]) -> dict[int, str]:
    out = {}
    for pair, mark in marks.items():
        if mark not in MARKS:
            raise ValueError(f"a mark must be one of {MARKS}, got {mark!r}")
        out[int(pair)] = mark
    unknown = set(out) - set(proposal["pair"].astype(int))
    if unknown:
        raise ValueError(f"unknown pair numbers: {sorted(unknown)}")
    return out


def judge(proposal: pd.DataFrame, marks: dict[int, str]) -> LabelFreeVerdict:
    """Count, per title, whose first hit was marked the same product; test the difference."""
    marks = _clean_marks(proposal, marks)
    marked = proposal[proposal["pair"].isin([p for p, m in marks.items() if m != "unsure"])]
    right: dict[int, dict[str, bool]] = {}
    for row in marked.itertuples():
        same = marks[int(row.pair)] == "same"
        for model, first in (("base", row.base_first), ("tuned", row.tuned_first)):
            if first:
                right.setdefault(int(row.q_row), {})[model] = same
    both = [r for r in right.values() if len(r) == 2]
    base_right = sum(r["base"] for r in both)
    tuned_right = sum(r["tuned"] for r in both)
    tuned_only = sum(r["tuned"] and not r["base"] for r in both)
    base_only = sum(r["base"] and not r["tuned"] for r in both)
    discordant = tuned_only + base_only
    p = float(binomtest(tuned_only, discordant, 0.5).pvalue) if discordant else 1.0
    outcome = "unclear" if p >= ALPHA else ("better" if tuned_only > base_only else "worse")
    sources = proposal.drop_duplicates("q_row")["source"].value_counts()
    return LabelFreeVerdict(len(marked), len(both), base_right, tuned_right, tuned_only, base_only,
                            p, wilson(base_right, len(both)), wilson(tuned_right, len(both)), outcome,
                            int(sources.get("disputed", 0)), int(sources.get("random", 0)))


def marks_to_groups(proposal: pd.DataFrame, marks: dict[int, str]) -> pd.DataFrame:
    """The marks as a (text, group) file the evaluation panel reads (`retrieval.read_dev`).

    Titles marked *same* share a group (joined transitively); every other marked title has
    its own. Needs at least one *same* and one *different* mark, or no metric is defined.
    """
    marks = _clean_marks(proposal, marks)
    used = proposal[proposal["pair"].isin([p for p, m in marks.items() if m != "unsure"])]
    kinds = {marks[int(p)] for p in used["pair"]}
    if not {"same", "different"} <= kinds:
        raise CatalogError("Mark at least one pair 'same' and one 'different' to download a pairs file.",
                           "catalog_marks_both")
    texts = list(dict.fromkeys([*used["query"], *used["candidate"]]))
    graph = nx.Graph()
    graph.add_nodes_from(texts)
    graph.add_edges_from((row.query, row.candidate) for row in used.itertuples()
                         if marks[int(row.pair)] == "same")
    component = {x: k for k, part in enumerate(nx.connected_components(graph)) for x in part}
    number = {k: i + 1 for i, k in enumerate(dict.fromkeys(component[x] for x in texts))}
    return pd.DataFrame({"text": texts, "group": [f"g{number[component[x]]}" for x in texts]})
