"""Before/after retrieval metrics from the app's ONE shared model.

Why not `tuning.evaluate.evaluate`: that loads its own copy of the base; inside the app we
already hold the base with every adapter attached, so base and tuned numbers come from the
same weights (adapter disabled vs enabled), with no second model in memory.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from comparison.embeddings import DualEncoder
from comparison.matching import SWEEP_SCALES, sweep
from comparison.retrieval import METRICS, dev_metrics, read_dev

MAX_DEV_ROWS = 2_000


def _read(dev_csv: Path) -> pd.DataFrame:
    dev = read_dev(Path(dev_csv))
    if len(dev) < 2:
        raise ValueError("The labelled set needs at least two rows.")
    if len(dev) > MAX_DEV_ROWS:
        raise ValueError(f"The labelled set has {len(dev):,} rows; the limit is {MAX_DEV_ROWS:,}.")
    return dev


def evaluate_dev(enc: DualEncoder, adapter: str | None, dev_csv: Path,
                 prefix: str = "query: ", scale: float = 1.0) -> pd.DataFrame:
    """Rows 'base' and 'base + adapter' × METRICS on a labelled csv (pairs or groups).

    Any adapter the shared model holds can be scored (the default, an upload, a fresh
    training), at any strength. A labelled file is a bulk job: it runs in fp32 in this
    thread (as `tuning`'s evaluation does, so the numbers match), not in the shared passes.
    """
    dev = _read(dev_csv)
    models = {"base": None, **({"base + adapter": adapter} if adapter is not None else {})}
    rows = {label: dev_metrics(lambda texts, n=name: enc.embed(texts, prefix, n, scale, bulk=True), dev)
            for label, name in models.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")[METRICS]
    frame.index.name = "model"
    return frame.reset_index()


def sweep_dev(enc: DualEncoder, adapter: str, dev_csv: Path, prefix: str = "query: ",
              scales: tuple[float, ...] = SWEEP_SCALES) -> pd.DataFrame:
    """Metrics of one adapter at each strength in `scales` (0 = the base) on a labelled csv."""
    dev = _read(dev_csv)
    return sweep(lambda s: (lambda texts: enc.embed(texts, prefix, adapter, s, bulk=True)), dev, scales)
