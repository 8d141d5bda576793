"""Plotly figures for the explorer's evaluation (question set × models) and compare report.

Every title, axis and legend exists in Russian and English (`TITLES`); a chart that
does not apply to the loaded model comes back as None so the UI can hide it.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from comparison.charts import explorer as base_charts
from comparison.explorer.evaluate import localise

TITLES = {  # key: (English, Russian)
    "eval": ("Correct answers per character and model",
        "Верные ответы по персонажам и моделям"),
    "share": ("share of questions answered correctly",
        "доля верных ответов"),
    "target": ("targets",
        "целевые"),
    "control": ("controls",
        "контрольные"),
    "top_k": ("Next token: base vs LoRA",
        "Следующий токен: база и LoRA"),
    "keywords": ("Key-word probability along the answer shown",
        "Вероятность ключевых слов вдоль показанного ответа"),
    "kw_x": ("answer step (token generated so far)",
        "шаг ответа (сгенерировано токенов)"),
    "kw_y": ("P(next token starts the word)",
        "P(следующий токен начинает слово)"),
    "attention": ("Attention over tokens, layer {layer}, {head}",
        "Внимание по токенам, слой {layer}, {head}"),
    "mean": ("mean of heads",
        "среднее по головам"),
    "head": ("head {head}",
        "голова {head}"),
    "image": ("Attention over the image, layer {layer}",
        "Внимание по изображению, слой {layer}"),
    "shift": ("Attention shift per layer",
        "Сдвиг внимания по слоям"),
    "layer": ("layer",
        "слой"),
    "js": ("JS divergence (nats, mean over heads and tokens)",
        "JS-дивергенция (наты, среднее по головам и токенам)"),
    "anatomy": ("Where the adapter writes: ‖ΔW‖",
        "Куда пишет адаптер: ‖ΔW‖"),
    "module": ("module",
        "модуль"),
    "sv": ("Singular values of ΔW: the {n} modules with the largest update",
        "Сингулярные числа ΔW: {n} модулей с самым большим обновлением"),
    "sv_x": ("direction (index)",
        "направление (номер)"),
    "sv_y": ("singular value",
        "сингулярное число"),
    "pvl": ("Prompt vs LoRA",
        "Промпт против LoRA"),
    "base": ("base",
        "база"),
    "context": ("base + context",
        "база + контекст"),
    "lora": ("base + LoRA",
        "база + LoRA"),
}


def _t(lang: str) -> dict[str, str]:
    return localise(TITLES, lang)


def evaluation_figure(report: Any, lang: str = "en") -> go.Figure:
    """Grouped bars: per character (targets, then controls) the share correct, one bar per model."""
    t = _t(lang)
    results = sorted(report.results, key=lambda r: r.role != "target")
    characters = list(dict.fromkeys(r.character for r in results))
    roles = {r.character: r.role for r in results}
    cells = {(r.character, r.model): r for r in results}
    x = [[t[roles[c]] for c in characters], characters]
    fig = go.Figure()
    for model in report.models:
        got = [cells.get((c, model)) for c in characters]
        fig.add_bar(x=x, y=[g.correct / g.total if g else None for g in got], name=model,
                    text=[f"{g.correct}/{g.total}" if g else "" for g in got], textposition="outside",
                    hovertext=[g.cell(lang) if g else "" for g in got], hoverinfo="text+name")
    fig.update_layout(title=t["eval"], barmode="group", yaxis=dict(title=t["share"], range=[0, 1.15]),
                      legend_title_text="", height=420)
    return fig


def top_singular_modules(anatomy: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The n modules with the largest ‖ΔW‖ (the rest would be unreadable lines)."""
    return anatomy.sort_values("norm", ascending=False).head(n)


def singular_values_figure(anatomy: pd.DataFrame, lang: str = "en", n: int = 8) -> go.Figure:
    """Singular values of the n largest updates, each line labelled layer · module · ‖ΔW‖."""
    t = _t(lang)
    top = top_singular_modules(anatomy, n)
    fig = go.Figure()
    for _, row in top.iterrows():
        values = list(row["singular_values"])
        fig.add_scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                        name=f"L{row['layer']} {row['module']} (‖ΔW‖ {row['norm']:.2f})")
    fig.update_layout(title=t["sv"].format(n=len(top)), xaxis_title=t["sv_x"], yaxis_title=t["sv_y"],
                      yaxis_type="log")
    return fig


def compare_figures(report: Any, lang: str = "en", image: Any | None = None) -> dict[str, go.Figure | None]:
    """Every chart of one compare report; None where it does not apply (hide it)."""
    t = _t(lang)
    applies = report.applies
    labels = [report.tokens[q] for q in report.queries]
    head = t["mean"] if report.head is None else t["head"].format(head=report.head)
    figs: dict[str, go.Figure | None] = {
        "top_k": base_charts.top_k_figure(report.top_k, title=t["top_k"]),
        "attention": base_charts.attention_figure(report.attention["base"], report.attention["lora"], labels,
                                                  report.tokens,
                                                  title=t["attention"].format(layer=report.layer, head=head)),
        "layer_shift": base_charts.layer_shift_figure(report.layer_shift, title=t["shift"]),
        "keywords": None, "image_attention": None, "anatomy": None, "singular_values": None,
        "prompt_vs_lora": None,
    }
    figs["layer_shift"].update_layout(xaxis_title=t["layer"], yaxis_title=t["js"])
    if applies.get("keywords"):
        figs["keywords"] = base_charts.keyword_figure(report.keywords, title=t["keywords"])
        figs["keywords"].update_layout(xaxis_title=t["kw_x"], yaxis_title=t["kw_y"])
        for trace in figs["keywords"].data:
            trace.name = trace.name.replace("(base)", f"({t['base']})")
    if applies.get("image_attention") and image is not None:
        figs["image_attention"] = base_charts.image_attention_figure(
            image, report.image_attention["base"], report.image_attention["lora"],
            title=t["image"].format(layer=report.layer))
    if applies.get("anatomy"):
        from comparison.explorer.anatomy import norm_grid

        figs["anatomy"] = base_charts.anatomy_figure(norm_grid(report.anatomy), title=t["anatomy"])
        figs["anatomy"].update_layout(xaxis_title=t["module"], yaxis_title=t["layer"])
        figs["singular_values"] = singular_values_figure(report.anatomy, lang)
    if applies.get("prompt_vs_lora"):
        fig = base_charts.prompt_vs_lora_figure(report.prompt_vs_lora.table, title=t["pvl"])
        for trace, key in zip(fig.data, ("base", "context", "lora")):
            trace.name = t[key]
        figs["prompt_vs_lora"] = fig
    return figs
