"""Retrieval metrics of an encoder on a labelled set, as plain numbers.

Shared by the app (base vs adapter from the ONE loaded DualEncoder, `comparison.dev_eval`)
and the CLI (`tuning.evaluate`, its own model), so both score with the same rules.

Two labelled formats are accepted:
- pairs: columns query, positive, hard_negative[, category]. Recall@1 and MRR rank each
  query against ALL positives; hard-negative AUC asks how often sim(q, pos) beats
  sim(q, hard_neg); mean cosine is over all pairs of distinct texts (lower = less crowded
  space, the seed report's "mean cosine").
- groups: columns text, group. Recall@1 / MRR: nearest other text in the same group;
  AUC: same-group pairs vs different-group pairs.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

METRICS = ["recall@1", "mrr", "hard_neg_auc", "mean_cosine"]


def _mean_offdiag(emb: np.ndarray) -> float:
    sims = emb @ emb.T
    n = len(emb)
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1))) if n > 1 else float("nan")


def pair_metrics(q: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> dict[str, float]:
    """Metrics from normalised embeddings of aligned (query, positive, hard negative) rows."""
    sims = q @ pos.T
    own = np.diag(sims)
    rank = (sims > own[:, None]).sum(1) + 1
    pos_sim, neg_sim = own, (q * neg).sum(1)
    labels = np.r_[np.ones(len(pos_sim)), np.zeros(len(neg_sim))]
    distinct = np.unique(np.concatenate([q, pos, neg]), axis=0)
    return {"recall@1": float((rank == 1).mean()), "mrr": float((1.0 / rank).mean()),
            "hard_neg_auc": float(roc_auc_score(labels, np.r_[pos_sim, neg_sim])),
            "mean_cosine": _mean_offdiag(distinct)}


def group_metrics(emb: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Metrics from normalised embeddings of texts with group labels."""
    sims = emb @ emb.T
    np.fill_diagonal(sims, -np.inf)
    same = groups[:, None] == groups[None, :]
    np.fill_diagonal(same, False)
    has_mate = same.any(1)
    order = np.argsort(-sims, axis=1)
    first_hit = np.argmax(np.take_along_axis(same, order, 1), axis=1) + 1
    iu = np.triu_indices(len(emb), 1)
    return {"recall@1": float((first_hit[has_mate] == 1).mean()),
            "mrr": float((1.0 / first_hit[has_mate]).mean()),
            "hard_neg_auc": float(roc_auc_score(same[iu], sims[iu])),
            "mean_cosine": float(sims[iu].mean())}


def read_dev(dev_csv: Path) -> pd.DataFrame:
    """The labelled set; ValueError when it has neither the pairs nor the groups columns."""
    frame = pd.read_csv(dev_csv, dtype=str, keep_default_na=False)
    cols = set(frame.columns)
    if not ({"query", "positive", "hard_negative"} <= cols or {"text", "group"} <= cols):
        raise ValueError(f"dev set needs columns query, positive, hard_negative (or text, group); "
                         f"it has {sorted(cols)}")
    return frame


def dev_metrics(encode: Callable[[list[str]], np.ndarray], dev: pd.DataFrame) -> dict[str, float]:
    """Metrics of a dev frame (pairs or groups) under any text → normalised-vector function.

    Taking the encoder as a function lets the CLI (its own model) and the app (the shared
    DualEncoder, adapter on or off) score with the same rules.
    """
    if "query" in dev.columns:
        return pair_metrics(encode(dev["query"].astype(str).tolist()),
                            encode(dev["positive"].astype(str).tolist()),
                            encode(dev["hard_negative"].astype(str).tolist()))
    return group_metrics(encode(dev["text"].astype(str).tolist()), dev["group"].to_numpy())
