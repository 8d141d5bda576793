"""The evaluation panel of the Similarity tab: does the selected adapter match products better?

Why here and not under Training: the adapter chooser and the strength dial live on the
Similarity tab, so the panel scores whatever is selected there — the default, an uploaded
zip or a trained one ("Use in the Similarity tab") — at the chosen strength, on the shipped
`examples/dev_pairs.csv` or the user's labelled csv. The verdict is worded, per metric, with
which way is better; a new training clears it (its numbers would describe another adapter).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from comparison.basics import parse_prefix
from comparison.charts import similarity as sim_charts
from comparison.dev_eval import evaluate_dev, sweep_dev
from comparison.matching import HIGHER_IS_BETTER, Verdict, best_scale, helped, verdicts
from comparison.retrieval import METRICS
from ui.common import PRIVATE, Labels, encoder, encoders, guarded, session_of
from ui.locales import chart_labels, t

DEV_PAIRS = Path(__file__).resolve().parent.parent / "examples" / "dev_pairs.csv"
PERCENT = {"recall@1"}  # shown as "% of queries"; the others as 0…1 numbers


def _value(metric: str, value: float, lang: str) -> str:
    if metric in PERCENT:
        return t("pct", lang, v=round(value * 100))
    return f"{value:.3f}" if lang == "en" else f"{value:.3f}".replace(".", ",")


def verdict_line(v: Verdict, lang: str, kind: str = "vm") -> str:
    """'Finds the same product first: 54% → 61% of queries — higher is better: ✓ better'.

    `kind`: "vm" for a labelled file (same product), "vl" for a list with categories."""
    text = t(f"{kind}_{v.metric}", lang, b=_value(v.metric, v.base, lang), t=_value(v.metric, v.tuned, lang))
    if HIGHER_IS_BETTER[v.metric] is None:
        return f"{text} — {t('dir_none', lang)}"
    outcome = {True: "better_true", False: "better_false", None: "better_none"}[v.better]
    return f"{text} — {t('dir_up', lang)}: {t(outcome, lang)}"


def verdict_md(frame: pd.DataFrame, lang: str, kind: str = "vm") -> str:
    """Every metric in plain words, then one sentence: did the adapter help?"""
    items = verdicts(frame)
    lines = [f"- {verdict_line(v, lang, kind)}" for v in items]
    outcome = {True: "helped_true", False: "helped_false", None: "helped_none"}[helped(items)]
    return "\n".join(lines) + "\n\n" + t(outcome, lang)


def metric_table(frame: pd.DataFrame, lang: str, key: str = "model") -> pd.DataFrame:
    """A metrics frame (rows base / tuned, or scales) with headers and row names in `lang`."""
    rows = {"base": t("row_base", lang), "base + adapter": t("row_adapter", lang),
            "tuned": t("row_adapter", lang)}
    out = frame.reset_index() if key not in frame.columns else frame.copy()
    if key == "model":
        out[key] = out[key].map(lambda r: rows.get(r, r))
    names = {key: t(f"col_{'model' if key == 'model' else 'scale'}", lang),
             **{m: t(f"col_{m}", lang) for m in METRICS}}
    return out.round(4).rename(columns=names)


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    with L(gr.Accordion(t("eval", lang), open=False, elem_id="eval-panel"), "eval"):
        L(gr.Markdown(t("eval_help", lang)), "eval_help", "value")
        c["dev_file"] = L(gr.File(label=t("eval_file", lang), file_types=[".csv"], height=110), "eval_file")
        with gr.Row():
            c["run"] = L(gr.Button(t("eval_run", lang), elem_id="eval-run"), "eval_run", "value")
            c["sweep"] = L(gr.Button(t("sweep_run", lang), elem_id="eval-sweep"), "sweep_run", "value")
        c["verdict"] = gr.Markdown(elem_id="eval-verdict")
        c["table"] = gr.Dataframe(interactive=False, visible=False)
        c["sweep_md"] = gr.Markdown(elem_id="eval-sweep-best")
        with gr.Row():
            c["sweep_table"] = gr.Dataframe(interactive=False, visible=False)
            c["sweep_plot"] = gr.Plot(show_label=False, visible=False)
    return c


def outputs(c: dict[str, Any]) -> list[Any]:
    return [c["verdict"], c["table"], c["sweep_md"], c["sweep_table"], c["sweep_plot"]]


def cleared(c: dict[str, Any]) -> dict:
    """The panel emptied (a new training starts: old numbers would describe another adapter)."""
    return {c["verdict"]: "", c["table"]: gr.update(value=None, visible=False), c["sweep_md"]: "",
            c["sweep_table"]: gr.update(value=None, visible=False),
            c["sweep_plot"]: gr.update(value=None, visible=False)}


def _adapter(picked: str | None, lang: str, request: gr.Request) -> str:
    name = encoders.resolve(session_of(request), picked)
    if name is None:
        raise gr.Error(t("eval_no_adapter", lang))
    return name


def bind(c: dict[str, Any], sim: dict[str, Any], lang_radio: gr.Radio) -> None:
    def evaluate(dev_file: str | None, picked: str | None, prefix: str, scale: float, lang: str,
                 request: gr.Request) -> dict:
        enc, name = encoder(lang), _adapter(picked, lang, request)
        frame = guarded("input", lang, lambda: evaluate_dev(
            enc, name, Path(dev_file or DEV_PAIRS), parse_prefix(prefix), float(scale)))
        head = t("eval_on", lang, file=Path(dev_file).name if dev_file else DEV_PAIRS.name, scale=f"{float(scale):g}")
        return {c["verdict"]: f"{head}\n\n{verdict_md(frame, lang)}",
                c["table"]: gr.update(value=metric_table(frame, lang), visible=True)}

    def sweep(dev_file: str | None, picked: str | None, prefix: str, lang: str, request: gr.Request) -> dict:
        enc, name = encoder(lang), _adapter(picked, lang, request)
        table = guarded("input", lang, lambda: sweep_dev(enc, name, Path(dev_file or DEV_PAIRS), parse_prefix(prefix)))
        best = best_scale(table)
        row = table[table["scale"] == best].iloc[0]
        return {c["sweep_md"]: t("sweep_best", lang, best=f"{best:g}", r=_value("recall@1", row["recall@1"], lang),
                                 a=_value("hard_neg_auc", row["hard_neg_auc"], lang)),
                c["sweep_table"]: gr.update(value=metric_table(table, lang, key="scale"), visible=True),
                c["sweep_plot"]: gr.update(value=sim_charts.sweep_chart(
                    table, best, labels=chart_labels("similarity", lang)), visible=True)}

    c["run"].click(evaluate, [c["dev_file"], sim["adapter"], sim["prefix"], sim["scale"], lang_radio],
                   [c["verdict"], c["table"]], **PRIVATE)
    c["sweep"].click(sweep, [c["dev_file"], sim["adapter"], sim["prefix"], lang_radio],
                     [c["sweep_md"], c["sweep_table"], c["sweep_plot"]], **PRIVATE)
