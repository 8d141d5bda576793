"""LoRA explorer tab: one language model, base vs base + LoRA, every view of one input."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from comparison.adapters import unpack_adapter
from comparison.basics import torch_threads
from comparison.charts.explorer import compare_figures
from comparison.explorer import CompareRequest, ModelLoadError
from ui import explorer_eval, explorer_learn, explorer_parts
from ui.common import (PRIVATE, Labels, explorers, guarded, progress_cb, session_of, user_dir, user_error,
                       vlm_offer_md)
from ui.explorer_reading import summary
from ui.locales import chart_labels, localize_label, t

MAX_NEW_DEFAULT = 32  # answer tokens of the default click: two generations dominate its time


def _explorer(session: str | None, lang: str, progress: gr.Progress | None = None) -> Any:
    """The shared explorer, seen with the session's own adapter when it has one."""
    try:
        if session is None:
            return explorers.get(progress_cb(progress, lang))
        return explorers.view(session, progress_cb(progress, lang))
    except Exception as exc:  # a failed load is a message, not a dead worker
        raise user_error(exc, lang, "model_load") from exc


def _status(session: str, lang: str) -> str:
    if not explorers.loaded:
        return t("exp_not_loaded", lang) + vlm_offer_md(lang)
    ex = _explorer(session, lang)
    adapter = t("lbl_none", lang) if ex.adapter_label == "none" else localize_label(ex.adapter_label, lang)
    return t("exp_models", lang, model=localize_label(ex.model_label, lang), adapter=adapter)


def _sliders(limits: Any) -> dict[str, Any]:
    """Layer / head slider updates for a model's limits (-1 = last layer / mean of heads)."""
    if limits is None:
        return {}
    return {"layer": gr.update(minimum=-1, maximum=limits.layers - 1),
            "head": gr.update(minimum=-1, maximum=limits.heads - 1)}


def _check(request: CompareRequest, limits: Any, lang: str) -> None:
    """Refuse a bad layer / head (or any bad field) before any model work, in `lang`."""
    if limits is None:
        return
    try:
        request.check(limits)
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        if field == "layer":
            raise gr.Error(t("exp_bad_layer", lang, n=limits.layers, top=limits.layers - 1)) from exc
        if field == "head":
            raise gr.Error(t("exp_bad_head", lang, n=limits.heads, top=limits.heads - 1)) from exc
        raise user_error(exc, lang) from exc


# UI key → compare_figures name
PLOTS = {"topk": "top_k", "kw": "keywords", "att": "attention", "img": "image_attention", "shift": "layer_shift",
         "anat": "anatomy", "sv": "singular_values", "pvl": "prompt_vs_lora"}


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    L(gr.Markdown(t("exp_help", lang)), "exp_help", "value")
    c["status"] = gr.Markdown(t("exp_not_loaded", lang), elem_id="explorer-status")
    with gr.Row():
        with gr.Column(scale=2):
            c["prompt"] = L(gr.Textbox("Кто такой Чебурашка?", label=t("prompt", lang), max_length=2000,
                                       elem_id="exp-prompt"), "prompt")
            c["keywords"] = L(gr.Textbox("Чебурашка, Гена, животное", label=t("keywords", lang)), "keywords")
            c["context"] = L(gr.Textbox("Чебурашка — герой мультфильма, друг крокодила Гены.",
                                        label=t("context", lang)), "context")
        with gr.Column(scale=1):
            c["image"] = L(gr.Image(type="pil", label=t("image", lang), height=180), "image")
            c["adapter_file"] = L(gr.File(label=t("exp_adapter_upload", lang), file_types=[".zip"], height=110,
                                          elem_id="exp-adapter-file"), "exp_adapter_upload")
    with gr.Row():
        c["scale"] = L(gr.Slider(0, 2, 1, step=0.1, label=t("scale", lang), elem_id="exp-scale"), "scale")
        c["top_k"] = L(gr.Slider(3, 30, 10, step=1, label=t("top_k", lang)), "top_k")
        c["max_new"] = L(gr.Slider(0, 128, MAX_NEW_DEFAULT, step=1, label=t("max_new", lang)), "max_new")
        limits = explorers.limits()  # config.json only: the sliders fit the model before it loads
        c["layer"] = L(gr.Slider(-1, limits.layers - 1 if limits else 63, -1, step=1, label=t("layer", lang),
                                 elem_id="exp-layer"), "layer")
        c["head"] = L(gr.Slider(-1, limits.heads - 1 if limits else 31, -1, step=1, label=t("head", lang),
                                elem_id="exp-head"), "head")
    with gr.Row():
        c["load"] = L(gr.Button(t("exp_load", lang), elem_id="exp-load"), "exp_load", "value")
        c["run"] = L(gr.Button(t("explore", lang), variant="primary", elem_id="exp-run"), "explore", "value")
    with gr.Row():
        c["ans_base"] = L(gr.Textbox(label=t("answer_base", lang), lines=4, interactive=False,
                                     elem_id="answer-base"), "answer_base")
        c["ans_lora"] = L(gr.Textbox(label=t("answer_lora", lang), lines=4, interactive=False,
                                     elem_id="answer-lora"), "answer_lora")
    c["summary"] = gr.Markdown(elem_id="exp-summary")
    c["divergence"] = gr.Markdown(elem_id="exp-divergence")
    with L(gr.Accordion(t("rd_hints_title", lang), open=False), "rd_hints_title"):
        L(gr.Markdown(t("rd_hints", lang), elem_id="exp-hints"), "rd_hints", "value")
    ids = {"topk": "plot-topk", "kw": "plot-keywords", "att": "plot-attention", "img": "plot-image-attention",
           "shift": "plot-layer-shift", "anat": "plot-anatomy", "sv": "plot-singular", "pvl": "plot-prompt-vs-lora"}
    for row in (("topk", "kw"), ("att",), ("img",), ("shift", "anat"), ("sv", "pvl")):
        with gr.Row():
            for key in row:
                c[key] = gr.Plot(show_label=False, elem_id=ids[key],
                                 visible=key in ("topk", "att", "shift"))
    c["verdict"] = gr.Markdown(elem_id="exp-verdict")
    c.update(explorer_parts.build(L, lang))
    c.update(explorer_learn.build(L, lang))
    c.update(explorer_eval.build(L, lang))
    return c


def bind(c: dict[str, Any], lang_radio: gr.Radio, tab: gr.Tab) -> None:
    def with_sliders(out: dict, limits: Any) -> dict:
        return {**out, **{c[k]: v for k, v in _sliders(limits).items()}}

    def on_select(lang: str, request: gr.Request) -> dict:
        return with_sliders({c["status"]: _status(session_of(request), lang)}, explorers.limits())

    def load(lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        ex = _explorer(None, lang, progress)
        return with_sliders({c["status"]: _status(session_of(request), lang)}, ex.limits)

    def upload(file: str | None, lang: str, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> dict:
        session = session_of(request)
        if file:
            _explorer(None, lang, progress)
            label = f"your upload: {Path(file).stem[:60]}"
            folder_root = user_dir(request, lang) / "explorer-adapters" / time.strftime("%H%M%S")
            guarded("adapter", lang, lambda: explorers.add_session_adapter(
                session, label, unpack_adapter(Path(file), folder_root), replace=True))
            gr.Info(t("adapter_added", lang, label=Path(file).stem[:60]))
        return {c["status"]: _status(session, lang)}

    def run(prompt: str, image: Any, scale: float, top_k: float, max_new: float, layer: float,
            head: float, keywords: str, context: str, lang: str, request: gr.Request,
            progress: gr.Progress = gr.Progress()) -> dict:
        """One `Explorer.compare` call: every view of one input from the fewest passes."""
        req = CompareRequest(prompt=prompt or "", image=image, scale=float(scale), top_k=int(top_k),
                             max_new_tokens=int(max_new), layer=None if int(layer) < 0 else int(layer),
                             head=None if int(head) < 0 else int(head),
                             keywords=tuple(w.strip() for w in (keywords or "").split(",") if w.strip()),
                             context=(context or "").strip())
        _check(req, explorers.limits(), lang)  # before loading or any pass
        ex = _explorer(session_of(request), lang, progress)
        _check(req, ex.limits, lang)
        progress(0.2, desc=t("exp_progress_passes", lang))
        with torch_threads():  # one explorer call at a time (concurrency_id "explorer")
            rep = guarded("input", lang, lambda: ex.compare(req, lang))
        figs = compare_figures(rep, chart_labels("explorer", lang), image)
        return with_sliders({
            c["ans_base"]: rep.answers.get("base", ""), c["ans_lora"]: rep.answers.get("lora", ""),
            c["summary"]: summary(rep.reading, lang),
            c["ta_last"]: {"prompt": req.prompt, "scale": req.scale, "adapter": ex.active_adapter,
                           "answer_ids": list(rep.answer_ids)} if rep.answers else None,
            c["divergence"]: t("divergence", lang, kl=rep.kl, js=rep.js),
            **{c[k]: gr.update(value=figs[name], visible=figs[name] is not None) for k, name in PLOTS.items()},
            c["verdict"]: rep.prompt_vs_lora.verdict if rep.prompt_vs_lora else "",
            c["status"]: _status(session_of(request), lang)}, rep.limits)

    outputs = [c["ans_base"], c["ans_lora"], c["summary"], c["ta_last"], c["divergence"], *(c[k] for k in PLOTS),
               c["verdict"], c["status"], c["layer"], c["head"]]
    c["load"].click(load, [lang_radio], [c["status"], c["layer"], c["head"]], **PRIVATE)
    tab.select(on_select, [lang_radio], [c["status"], c["layer"], c["head"]], **PRIVATE)
    c["adapter_file"].upload(upload, [c["adapter_file"], lang_radio], [c["status"]],
                             concurrency_id="explorer", **PRIVATE)
    c["run"].click(run, [c["prompt"], c["image"], c["scale"], c["top_k"], c["max_new"], c["layer"],
                         c["head"], c["keywords"], c["context"], lang_radio], outputs,
                   concurrency_id="explorer", concurrency_limit=1, **PRIVATE)
    explorer_parts.bind(c, lang_radio, _explorer)
    explorer_learn.bind(c, lang_radio, _explorer)
    explorer_eval.bind(c, lang_radio)


def api() -> None:
    """/next_token, /explore, /take_apart, /attribute and /evaluate_explorer for programs (the shared model with its default adapter)."""
    def api_next_token(prompt: str, top_k: int = 10, scale: float = 1.0) -> dict:
        """Top-k next tokens after `prompt`, base vs LoRA, with KL(LoRA ‖ base)."""
        ex = _explorer(None, "en")
        return guarded("input", "en", lambda: ex.next_token(prompt, top_k=int(top_k), scale=float(scale)))

    def api_explore(prompt: str, top_k: int = 10, scale: float = 1.0, max_new_tokens: int = 32,
                    lang: str = "en") -> dict:
        """The full comparison as JSON: answers, top-k table, KL/JS, per-layer attention shift, and
        `summary`: the same report in plain words (`lang` "en" or "ru"; `reading` holds its facts)."""
        ex = _explorer(None, lang)
        with torch_threads():
            rep = guarded("input", lang, lambda: ex.explore(prompt, top_k=int(top_k), scale=float(scale),
                                                             max_new_tokens=int(max_new_tokens)))
        return {**rep.to_json(), "summary": summary(rep.reading, lang)}

    gr.api(api_next_token, api_name="next_token", concurrency_id="explorer")
    gr.api(api_explore, api_name="explore", concurrency_id="explorer")
    explorer_parts.api(_explorer)
    explorer_eval.api()


__all__ = ["ModelLoadError", "api", "bind", "build"]
