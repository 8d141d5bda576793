"""Before/after retrieval metrics from the app's ONE shared model.

Why not `tuning.evaluate.evaluate`: that loads its own copy of the base; inside the app we
already hold the base with every adapter attached, so base and tuned numbers come from the
same weights (adapter disabled vs enabled), with no second model in memory.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from comparison.embeddings import DualEncoder
from comparison.retrieval import METRICS, dev_metrics, read_dev

MAX_DEV_ROWS = 2_000


def evaluate_dev(enc: DualEncoder, adapter: str | None, dev_csv: Path,
                 prefix: str = "query: ") -> pd.DataFrame:
    """Rows 'base' and 'base + adapter' × METRICS on a labelled csv (pairs or groups)."""
    dev = read_dev(Path(dev_csv))
    if len(dev) < 2:
        raise ValueError("The labelled set needs at least two rows.")
    if len(dev) > MAX_DEV_ROWS:
        raise ValueError(f"The labelled set has {len(dev):,} rows; the limit is {MAX_DEV_ROWS:,}.")
    models = {"base": None, **({"base + adapter": adapter} if adapter is not None else {})}
    rows = {label: dev_metrics(lambda texts, n=name: enc.embed(texts, prefix, n), dev)
            for label, name in models.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")[METRICS]
    frame.index.name = "model"
    return frame.reset_index()
