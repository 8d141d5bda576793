"""Training loss chart: raw per-step loss (faint) and an exponentially smoothed line.

Per-step TSDAE loss is noisy (each step sees new random deletions), so the trend a person
should read is the smoothed line; the raw points stay visible so nothing is hidden.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

RAW, SMOOTH = "#c7c7c7", "#ff7f0e"
DEFAULT_LABELS: dict[str, str] = {"title": "TSDAE reconstruction loss", "step": "step",
                                  "loss": "cross-entropy", "raw": "loss per step",
                                  "smoothed": "smoothed"}


def smooth(values: Sequence[float], weight: float = 0.9) -> np.ndarray:
    """Bias-corrected exponential moving average (TensorBoard's smoothing)."""
    out, avg = np.empty(len(values)), 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * float(v)
        out[i] = avg / (1 - weight ** (i + 1))
    return out


def loss_curve(steps: Sequence[int], losses: Sequence[float],
               labels: Sequence[str] | None = None,
               names: dict[str, str] | None = None) -> go.Figure:
    """Loss vs step; `labels` (one per step, e.g. 'epoch 1') show on hover; `names` the words."""
    lab = {**DEFAULT_LABELS, **(names or {})}
    if len(steps) != len(losses):
        raise ValueError("steps and losses must have the same length")
    fig = go.Figure()
    fig.add_scatter(x=list(steps), y=list(losses), mode="lines+markers" if len(losses) < 50 else "lines",
                    name=lab["raw"], line={"color": RAW, "width": 1}, marker={"size": 4},
                    text=list(labels) if labels is not None else None)
    if len(losses):
        weight = min(0.95, max(0.0, 1 - 10 / max(len(losses), 1)))
        fig.add_scatter(x=list(steps), y=smooth(losses, weight), mode="lines", name=lab["smoothed"],
                        line={"color": SMOOTH, "width": 3})
    fig.update_layout(title=lab["title"], xaxis_title=lab["step"],
                      yaxis_title=lab["loss"], height=320, margin={"t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.25})
    return fig
