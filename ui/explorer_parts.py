"""The explorer tab's "take it apart" section: some parts of the LoRA on, the rest off, and
which part carries the change (`comparison.explorer.take_apart`). Also its two API routes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from comparison.basics import torch_threads
from comparison.charts.explorer import attribution_figure, take_apart_figure
from comparison.explorer.parts import KINDS, parse_parts
from comparison.explorer.take_apart import MAX_NEW_DEFAULT, attribute, take_apart
from ui.common import PRIVATE, Labels, guarded, session_of
from ui.explorer_reading import attribution_text, part_label, take_apart_text
from ui.locales import chart_labels, t


def _modules_text(kinds: list[str] | str | None) -> str:
    if isinstance(kinds, str):
        return kinds
    kinds = [k for k in (kinds or []) if k in KINDS]
    return "all" if len(kinds) == len(KINDS) else ",".join(kinds) or "none"


def run_take_apart(ex: Any, prompt: str, modules: str, layers: str, scale: float, lang: str,
                   max_new_tokens: int = MAX_NEW_DEFAULT) -> dict[str, Any]:
    """The /take_apart result (plus `text` in `lang`), errors as localized gr.Error."""
    def go() -> dict[str, Any]:
        parts = parse_parts(modules, layers, ex.limits.layers)
        with torch_threads():
            result = take_apart(ex, prompt or "", parts, scale=float(scale), max_new_tokens=int(max_new_tokens))
        return {**result.to_json(), "_table": result.top_k}
    out = guarded("input", lang, go)
    out["text"] = take_apart_text(out, lang)
    return out


def run_attribution(ex: Any, prompt: str, scale: float, lang: str, max_new_tokens: int = MAX_NEW_DEFAULT,
                    answer_ids: list[int] | None = None) -> dict[str, Any]:
    """The /attribute result (plus `sentence` in `lang`); `answer_ids`: the full LoRA's answer
    when the tab's last compare click already generated it (saves a generation)."""
    def go() -> dict[str, Any]:
        with torch_threads():
            return attribute(ex, prompt or "", scale=float(scale), max_new_tokens=int(max_new_tokens),
                             answer_ids=answer_ids).to_json()
    out = guarded("input", lang, go)
    out["sentence"] = attribution_text(out, lang)
    return out


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    L(gr.Markdown(t("ta_title", lang)), "ta_title", "value")
    L(gr.Markdown(t("ta_help", lang)), "ta_help", "value")
    with gr.Row():
        c["ta_modules"] = L(gr.CheckboxGroup([(k if k == "mlp" else f"{k}_proj", k) for k in KINDS],
                                             value=list(KINDS), label=t("ta_modules", lang),
                                             elem_id="ta-modules"), "ta_modules")
        c["ta_layers"] = L(gr.Textbox("all", label=t("ta_layers", lang), max_length=20, elem_id="ta-layers"),
                           "ta_layers")
    with gr.Row():
        c["ta_run"] = L(gr.Button(t("ta_run", lang), elem_id="ta-run"), "ta_run", "value")
        c["ta_attr"] = L(gr.Button(t("ta_attr", lang), elem_id="ta-attr"), "ta_attr", "value")
    c["ta_last"] = gr.State(None)  # the last compare click's LoRA answer, reused by the attribution
    c["ta_text"] = gr.Markdown(elem_id="ta-text")
    c["ta_plot"] = gr.Plot(show_label=False, elem_id="plot-take-apart", visible=False)
    c["ta_sentence"] = gr.Markdown(elem_id="ta-sentence")
    c["ta_attr_plot"] = gr.Plot(show_label=False, elem_id="plot-attribution", visible=False)
    return c


Getter = Callable[..., Any]  # ui.explorer._explorer: (session | None, lang, progress) → explorer view


def bind(c: dict[str, Any], lang_radio: gr.Radio, get: Getter) -> None:
    def on_take_apart(prompt: str, modules: list[str], layers: str, scale: float, lang: str,
                      request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        ex = get(session_of(request), lang, progress)
        out = run_take_apart(ex, prompt, _modules_text(modules), layers or "all", scale, lang)
        fig = take_apart_figure(out["_table"], chart_labels("explorer", lang))
        return {c["ta_text"]: out["text"], c["ta_plot"]: gr.update(value=fig, visible=True)}

    def on_attribute(prompt: str, scale: float, last: dict | None, lang: str, request: gr.Request,
                     progress: gr.Progress = gr.Progress()) -> dict:
        ex = get(session_of(request), lang, progress)
        same = last is not None and last["prompt"] == (prompt or "") and last["scale"] == float(scale) \
            and last["adapter"] == ex.active_adapter
        out = run_attribution(ex, prompt, scale, lang, answer_ids=last["answer_ids"] if same else None)
        rows = pd.DataFrame(out["rows"])
        names = [part_label(m, ly, lang) for m, ly in zip(rows["modules"], rows["layers"])]
        fig = attribution_figure(rows, names, chart_labels("explorer", lang))
        return {c["ta_sentence"]: out["sentence"], c["ta_attr_plot"]: gr.update(value=fig, visible=True)}

    c["ta_run"].click(on_take_apart, [c["prompt"], c["ta_modules"], c["ta_layers"], c["scale"], lang_radio],
                      [c["ta_text"], c["ta_plot"]], concurrency_id="explorer", concurrency_limit=1, **PRIVATE)
    c["ta_attr"].click(on_attribute, [c["prompt"], c["scale"], c["ta_last"], lang_radio],
                       [c["ta_sentence"], c["ta_attr_plot"]],
                       concurrency_id="explorer", concurrency_limit=1, **PRIVATE)


def api(get: Getter) -> None:
    """/take_apart and /attribute for programs (the shared model with its default adapter)."""
    def api_take_apart(prompt: str, modules: str = "all", layers: str = "all", scale: float = 1.0,
                       lang: str = "en") -> dict:
        """Only `modules` (comma list of q,k,v,o,mlp, or all / none) in `layers` ("a-b" or all) of the
        LoRA on: answers, next-token top-k, kl_to_base, kl_to_full (nats), share of the change."""
        out = run_take_apart(get(None, lang), prompt, modules, layers, scale, lang)
        out.pop("_table")
        return out

    def api_attribute(prompt: str, scale: float = 1.0, lang: str = "en") -> dict:
        """One row per part (each module kind alone, each third of the layers alone, the best of both):
        kl_to_base, kl_to_full, share of the full change (documented in `measure`), survives."""
        return run_attribution(get(None, lang), prompt, scale, lang)

    gr.api(api_take_apart, api_name="take_apart", concurrency_id="explorer")
    gr.api(api_attribute, api_name="attribute", concurrency_id="explorer")
