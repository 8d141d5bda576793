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
# Every visible word; the UI passes the user's language (ui/locales.py chart_labels).
DEFAULT_LABELS: dict[str, str] = {
    "base": "base", "lora": "LoRA", "delta": "Δ", "probability": "probability",
    "delta_lora_base": "Δ = LoRA − base", "topk_title": "Next token: base vs LoRA",
    "kw_title": "Key-word probability along the answer",
    "kw_x": "answer step (token generated so far)", "kw_y": "P(next token starts the word)",
    "att_title": "Attention over tokens, layer {layer}", "img_title": "Attention over the image",
    "shift_title": "Attention shift per layer", "layer": "layer",
    "js_axis": "JS divergence (nats, mean over heads and tokens)",
    "anat_title": "Where the adapter writes: ‖ΔW‖", "module": "module",
    "sv_title": "Singular values of ΔW", "index": "index", "singular": "singular value",
    "pvl_title": "Prompt vs LoRA", "base_context": "base + context", "base_lora": "base + LoRA",
}


def _labels(labels: dict[str, str] | None) -> dict[str, str]:
    return {**DEFAULT_LABELS, **(labels or {})}


def _symmetric(values: np.ndarray) -> float:
    peak = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    return peak if peak > 0 else 1e-9


def top_k_figure(table: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Grouped bars of base and LoRA probabilities plus a Δ panel, for the top-k table."""
    lab = _labels(labels)
    title = lab["topk_title"]
    labels = [repr(t)[1:-1] or "∅" for t in table["token"]]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.65, 0.35],
                        subplot_titles=(lab["probability"], lab["delta_lora_base"]))
    fig.add_bar(y=labels, x=table["base"], name=lab["base"], orientation="h", marker_color=BASE, row=1, col=1)
    fig.add_bar(y=labels, x=table["lora"], name=lab["lora"], orientation="h", marker_color=LORA, row=1, col=1)
    colors = ["#d62728" if d > 0 else "#1f77b4" for d in table["delta"]]
    fig.add_bar(y=labels, x=table["delta"], name="Δ", orientation="h", marker_color=colors,
                showlegend=False, row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, barmode="group", height=max(300, 28 * len(labels) + 120))
    return fig


def keyword_figure(frame: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Lines per key word: base dashed, LoRA solid, over the answer's steps."""
    lab = _labels(labels)
    fig = go.Figure()
    for word, sub in frame.groupby("word", sort=False):
        fig.add_scatter(x=sub["step"], y=sub["base"], mode="lines+markers", name=f"{word} ({lab['base']})",
                        line=dict(dash="dash"), text=sub["token"])
        fig.add_scatter(x=sub["step"], y=sub["lora"], mode="lines+markers", name=f"{word} ({lab['lora']})",
                        text=sub["token"])
    fig.update_layout(title=lab["kw_title"], xaxis_title=lab["kw_x"], yaxis_title=lab["kw_y"])
    return fig


def attention_figure(base: np.ndarray, lora: np.ndarray, query_labels: list[str],
                     key_labels: list[str], layer: int = 0,
                     labels: dict[str, str] | None = None) -> go.Figure:
    """Three heatmaps (base, LoRA, Δ) of queries × keys."""
    lab = _labels(labels)
    title = lab["att_title"].format(layer=layer)
    delta = lora - base
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True,
                        subplot_titles=(lab["base"], lab["lora"], lab["delta"]))
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
                           labels: dict[str, str] | None = None) -> go.Figure:
    """The image three times with base / LoRA / Δ patch attention laid over it."""
    lab = _labels(labels)
    title = lab["img_title"]
    img = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    h, w = img.shape[:2]
    delta = lora - base
    fig = make_subplots(rows=1, cols=3, subplot_titles=(lab["base"], lab["lora"], lab["delta"]))
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


def layer_shift_figure(shift: np.ndarray, labels: dict[str, str] | None = None) -> go.Figure:
    """JS divergence of base vs LoRA attention per layer."""
    lab = _labels(labels)
    fig = go.Figure(go.Scatter(x=list(range(len(shift))), y=shift, mode="lines+markers",
                               line=dict(color=LORA)))
    fig.update_layout(title=lab["shift_title"], xaxis_title=lab["layer"], yaxis_title=lab["js_axis"])
    return fig


def anatomy_figure(grid: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Heatmap layer × module of the LoRA update's Frobenius norm."""
    lab = _labels(labels)
    fig = go.Figure(go.Heatmap(z=grid.values, x=list(grid.columns), y=list(grid.index),
                               colorscale="Oranges", colorbar=dict(title="‖ΔW‖")))
    fig.update_layout(title=lab["anat_title"], xaxis_title=lab["module"], yaxis_title=lab["layer"])
    return fig


def singular_values_figure(anatomy: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """One line per LoRA module: how many of the r directions the update really uses."""
    lab = _labels(labels)
    fig = go.Figure()
    for _, row in anatomy.iterrows():
        fig.add_scatter(y=row["singular_values"], mode="lines", opacity=0.5,
                        name=f"{row['part']} L{row['layer']} {row['module']}")
    fig.update_layout(title=lab["sv_title"], xaxis_title=lab["index"], yaxis_title=lab["singular"],
                      yaxis_type="log", showlegend=len(anatomy) <= 20)
    return fig


def prompt_vs_lora_figure(table: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Bars of the next-token probabilities: base, base + context, base + LoRA."""
    lab = _labels(labels)
    title = lab["pvl_title"]
    labels = [repr(t)[1:-1] or "∅" for t in table["token"]]
    fig = go.Figure()
    fig.add_bar(y=labels, x=table["base"], name=lab["base"], orientation="h", marker_color=BASE)
    fig.add_bar(y=labels, x=table["context"], name=lab["base_context"], orientation="h",
                marker_color="#2ca02c")
    fig.add_bar(y=labels, x=table["lora"], name=lab["base_lora"], orientation="h", marker_color=LORA)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, barmode="group", height=max(300, 30 * len(labels) + 120))
    return fig
