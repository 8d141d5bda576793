"""Before/after retrieval metrics from the app's ONE shared model.

Why not `tuning.evaluate.evaluate`: that loads its own copy of the base; inside the app we
already hold the base with every adapter attached, so base and tuned numbers come from the
same weights (adapter disabled vs enabled), with no second model in memory.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from comparison.embeddings import DualEncoder
from tuning.evaluate import METRICS, group_metrics, pair_metrics, read_dev

MAX_DEV_ROWS = 2_000


def evaluate_dev(enc: DualEncoder, adapter: str | None, dev_csv: Path,
                 prefix: str = "query: ") -> pd.DataFrame:
    """Rows 'base' and 'base + adapter' × METRICS on a labelled csv (pairs or groups)."""
    dev = read_dev(Path(dev_csv))
    if len(dev) < 2:
        raise ValueError("The labelled set needs at least two rows.")
    if len(dev) > MAX_DEV_ROWS:
        raise ValueError(f"The labelled set has {len(dev):,} rows; the limit is {MAX_DEV_ROWS:,}.")
    rows: dict[str, dict[str, float]] = {}
    for label, name in (("base", None), ("base + adapter", adapter)):
        if label != "base" and adapter is None:
            continue

        def emb(texts: pd.Series) -> np.ndarray:
            return enc.embed(texts.astype(str).tolist(), prefix, name)  # noqa: B023

        if "query" in dev.columns:
            rows[label] = pair_metrics(emb(dev["query"]), emb(dev["positive"]),
                                       emb(dev["hard_negative"]))
        else:
            rows[label] = group_metrics(emb(dev["text"]), dev["group"].to_numpy())
    frame = pd.DataFrame.from_dict(rows, orient="index")[METRICS]
    frame.index.name = "model"
    return frame.reset_index()
