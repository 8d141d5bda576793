"""Plotly figures for the Similarity tab; the only place that draws them.

Every title and axis name comes from `labels`, so the app can show Russian or English
without this module knowing which. Texts are numbered in heatmap axes because two
identical product names would otherwise collapse into one row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from comparison.similarity import SimilarityMatrices

DEFAULT_LABELS: dict[str, str] = {
    "base": "base",
    "tuned": "tuned",
    "delta": "Δ tuned − base",
    "cosine": "cosine similarity",
    "pair": "pair",
    "pairs_title": "Similarity of each pair",
    "heatmaps_title": "Cosine similarity between texts",
    "map_title": "How the texts moved (2-D projection of embeddings)",
    "move": "move",
    "no_category": "no category",
    "sweep_title": "Adapter strength on the labelled set",
    "strength": "adapter strength (0 = base)",
    "score": "score",
    "recall": "finds the same product first (Recall@1)",
    "auc": "same product above a look-alike (AUC)",
    "best": "best",
}


def _labels(labels: dict[str, str] | None) -> dict[str, str]:
    """Defaults overlaid with the caller's labels."""
    return {**DEFAULT_LABELS, **(labels or {})}


def _short(text: str, limit: int = 40) -> str:
    """A text trimmed for an axis tick."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pair_chart(df: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Grouped bars: base vs tuned cosine for each pair (tuned omitted when all NaN)."""
    lab = _labels(labels)
    names = [f"{i}. {_short(a, 25)} ↔ {_short(b, 25)}" for i, (a, b) in enumerate(zip(df["text_a"], df["text_b"]), 1)]
    hover = np.stack([df["text_a"], df["text_b"], df["delta"]], axis=-1)
    fig = go.Figure()
    series = [("base", "#8c8c8c")] + ([] if df["tuned"].isna().all() else [("tuned", "#1f77b4")])
    for col, colour in series:
        fig.add_bar(
            x=names, y=df[col], name=lab[col], marker_color=colour, customdata=hover,
            hovertemplate=(
                "%{customdata[0]}<br>%{customdata[1]}<br>" + lab[col] + ": %{y:.4f}<br>"
                + lab["delta"] + ": %{customdata[2]:+.4f}<extra></extra>"
            ),
        )
    fig.update_layout(
        barmode="group", title=lab["pairs_title"], yaxis_title=lab["cosine"], xaxis_title=lab["pair"],
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    return fig


def heatmaps(m: SimilarityMatrices, labels: dict[str, str] | None = None) -> go.Figure:
    """Base / tuned / Δ heatmaps: one colour scale for base and tuned, a diverging one for Δ."""
    lab = _labels(labels)
    n = len(m.texts)
    ticks = [f"{i}. {_short(t, 30)}" for i, t in enumerate(m.texts, 1)]
    pairs = np.empty((n, n, 2), dtype=object)
    pairs[:, :, 0] = np.array(m.texts, dtype=object)[:, None]
    pairs[:, :, 1] = np.array(m.texts, dtype=object)[None, :]
    panels = [("base", m.base)] + ([] if m.tuned is None else [("tuned", m.tuned), ("delta", m.delta)])
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[lab[k] for k, _ in panels], horizontal_spacing=0.06)
    low = float(min(np.min(mat) for k, mat in panels if k != "delta"))
    span = float(np.max(np.abs(m.delta))) if m.delta is not None else 0.0
    for col, (key, mat) in enumerate(panels, 1):
        fig.add_trace(
            go.Heatmap(
                z=mat, x=ticks, y=ticks, customdata=pairs,
                coloraxis="coloraxis2" if key == "delta" else "coloraxis",
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>" + lab[key] + ": %{z:.4f}<extra></extra>",
            ),
            row=1, col=col,
        )
    layout = dict(
        title=lab["heatmaps_title"],
        coloraxis=dict(colorscale="Viridis", cmin=low, cmax=1.0, colorbar=dict(title=dict(text=lab["cosine"], side="right"), x=1.01, thickness=14)),
    )
    if m.delta is not None:
        layout["coloraxis2"] = dict(
            colorscale="RdBu", cmid=0.0, cmin=-max(span, 1e-6), cmax=max(span, 1e-6),
            colorbar=dict(title=dict(text=lab["delta"], side="right"), x=1.10, thickness=14),
        )
    fig.update_layout(**layout)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(showticklabels=n <= 30)
    fig.update_yaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=n <= 30, row=1, col=1)
    return fig


def movement_map(df2d: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Base points (hollow), tuned points (filled), an arrow from each base to its tuned point."""
    lab = _labels(labels)
    fig = go.Figure()
    cats = df2d["category"].fillna("").replace("", lab["no_category"])
    palette = qualitative.Plotly + qualitative.D3
    has_tuned = not df2d["x_tuned"].isna().all()
    for k, cat in enumerate(dict.fromkeys(cats)):
        part = df2d[cats == cat]
        colour = palette[k % len(palette)]
        plain = cats.nunique() == 1 and cat == lab["no_category"]
        name_base = lab["base"] if plain else f"{cat} · {lab['base']}"
        name_tuned = lab["tuned"] if plain else f"{cat} · {lab['tuned']}"
        fig.add_scatter(
            x=part["x_base"], y=part["y_base"], mode="markers", name=name_base,
            legendgroup=cat, marker=dict(symbol="circle-open", size=10, color=colour),
            text=part["text"], hovertemplate="%{text}<br>" + lab["base"] + "<extra></extra>",
        )
        if not has_tuned:
            continue
        fig.add_scatter(
            x=part["x_tuned"], y=part["y_tuned"], mode="markers", name=name_tuned,
            legendgroup=cat, marker=dict(symbol="circle", size=10, color=colour),
            text=part["text"], hovertemplate="%{text}<br>" + lab["tuned"] + "<extra></extra>",
        )
        for row in part.itertuples():
            fig.add_annotation(
                x=row.x_tuned, y=row.y_tuned, ax=row.x_base, ay=row.y_base,
                xref="x", yref="y", axref="x", ayref="y", showarrow=True, text="",
                arrowhead=2, arrowsize=1.2, arrowwidth=1.3, arrowcolor=colour, opacity=0.8, standoff=6,
            )
    fig.update_layout(title=lab["map_title"], xaxis_title="PC 1", yaxis_title="PC 2")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def sweep_chart(table: pd.DataFrame, best: float, labels: dict[str, str] | None = None) -> go.Figure:
    """Recall@1 and hard-negative AUC against the adapter strength, the best one marked."""
    lab = _labels(labels)
    fig = go.Figure()
    for col, key, colour in (("recall@1", "recall", "#1f77b4"), ("hard_neg_auc", "auc", "#ff7f0e")):
        fig.add_scatter(x=table["scale"], y=table[col], mode="lines+markers", name=lab[key],
                        line=dict(color=colour), hovertemplate="%{x:.2f}: %{y:.3f}<extra></extra>")
    fig.add_vline(x=best, line_dash="dash", line_color="#2ca02c", annotation_text=f"{lab['best']}: {best:g}")
    fig.update_layout(title=lab["sweep_title"], xaxis_title=lab["strength"], yaxis_title=lab["score"],
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    return fig
