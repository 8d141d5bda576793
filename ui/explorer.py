"""LoRA explorer tab: one language model, base vs base + LoRA, every view of one input."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from comparison.adapters import unpack_adapter
from comparison.charts import explorer as exp_charts
from comparison.explorer import ModelLoadError
from comparison.explorer.probes import verdict_kind
from comparison.explorer_report import ExplorerReport, explore_all
from ui.common import PRIVATE, Labels, explorers, guarded, progress_cb, session_of, user_dir, user_error
from ui.locales import chart_labels, localize_label, t


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
        return t("exp_not_loaded", lang)
    ex = _explorer(session, lang)
    adapter = t("lbl_none", lang) if ex.adapter_label == "none" else localize_label(ex.adapter_label, lang)
    return t("exp_models", lang, model=localize_label(ex.model_label, lang), adapter=adapter)


def _figures(rep: ExplorerReport, image: Any, lang: str) -> dict[str, Any]:
    """Figure per view name from the report (None where a view does not apply)."""
    lab = chart_labels("explorer", lang)
    res = rep.result
    return {
        "topk": exp_charts.top_k_figure(res.top_k, lab),
        "kw": exp_charts.keyword_figure(rep.keywords, lab) if rep.keywords is not None else None,
        "att": exp_charts.attention_figure(rep.attention_base, rep.attention_lora, rep.query_labels,
                                           res.tokens, rep.layer, lab),
        "img": exp_charts.image_attention_figure(image, *rep.image_maps, lab) if rep.image_maps else None,
        "shift": exp_charts.layer_shift_figure(res.layer_shift, lab),
        "anat": exp_charts.anatomy_figure(rep.anatomy_grid, lab) if rep.anatomy is not None else None,
        "sv": exp_charts.singular_values_figure(rep.anatomy, lab) if rep.anatomy is not None else None,
        "pvl": exp_charts.prompt_vs_lora_figure(rep.prompt_vs_lora.table, lab) if rep.prompt_vs_lora else None,
    }


def _verdict(rep: ExplorerReport, lang: str) -> str:
    pvl = rep.prompt_vs_lora
    if pvl is None:
        return ""
    kind, params = verdict_kind(pvl.kl_lora, pvl.kl_lora_vs_context, pvl.top_overlap, pvl.same_top1)
    return t(f"verdict_{kind}", lang, **params)


PLOTS = ("topk", "kw", "att", "img", "shift", "anat", "sv", "pvl")


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
        c["max_new"] = L(gr.Slider(0, 128, 40, step=1, label=t("max_new", lang)), "max_new")
        c["layer"] = L(gr.Slider(0, 63, 0, step=1, label=t("layer", lang)), "layer")
        c["head"] = L(gr.Slider(-1, 31, -1, step=1, label=t("head", lang)), "head")
    with gr.Row():
        c["load"] = L(gr.Button(t("exp_load", lang), elem_id="exp-load"), "exp_load", "value")
        c["run"] = L(gr.Button(t("explore", lang), variant="primary", elem_id="exp-run"), "explore", "value")
    with gr.Row():
        c["ans_base"] = L(gr.Textbox(label=t("answer_base", lang), lines=4, interactive=False,
                                     elem_id="answer-base"), "answer_base")
        c["ans_lora"] = L(gr.Textbox(label=t("answer_lora", lang), lines=4, interactive=False,
                                     elem_id="answer-lora"), "answer_lora")
    c["divergence"] = gr.Markdown(elem_id="exp-divergence")
    ids = {"topk": "plot-topk", "kw": "plot-keywords", "att": "plot-attention", "img": "plot-image-attention",
           "shift": "plot-layer-shift", "anat": "plot-anatomy", "sv": "plot-singular", "pvl": "plot-prompt-vs-lora"}
    for row in (("topk", "kw"), ("att",), ("img",), ("shift", "anat"), ("sv", "pvl")):
        with gr.Row():
            for key in row:
                c[key] = gr.Plot(elem_id=ids[key])
    c["verdict"] = gr.Markdown(elem_id="exp-verdict")
    return c


def bind(c: dict[str, Any], lang_radio: gr.Radio, tab: gr.Tab) -> None:
    def on_select(lang: str, request: gr.Request) -> dict:
        return {c["status"]: _status(session_of(request), lang)}

    def load(lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        ex = _explorer(None, lang, progress)
        layers = int(ex.model.config.get_text_config().num_hidden_layers)
        return {c["status"]: _status(session_of(request), lang),
                c["layer"]: gr.update(maximum=layers - 1, value=layers - 1)}

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
        """All explorer views for one input: base and LoRA passes from the one shared model."""
        ex = _explorer(session_of(request), lang, progress)
        step = lambda frac, what: progress(frac, desc=t(f"exp_progress_{what}", lang))  # noqa: E731
        rep = guarded("input", lang, lambda: explore_all(
            ex, prompt, image, float(scale), int(top_k), int(max_new), int(layer),
            None if int(head) < 0 else int(head), (keywords or "").split(","), context, step))
        figs = _figures(rep, image, lang)
        res = rep.result
        return {c["ans_base"]: res.answers.get("base", ""), c["ans_lora"]: res.answers.get("lora", ""),
                c["divergence"]: t("divergence", lang, kl=res.kl, js=res.js),
                **{c[k]: figs[k] for k in PLOTS}, c["verdict"]: _verdict(rep, lang),
                c["status"]: _status(session_of(request), lang),
                c["layer"]: gr.update(maximum=rep.n_layers - 1, value=rep.layer)}

    outputs = [c["ans_base"], c["ans_lora"], c["divergence"], *(c[k] for k in PLOTS), c["verdict"],
               c["status"], c["layer"]]
    c["load"].click(load, [lang_radio], [c["status"], c["layer"]], **PRIVATE)
    tab.select(on_select, [lang_radio], [c["status"]], **PRIVATE)
    c["adapter_file"].upload(upload, [c["adapter_file"], lang_radio], [c["status"]],
                             concurrency_id="explorer", **PRIVATE)
    c["run"].click(run, [c["prompt"], c["image"], c["scale"], c["top_k"], c["max_new"], c["layer"],
                         c["head"], c["keywords"], c["context"], lang_radio], outputs,
                   concurrency_id="explorer", concurrency_limit=1, **PRIVATE)


def api() -> None:
    """/next_token and /explore for programs (the shared model with its default adapter)."""
    def api_next_token(prompt: str, top_k: int = 10, scale: float = 1.0) -> dict:
        """Top-k next tokens after `prompt`, base vs LoRA, with KL(LoRA ‖ base)."""
        ex = _explorer(None, "en")
        return guarded("input", "en", lambda: ex.next_token(prompt, top_k=int(top_k), scale=float(scale)))

    def api_explore(prompt: str, top_k: int = 10, scale: float = 1.0, max_new_tokens: int = 32) -> dict:
        """The full comparison as JSON: answers, top-k table, KL/JS, per-layer attention shift."""
        ex = _explorer(None, "en")
        return guarded("input", "en", lambda: ex.explore(prompt, top_k=int(top_k), scale=float(scale),
                                                          max_new_tokens=int(max_new_tokens)).to_json())

    gr.api(api_next_token, api_name="next_token", concurrency_id="explorer")
    gr.api(api_explore, api_name="explore", concurrency_id="explorer")


__all__ = ["ModelLoadError", "api", "bind", "build"]
