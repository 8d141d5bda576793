"""Did the adapter make matching better? Answers from labels, never from mean cosine alone.

e5's cosines sit in 0.7–1.0 by design (InfoNCE at temperature 0.01) and only their order
matters, so "the mean cosine fell" says nothing about matching. What does:
- labelled pairs ("same product?" yes/no): a same-product pair should move up (or stay
  the closest), a different-product pair down — each row gets ✓/✗;
- a list with groups: Recall@1 / MRR / AUC of finding a same-group text, base vs tuned;
- a labelled file: the same metrics, and the adapter strength (0 … 1.5) that scores best.

Everything here returns data (frames, dataclasses); the UI words the verdict in the
user's language from `Verdict` fields.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from comparison.retrieval import METRICS, dev_metrics, group_metrics

HIGHER_IS_BETTER = {"recall@1": True, "mrr": True, "hard_neg_auc": True, "mean_cosine": None}
"""Which way is better for each metric; None: neither (the seed report's descriptive metric)."""
SWEEP_SCALES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def parse_same(value: object) -> bool | None:
    """A "same product?" cell: yes/да/1/true/✓ → True, no/нет/0/false/✗ → False, else None."""
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text in {"1", "yes", "y", "true", "да", "д", "✓", "+", "same", "одинаковые"}:
        return True
    if text in {"0", "no", "n", "false", "нет", "н", "✗", "-", "different", "разные"}:
        return False
    return None


def judge_pairs(frame: pd.DataFrame, same: Sequence[object]) -> pd.DataFrame:
    """Add `same` and `right_way` (True/False, None where unlabelled or no adapter).

    Right way: a same-product pair's cosine went up, a different-product pair's went down.
    """
    labels = [parse_same(v) for v in same] + [None] * max(0, len(frame) - len(same))
    out = frame.copy()
    out["same"] = labels[:len(frame)]
    moved = []
    for label, delta in zip(out["same"], out["delta"]):
        if label is None or delta is None or not np.isfinite(delta):
            moved.append(None)
        else:
            moved.append(bool(delta > 0) if label else bool(delta < 0))
    out["right_way"] = moved
    return out


@dataclass(frozen=True)
class PairTally:
    """'k of n labelled pairs moved the right way'."""

    right: int
    labelled: int


def tally(judged: pd.DataFrame) -> PairTally:
    marks = [m for m in judged["right_way"] if m is not None]
    return PairTally(sum(bool(m) for m in marks), len(marks))


def list_retrieval(emb_base: np.ndarray, emb_tuned: np.ndarray | None,
                   groups: Sequence[str] | None) -> pd.DataFrame | None:
    """Base vs tuned Recall@1 / MRR / AUC of a grouped list (None without ≥ 2 usable groups)."""
    if groups is None:
        return None
    labels = np.asarray([g or "" for g in groups], dtype=object)
    keep = labels != ""
    values, counts = np.unique(labels[keep], return_counts=True)
    if len(values) < 2 or not (counts >= 2).any():
        return None
    rows = {"base": group_metrics(emb_base[keep], labels[keep])}
    if emb_tuned is not None:
        rows["tuned"] = group_metrics(emb_tuned[keep], labels[keep])
    frame = pd.DataFrame.from_dict(rows, orient="index")[METRICS]
    frame.index.name = "model"
    return frame


@dataclass(frozen=True)
class Verdict:
    """One metric, before and after, and whether the change is an improvement."""

    metric: str
    base: float
    tuned: float
    better: bool | None  # None: the metric has no better direction (mean cosine) or no change


def verdicts(frame: pd.DataFrame, base_row: str = "base", tuned_row: str | None = None) -> list[Verdict]:
    """Per metric: base, tuned and which way it moved (from `HIGHER_IS_BETTER`)."""
    table = frame.set_index("model") if "model" in frame.columns else frame
    tuned_row = tuned_row or next(r for r in table.index if r != base_row)
    out = []
    for metric in METRICS:
        b, t = float(table.loc[base_row, metric]), float(table.loc[tuned_row, metric])
        up = HIGHER_IS_BETTER[metric]
        better = None if up is None or abs(t - b) < 1e-4 else (t > b) == up
        out.append(Verdict(metric, b, t, better))
    return out


def helped(items: list[Verdict]) -> bool | None:
    """True when Recall@1 and AUC both improved, False when either got worse, else None."""
    key = {v.metric: v.better for v in items}
    pair = (key.get("recall@1"), key.get("hard_neg_auc"))
    if pair == (True, True):
        return True
    if False in pair:
        return False
    return None


def sweep(encode_at: Callable[[float], Callable[[list[str]], np.ndarray]], dev: pd.DataFrame,
          scales: Sequence[float] = SWEEP_SCALES) -> pd.DataFrame:
    """Metrics at each adapter strength; `encode_at(scale)` gives that strength's encoder.

    Why: a LoRA that over-shoots is often best at a strength below 1 (WiSE-FT-style
    interpolation between the base and the adapter); the sweep finds it on labelled data.
    """
    rows = [{"scale": float(s), **dev_metrics(encode_at(float(s)), dev)} for s in scales]
    return pd.DataFrame(rows)


def best_scale(table: pd.DataFrame) -> float:
    """The strength with the best Recall@1 + hard-negative AUC (ties: the one nearest 1)."""
    score = table["recall@1"] + table["hard_neg_auc"]
    best = score.max()
    candidates = table[score >= best - 1e-9]
    return float(candidates.iloc[(candidates["scale"] - 1).abs().argsort()].iloc[0]["scale"])
