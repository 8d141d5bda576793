"""Plotly figures for the LoRA explorer tab; data comes from `comparison.explorer`.

Colours are fixed across views (base grey, LoRA orange, Δ diverging red/blue centred
on zero) so a reader learns them once. Difference maps use a symmetric colour range,
otherwise a tiny shift would look as strong as a large one.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BASE, LORA = "#7f7f7f", "#ff7f0e"
DIVERGING = "RdBu_r"


def _symmetric(values: np.ndarray) -> float:
    peak = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    return peak if peak > 0 else 1e-9


def top_k_figure(table: pd.DataFrame, title: str = "Next token: base vs LoRA") -> go.Figure:
    """Grouped bars of base and LoRA probabilities plus a Δ panel, for the top-k table."""
    labels = [repr(t)[1:-1] or "∅" for t in table["token"]]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.65, 0.35],
                        subplot_titles=("probability", "Δ = LoRA − base"))
    fig.add_bar(y=labels, x=table["base"], name="base", orientation="h", marker_color=BASE, row=1, col=1)
    fig.add_bar(y=labels, x=table["lora"], name="LoRA", orientation="h", marker_color=LORA, row=1, col=1)
    colors = ["#d62728" if d > 0 else "#1f77b4" for d in table["delta"]]
    fig.add_bar(y=labels, x=table["delta"], name="Δ", orientation="h", marker_color=colors,
                showlegend=False, row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, barmode="group", height=max(300, 28 * len(labels) + 120))
    return fig


def keyword_figure(frame: pd.DataFrame, title: str = "Key-word probability along the answer") -> go.Figure:
    """Lines per key word: base dashed, LoRA solid, over the answer's steps."""
    fig = go.Figure()
    for word, sub in frame.groupby("word", sort=False):
        fig.add_scatter(x=sub["step"], y=sub["base"], mode="lines+markers", name=f"{word} (base)",
                        line=dict(dash="dash"), text=sub["token"])
        fig.add_scatter(x=sub["step"], y=sub["lora"], mode="lines+markers", name=f"{word} (LoRA)",
                        text=sub["token"])
    fig.update_layout(title=title, xaxis_title="answer step (token generated so far)",
                      yaxis_title="P(next token starts the word)")
    return fig


def attention_figure(base: np.ndarray, lora: np.ndarray, query_labels: list[str],
                     key_labels: list[str], title: str = "Attention over tokens") -> go.Figure:
    """Three heatmaps (base, LoRA, Δ) of queries × keys."""
    delta = lora - base
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=("base", "LoRA", "Δ"))
    top = float(max(base.max(), lora.max(), 1e-9))
    for col, (z, scale, lo, hi) in enumerate(
            [(base, "Greys", 0, top), (lora, "Oranges", 0, top),
             (delta, DIVERGING, -_symmetric(delta), _symmetric(delta))], start=1):
        fig.add_heatmap(z=z, x=key_labels, y=query_labels, colorscale=scale, zmin=lo, zmax=hi,
                        showscale=col == 3, row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, height=max(350, 18 * len(query_labels) + 150))
    return fig


def image_attention_figure(image: Any, base: np.ndarray, lora: np.ndarray,
                           title: str = "Attention over the image") -> go.Figure:
    """The image three times with base / LoRA / Δ patch attention laid over it."""
    img = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    h, w = img.shape[:2]
    delta = lora - base
    fig = make_subplots(rows=1, cols=3, subplot_titles=("base", "LoRA", "Δ"))
    top = float(max(base.max(), lora.max(), 1e-9))
    rows, cols = base.shape
    xs = (np.arange(cols) + 0.5) * w / cols
    ys = (np.arange(rows) + 0.5) * h / rows
    for col, (z, scale, lo, hi) in enumerate(
            [(base, "Viridis", 0, top), (lora, "Viridis", 0, top),
             (delta, DIVERGING, -_symmetric(delta), _symmetric(delta))], start=1):
        fig.add_image(z=img, row=1, col=col)
        fig.add_heatmap(z=z, x=xs, y=ys, colorscale=scale, zmin=lo, zmax=hi, opacity=0.55,
                        showscale=col == 3, row=1, col=col)
    fig.update_layout(title=title, height=380)
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return fig


def layer_shift_figure(shift: np.ndarray, title: str = "Attention shift per layer") -> go.Figure:
    """JS divergence of base vs LoRA attention per layer."""
    fig = go.Figure(go.Scatter(x=list(range(len(shift))), y=shift, mode="lines+markers",
                               line=dict(color=LORA)))
    fig.update_layout(title=title, xaxis_title="layer",
                      yaxis_title="JS divergence (nats, mean over heads and tokens)")
    return fig


def anatomy_figure(grid: pd.DataFrame, title: str = "Where the adapter writes: ‖ΔW‖") -> go.Figure:
    """Heatmap layer × module of the LoRA update's Frobenius norm."""
    fig = go.Figure(go.Heatmap(z=grid.values, x=list(grid.columns), y=list(grid.index),
                               colorscale="Oranges", colorbar=dict(title="‖ΔW‖")))
    fig.update_layout(title=title, xaxis_title="module", yaxis_title="layer")
    return fig


def singular_values_figure(anatomy: pd.DataFrame, title: str = "Singular values of ΔW") -> go.Figure:
    """One line per LoRA module: how many of the r directions the update really uses."""
    fig = go.Figure()
    for _, row in anatomy.iterrows():
        fig.add_scatter(y=row["singular_values"], mode="lines", opacity=0.5,
                        name=f"{row['part']} L{row['layer']} {row['module']}")
    fig.update_layout(title=title, xaxis_title="index", yaxis_title="singular value",
                      yaxis_type="log", showlegend=len(anatomy) <= 20)
    return fig


def prompt_vs_lora_figure(table: pd.DataFrame, title: str = "Prompt vs LoRA") -> go.Figure:
    """Bars of the next-token probabilities: base, base + context, base + LoRA."""
    labels = [repr(t)[1:-1] or "∅" for t in table["token"]]
    fig = go.Figure()
    fig.add_bar(y=labels, x=table["base"], name="base", orientation="h", marker_color=BASE)
    fig.add_bar(y=labels, x=table["context"], name="base + context", orientation="h",
                marker_color="#2ca02c")
    fig.add_bar(y=labels, x=table["lora"], name="base + LoRA", orientation="h", marker_color=LORA)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, barmode="group", height=max(300, 30 * len(labels) + 120))
    return fig
