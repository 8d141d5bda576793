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
    "kw_title": "Key-word probability along the LoRA's answer (both models read this text)",
    "kw_x": "answer step (token generated so far)", "kw_y": "P(next token starts the word)",
    "att_title": "Attention over tokens, layer {layer}, {head}", "mean_heads": "mean of heads",
    "head_n": "head {head}", "img_title": "Attention over the image, layer {layer}",
    "shift_title": "Attention shift per layer", "layer": "layer",
    "js_axis": "JS divergence (nats, mean over heads and tokens)",
    "anat_title": "Where the adapter writes: ‖ΔW‖", "module": "module",
    "sv_title": "Singular values of ΔW: the {n} modules with the largest update",
    "index": "direction (index)", "singular": "singular value",
    "pvl_title": "Prompt vs LoRA", "base_context": "base + context", "base_lora": "base + LoRA",
    "eval_title": "Correct answers per character and model", "share": "share of questions answered correctly",
    "targets": "targets", "controls": "controls",
    "attr_title": "Share of the full change each part reproduces alone", "attr_share": "share of the change",
    "attr_survives": "answer survives", "attr_lost": "answer changes", "part": "parts only", "full": "full LoRA",
    "ta_title": "Next token: base, full LoRA and the chosen parts only",
    "learn_step": "step {step}", "learn_title": "Next token at training step {step}",
    "learn_kl_base": "KL(step ‖ base)", "learn_kl_final": "KL(final ‖ step)",
    "learn_curve_title": "How far each checkpoint is from the base and from the final LoRA",
    "learn_x": "training step",
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
                     labels: dict[str, str] | None = None, head: int | None = None) -> go.Figure:
    """Three heatmaps (base, LoRA, Δ) of queries × keys at one layer (one head or their mean)."""
    lab = _labels(labels)
    which = lab["mean_heads"] if head is None else lab["head_n"].format(head=head)
    title = lab["att_title"].format(layer=layer, head=which)
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
                           labels: dict[str, str] | None = None, layer: int = 0) -> go.Figure:
    """The image three times with base / LoRA / Δ patch attention laid over it."""
    lab = _labels(labels)
    title = lab["img_title"].format(layer=layer)
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


def top_singular_modules(anatomy: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The n modules with the largest ‖ΔW‖ (all of them would be ~70 unreadable lines)."""
    return anatomy.sort_values("norm", ascending=False).head(n)


def singular_values_figure(anatomy: pd.DataFrame, labels: dict[str, str] | None = None,
                           n: int = 8) -> go.Figure:
    """Singular values of the n largest updates: how many of the r directions each really uses."""
    lab = _labels(labels)
    top = top_singular_modules(anatomy, n)
    fig = go.Figure()
    for _, row in top.iterrows():
        values = list(row["singular_values"])
        fig.add_scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                        name=f"L{row['layer']} {row['module']} (‖ΔW‖ {row['norm']:.2f})")
    fig.update_layout(title=lab["sv_title"].format(n=len(top)), xaxis_title=lab["index"],
                      yaxis_title=lab["singular"], yaxis_type="log")
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


def compare_figures(report: Any, labels: dict[str, str] | None = None,
                    image: Any | None = None) -> dict[str, go.Figure | None]:
    """Every chart of one `CompareReport`; None where it does not apply (the UI hides it)."""
    from comparison.explorer.anatomy import norm_grid

    applies = report.applies
    queries = [report.tokens[q] for q in report.queries]
    figs: dict[str, go.Figure | None] = {
        "top_k": top_k_figure(report.top_k, labels),
        "attention": attention_figure(report.attention["base"], report.attention["lora"], queries, report.tokens,
                                      report.layer, labels, report.head),
        "layer_shift": layer_shift_figure(report.layer_shift, labels),
        "keywords": keyword_figure(report.keywords, labels) if applies.get("keywords") else None,
        "image_attention": None, "anatomy": None, "singular_values": None,
        "prompt_vs_lora": (prompt_vs_lora_figure(report.prompt_vs_lora.table, labels)
                           if applies.get("prompt_vs_lora") else None),
    }
    if applies.get("image_attention") and image is not None:
        figs["image_attention"] = image_attention_figure(image, report.image_attention["base"],
                                                         report.image_attention["lora"], labels, report.layer)
    if applies.get("anatomy"):
        figs["anatomy"] = anatomy_figure(norm_grid(report.anatomy), labels)
        figs["singular_values"] = singular_values_figure(report.anatomy, labels)
    return figs


def evaluation_figure(report: Any, labels: dict[str, str] | None = None) -> go.Figure:
    """Grouped bars: per character (targets, then controls) the share correct, one bar per model."""
    t = _labels(labels)
    results = sorted(report.results, key=lambda r: r.role != "target")
    characters = list(dict.fromkeys(r.character for r in results))
    roles = {r.character: r.role for r in results}
    cells = {(r.character, r.model): r for r in results}
    x = [[t[roles[c] + "s"] for c in characters], characters]
    fig = go.Figure()
    for model in report.models:
        got = [cells.get((c, model)) for c in characters]
        fig.add_bar(x=x, y=[g.correct / g.total if g else None for g in got], name=model,
                    text=[f"{g.correct}/{g.total}" if g else "" for g in got], textposition="outside")
    fig.update_layout(title=t["eval_title"], barmode="group", yaxis=dict(title=t["share"], range=[0, 1.15]),
                      legend_title_text="", height=420)
    return fig


def probability_bars(table: pd.DataFrame, series: list[tuple[str, str, str]], title: str,
                     labels: dict[str, str] | None = None) -> go.Figure:
    """Grouped horizontal bars of next-token probabilities, one bar per (column, label, colour)."""
    lab = _labels(labels)
    names = [repr(t)[1:-1] or "∅" for t in table["token"]]
    fig = go.Figure()
    for column, label, colour in series:
        fig.add_bar(y=names, x=table[column], name=label, orientation="h", marker_color=colour)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, barmode="group", xaxis_title=lab["probability"],
                      height=max(300, 30 * len(names) + 120))
    return fig


def take_apart_figure(table: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Base, full LoRA and the chosen parts only, at the next token."""
    lab = _labels(labels)
    return probability_bars(table, [("base", lab["base"], BASE), ("full", lab["full"], LORA),
                                    ("part", lab["part"], "#9467bd")], lab["ta_title"], labels)


def learning_figure(table: pd.DataFrame, step: int, labels: dict[str, str] | None = None) -> go.Figure:
    """Base, the checkpoint at `step` and the final adapter, at the next token."""
    lab = _labels(labels)
    return probability_bars(table, [("base", lab["base"], BASE), ("step", lab["learn_step"].format(step=step),
                                                                  "#2ca02c"),
                                    ("final", lab["full"], LORA)], lab["learn_title"].format(step=step), labels)


def learning_curve_figure(steps: list[int], kl_base: list[float], kl_final: list[float], step: int,
                          labels: dict[str, str] | None = None) -> go.Figure:
    """KL to the base and to the final adapter over the training steps; the chosen step marked."""
    lab = _labels(labels)
    fig = go.Figure()
    fig.add_scatter(x=steps, y=kl_base, mode="lines+markers", name=lab["learn_kl_base"], line=dict(color=LORA))
    fig.add_scatter(x=steps, y=kl_final, mode="lines+markers", name=lab["learn_kl_final"], line=dict(color=BASE))
    fig.add_vline(x=step, line_dash="dot", line_color="#2ca02c")
    fig.update_layout(title=lab["learn_curve_title"], xaxis_title=lab["learn_x"], yaxis_title="KL", height=320)
    return fig


def attribution_figure(rows: pd.DataFrame, part_names: list[str], labels: dict[str, str] | None = None) -> go.Figure:
    """One bar per part (module kinds, then thirds of the layers, then the best of both):
    its share of the full change alone; solid when the full LoRA's answer survives."""
    lab = _labels(labels)
    share = rows["share"].astype(float).fillna(0.0)
    fig = go.Figure()
    for survives, name in ((True, lab["attr_survives"]), (False, lab["attr_lost"])):
        mask = rows["survives"].astype(bool) == survives
        fig.add_bar(x=[p for p, m in zip(part_names, mask) if m], y=share[mask], name=name,
                    marker_color=LORA if survives else "#c7c7c7", marker_line_color=LORA, marker_line_width=1.5,
                    text=[f"{v:.0%}" for v in share[mask]], textposition="outside")
    fig.add_hline(y=1.0, line_dash="dot", line_color=BASE)
    top = max(1.15, float(share.max()) + 0.15)
    low = min(0.0, float(share.min()) - 0.1)
    fig.update_layout(title=lab["attr_title"], yaxis=dict(title=lab["attr_share"], range=[low, top]),
                      xaxis=dict(categoryorder="array", categoryarray=part_names), height=380)
    return fig
