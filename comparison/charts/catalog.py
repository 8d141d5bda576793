"""The catalog map: every analysed title as a WebGL point, coloured by neighbourhood change.

Why Scattergl and no per-point text in the trace: SVG scatter stalls past a few thousand
points, and a hover text per point dominates the payload; titles go in `customdata` once and
the hover template reads them. The found title (a search hit) is drawn on top, large.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

DEFAULT_LABELS: dict[str, str] = {
    "map_title": "Your catalog under the adapter (PCA); colour = how much each title's neighbours changed",
    "change": "neighbours changed",
    "found": "found title",
    "axis_x": "component 1",
    "axis_y": "component 2",
}


def catalog_map(points: pd.DataFrame, found_rows: list[int] | None = None,
                labels: dict[str, str] | None = None) -> go.Figure:
    """Scatter of `points` (columns x, y, change, title, row from `moved.map_points`)."""
    lab = {**DEFAULT_LABELS, **(labels or {})}
    fig = go.Figure(go.Scattergl(
        x=points["x"], y=points["y"], mode="markers", customdata=points["title"],
        marker={"color": points["change"], "colorscale": "Viridis", "cmin": 0.0, "cmax": 1.0, "size": 5,
                "opacity": 0.75, "colorbar": {"title": {"text": lab["change"]}, "tickformat": ".0%"}},
        hovertemplate="%{customdata}<br>" + lab["change"] + ": %{marker.color:.0%}<extra></extra>",
        showlegend=False,
    ))
    found = points[points["row"].isin(found_rows or [])]
    if len(found):
        fig.add_trace(go.Scattergl(
            x=found["x"], y=found["y"], mode="markers+text", text=found["title"], textposition="top center",
            marker={"color": "#d62728", "size": 14, "symbol": "star", "line": {"width": 1, "color": "white"}},
            name=lab["found"], hovertemplate="%{text}<extra></extra>",
        ))
    fig.update_layout(title=lab["map_title"], xaxis_title=lab["axis_x"], yaxis_title=lab["axis_y"],
                      height=560, margin={"l": 40, "r": 20, "t": 60, "b": 40}, uirevision="catalog-map",
                      legend={"orientation": "h", "x": 0.0, "y": -0.12})
    return fig
