"""The explorer tab's "watch it learn" section: the demo adapter's training checkpoints
replayed on the current question (`comparison.explorer.checkpoints`), one slider step each."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from comparison.basics import torch_threads
from comparison.charts.explorer import learning_curve_figure, learning_figure
from comparison.explorer import checkpoints_dir
from comparison.explorer.checkpoints import Replay, replay
from ui.common import PRIVATE, Labels, guarded, session_of
from ui.locales import chart_labels, t


def step_text(rep: Replay, index: int, lang: str) -> str:
    """One checkpoint of a replay in words."""
    loss = rep.losses[index]
    return t("ln_text", lang, step=rep.steps[index], total=rep.steps[-1],
             loss=t("ln_loss", lang, loss=loss) if loss is not None else "",
             answer=(rep.answers[index] or "∅").replace("\n", " ⏎ "), kl_b=rep.kl_to_base[index],
             kl_f=rep.kl_to_final[index])


def _views(rep: Replay, index: int, lang: str) -> tuple[str, Any, Any]:
    labels = chart_labels("explorer", lang)
    index = max(0, min(int(index), len(rep.steps) - 1))
    return (step_text(rep, index, lang), learning_figure(rep.top_k[index], rep.steps[index], labels),
            learning_curve_figure(rep.steps, rep.kl_to_base, rep.kl_to_final, rep.steps[index], labels))


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    L(gr.Markdown(t("ln_title", lang)), "ln_title", "value")
    L(gr.Markdown(t("ln_help", lang)), "ln_help", "value")
    c["ln_run"] = L(gr.Button(t("ln_run", lang), elem_id="ln-run"), "ln_run", "value")
    c["ln_state"] = gr.State(None)
    c["ln_slider"] = L(gr.Slider(0, 1, 0, step=1, label=t("ln_slider", lang), interactive=False,
                                 elem_id="ln-step"), "ln_slider")
    c["ln_text"] = gr.Markdown(elem_id="ln-text")
    with gr.Row():
        c["ln_plot"] = gr.Plot(show_label=False, elem_id="plot-learn", visible=False)
        c["ln_curve"] = gr.Plot(show_label=False, elem_id="plot-learn-curve", visible=False)
    return c


def bind(c: dict[str, Any], lang_radio: gr.Radio, get: Callable[..., Any]) -> None:
    outs = [c["ln_state"], c["ln_slider"], c["ln_text"], c["ln_plot"], c["ln_curve"]]

    def on_run(prompt: str, lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()) -> list:
        ex = get(session_of(request), lang, progress)
        folder = checkpoints_dir(ex)
        if folder is None:
            return [None, gr.update(interactive=False), t("ln_none", lang), gr.update(visible=False),
                    gr.update(visible=False)]
        with torch_threads():
            rep = guarded("input", lang, lambda: replay(ex, prompt or "", folder))
        last = len(rep.steps) - 1
        text, fig, curve = _views(rep, last, lang)
        return [rep, gr.update(minimum=0, maximum=last, value=last, interactive=True), text,
                gr.update(value=fig, visible=True), gr.update(value=curve, visible=True)]

    def on_step(rep: Replay | None, index: float, lang: str) -> list:
        if rep is None:
            return [gr.update(), gr.update(), gr.update()]
        text, fig, curve = _views(rep, int(index), lang)
        return [text, gr.update(value=fig, visible=True), gr.update(value=curve, visible=True)]

    c["ln_run"].click(on_run, [c["prompt"], lang_radio], outs, concurrency_id="explorer", concurrency_limit=1,
                      **PRIVATE)
    c["ln_slider"].change(on_step, [c["ln_state"], c["ln_slider"], lang_radio],
                           [c["ln_text"], c["ln_plot"], c["ln_curve"]], **PRIVATE)
