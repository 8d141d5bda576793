"""Training tab: corpus preview, settings, a training run streamed live, the result."""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from comparison.basics import parse_prefix
from comparison.charts import training as training_charts
from comparison.dev_eval import evaluate_dev
from tuning import runner
from tuning.config import PRESETS, UI_FIELDS, TrainConfig, ui_defaults
from tuning.data import preview as corpus_preview
from tuning.model import PLAIN_OFF_LABEL, QLORA_LABEL
from tuning.noise import delete_words
from tuning.publish import push_to_hub, zip_adapter
from ui.common import (PRIVATE, Labels, encoder, encoders, fmt_seconds, guarded, jobs, message,
                       session_of, status_md, user_dir)
from ui.locales import chart_labels, plural, t

DEFAULT_PRESET = "fast_cpu"


def preview_corpus(file: str | None, text_column: str | None = None) -> dict:
    """Detected encoding, columns, count after cleaning and a sample (the /preview_corpus API)."""
    if not file:
        raise gr.Error(t("err_no_corpus", "en"))
    info = guarded("corpus", "en", lambda: corpus_preview(Path(file), text_column or None))
    rng = random.Random(0)
    info["noisy_sample"] = [delete_words(x, TrainConfig().deletion_ratio, rng) for x in info["sample"]]
    return info


def _mode(label: str, lang: str) -> str:
    if label == QLORA_LABEL:
        return t("mode_qlora", lang)
    return t("mode_plain_off" if label == PLAIN_OFF_LABEL else "mode_plain_nobackend", lang)


def _line(rep: runner.TrainingReport, lang: str) -> str:
    """The live status line: place in the queue, or step / loss / time with a bar."""
    if rep.ahead:
        return t("queued", lang, n=rep.ahead, n_word=plural(rep.ahead, "trainings", lang))
    p = rep.last
    if p is None:
        return t("starting", lang)
    text = t("progress", lang, step=p.step, total=p.total_steps, epoch=p.epoch,
             loss="…" if p.loss is None else f"{p.loss:.3f}",
             elapsed=fmt_seconds(p.elapsed_s, lang), eta=fmt_seconds(p.eta_s, lang))
    return f"<progress value='{p.step}' max='{max(p.total_steps, 1)}' style='width:100%'></progress>\n\n{text}"


def _summary(rep: runner.TrainingReport, lang: str) -> str:
    res = rep.result
    text = t("done_md", lang, status=t(f"status_{res.status}", lang),
             elapsed=fmt_seconds(res.elapsed_s, lang), steps=res.steps,
             steps_word=plural(res.steps, "steps", lang), n=rep.n_texts,
             n_word=plural(rep.n_texts, "texts", lang),
             mode=_mode(res.mode_label, lang) if res.mode_label else "-",
             saved="✅" if res.adapter_saved else "❌")
    return text if res.adapter_saved else f"{text}  \n{t('nothing_saved', lang)}"


def _metrics(rep: runner.TrainingReport) -> dict:
    res = rep.result
    return {"status": res.status, "steps": res.steps, "total_steps": res.total_steps,
            "n_texts": rep.n_texts, "mode": res.mode_label, "quantized": res.quantized,
            "elapsed_s": round(res.elapsed_s, 1),
            "first_loss": round(res.losses[0], 4) if res.losses else None,
            "last_loss": round(res.losses[-1], 4) if res.losses else None}


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {"trained_dir": gr.State(None)}
    L(gr.Markdown(t("train_help", lang)), "train_help", "value")
    with gr.Row():
        with gr.Column():
            c["corpus"] = L(gr.File(label=t("corpus", lang), elem_id="corpus-file",
                                    file_types=[".txt", ".csv", ".tsv", ".xlsx", ".jsonl", ".parquet"]), "corpus")
            c["text_col"] = L(gr.Dropdown([], label=t("text_column", lang), allow_custom_value=False), "text_column")
            c["preview_md"] = gr.Markdown(elem_id="corpus-preview")
            c["preview_json"] = gr.JSON(visible=False)
        with gr.Column():
            c["preview_table"] = L(gr.Dataframe(headers=[t("col_clean", lang), t("col_noisy", lang)],
                                                label=t("preview", lang), interactive=False, wrap=True,
                                                max_height=260, column_widths=["50%", "50%"]), "preview")
    c["preset"] = L(gr.Dropdown([(t(f"preset_{k}", lang), k) for k in PRESETS], value=DEFAULT_PRESET,
                                label=t("preset", lang)), "preset")
    defaults = ui_defaults(DEFAULT_PRESET)
    with L(gr.Accordion(t("advanced", lang), open=False), "advanced"):
        with gr.Row():
            c["fields"] = [_field(L, name, defaults[name], lang) for name in UI_FIELDS]
    with gr.Row():
        c["start"] = L(gr.Button(t("start", lang), variant="primary", elem_id="train-start"), "start", "value")
        c["cancel"] = L(gr.Button(t("cancel", lang), variant="stop", elem_id="train-cancel"), "cancel", "value")
    c["status"] = gr.Markdown(elem_id="train-status")
    c["loss_plot"] = gr.Plot()
    with L(gr.Accordion(t("result", lang), open=True), "result"):
        c["result_md"] = gr.Markdown(elem_id="train-result")
        c["zip"] = L(gr.File(label=t("download", lang), interactive=False, elem_id="train-zip"), "download")
        c["metrics"] = gr.JSON(visible=False)
        c["use"] = L(gr.Button(t("use_in_sim", lang), elem_id="train-use"), "use_in_sim", "value")
        with L(gr.Accordion(t("hub_push", lang), open=False), "hub_push"):
            with gr.Row():
                c["hub_repo"] = L(gr.Textbox(label=t("hub_repo", lang)), "hub_repo")
                c["hub_token"] = L(gr.Textbox(label=t("hub_token", lang), type="password"), "hub_token")
                c["hub_private"] = L(gr.Checkbox(True, label=t("hub_private", lang)), "hub_private")
            c["push"] = L(gr.Button(t("push", lang)), "push", "value")
            c["push_md"] = gr.Markdown()
        with L(gr.Accordion(t("eval", lang), open=False), "eval"):
            c["dev_file"] = L(gr.File(label=t("eval_file", lang), file_types=[".csv"]), "eval_file")
            c["eval"] = L(gr.Button(t("eval_run", lang)), "eval_run", "value")
            c["eval_table"] = gr.Dataframe(interactive=False)
    return c


def _field(L: Labels, name: str, value: object, lang: str) -> Any:
    """A form field for a TrainConfig setting: plain words first, the technical name second."""
    L_info = f"help_{name}"
    if isinstance(value, bool):
        box = gr.Checkbox(value, label=t(f"field_{name}", lang), info=t(L_info, lang), min_width=140)
    else:
        box = gr.Number(value, label=t(f"field_{name}", lang), info=t(L_info, lang), min_width=140,
                        precision=0 if isinstance(value, int) else None)
    L(box, L_info, "info")
    return L(box, f"field_{name}")


def bind(c: dict[str, Any], lang_radio: gr.Radio, status: gr.Markdown, sim: dict[str, Any],
         tabs: gr.Tabs) -> None:
    fields = c["fields"]
    outputs = [c["zip"], c["metrics"], c["status"], c["loss_plot"], c["result_md"], c["trained_dir"]]

    def show_preview(info: dict | None, lang: str) -> dict:
        if not info:
            return {}
        cols = info.get("columns") or []
        table = pd.DataFrame({t("col_clean", lang): info["sample"], t("col_noisy", lang): info.get("noisy_sample", [])})
        n = info.get("n_texts") or 0
        return {c["preview_md"]: t("preview_md", lang, n_word=plural(n, "texts", lang),
                                   **{k: info.get(k) for k in ("n_texts", "n_raw", "encoding", "text_column")}),
                c["text_col"]: gr.update(choices=cols, value=info.get("text_column"), interactive=len(cols) > 1),
                c["preview_table"]: table}

    def apply_preset(name: str) -> dict:
        values = ui_defaults(name)
        return {box: values[field] for box, field in zip(fields, UI_FIELDS)}

    def start_training(file: str | None, text_column: str | None, lang: str, r: float,
                       lora_alpha: float, lora_dropout: float, learning_rate: float, epochs: float,
                       batch_size: float, max_length: float, deletion_ratio: float, use_4bit: bool,
                       time_budget_s: float | None, max_steps: float | None, seed: float,
                       request: gr.Request):
        """Train in the background queue; stream progress, the loss curve and the result."""
        if not file:
            raise gr.Error(t("err_no_corpus", lang))
        out = user_dir(request, lang) / "trained" / time.strftime("adapter-%Y%m%d-%H%M%S")
        form = {k: v for k, v in locals().items() if k in UI_FIELDS}
        settings = guarded("input", lang, lambda: TrainConfig.from_ui(form))
        stream = runner.run(jobs, session_of(request), Path(file), text_column, settings,
                            encoder(lang).base.path, out)
        names = chart_labels("training", lang)
        for rep in guarded("corpus", lang, lambda: _first(stream)):
            if rep.error:
                raise gr.Error(t("err_training", lang, detail=rep.error))
            if not rep.done:
                yield {c["status"]: _line(rep, lang),
                       c["loss_plot"]: training_charts.loss_curve(rep.steps, rep.losses, names=names)
                       if rep.last else gr.update()}
                continue
            res = rep.result
            zip_path = (str(zip_adapter(Path(res.adapter_dir), out.parent.parent / f"{out.name}.zip"))
                        if res.adapter_saved and res.adapter_dir else None)
            yield {c["zip"]: zip_path, c["metrics"]: _metrics(rep), c["status"]: "",
                   c["loss_plot"]: training_charts.loss_curve(rep.steps, rep.losses, names=names),
                   c["result_md"]: _summary(rep, lang),
                   c["trained_dir"]: str(res.adapter_dir) if res.adapter_saved else None}

    def cancel_training(lang: str, request: gr.Request) -> dict:
        return {c["status"]: t("cancelled" if jobs.cancel(session_of(request)) else "nothing_to_cancel", lang)}

    def use_trained(adapter_dir: str | None, lang: str, request: gr.Request) -> dict:
        if not adapter_dir:
            raise gr.Error(t("no_trained", lang))
        session = session_of(request)
        name, _ = guarded("adapter", lang, lambda: encoders.add_session_adapter(
            session, Path(adapter_dir).name, Path(adapter_dir)))
        gr.Info(t("used", lang))
        return {sim["adapter"]: gr.update(choices=encoders.adapter_choices(session), value=name),
                tabs: gr.Tabs(selected="similarity"), status: status_md(lang, session, name)}

    def push_trained(adapter_dir: str | None, repo: str, token: str, private: bool, lang: str) -> dict:
        if not adapter_dir:
            raise gr.Error(t("no_trained", lang))
        url = guarded("publish", lang, lambda: push_to_hub(Path(adapter_dir), repo, token, private))
        return {c["push_md"]: t("push_ok", lang, url=url)}

    def evaluate_trained(dev_file: str | None, adapter_dir: str | None, prefix: str, lang: str,
                         request: gr.Request) -> dict:
        if not dev_file:
            raise gr.Error(t("err_no_dev", lang))
        enc, name = encoder(lang), None
        if adapter_dir:
            name, _ = guarded("adapter", lang, lambda: encoders.add_session_adapter(
                session_of(request), Path(adapter_dir).name, Path(adapter_dir)))
        frame = guarded("input", lang, lambda: evaluate_dev(enc, name, Path(dev_file), parse_prefix(prefix)))
        rows = {"base": t("row_base", lang), "base + adapter": t("row_adapter", lang)}
        frame["model"] = frame["model"].map(rows)
        return {c["eval_table"]: frame.round(4).rename(columns={"model": t("col_model", lang)})}

    c["corpus"].upload(preview_corpus, [c["corpus"]], [c["preview_json"]], api_name="preview_corpus").then(
        show_preview, [c["preview_json"], lang_radio], [c["preview_md"], c["text_col"], c["preview_table"]], **PRIVATE)
    c["text_col"].input(preview_corpus, [c["corpus"], c["text_col"]], [c["preview_json"]], **PRIVATE).then(
        show_preview, [c["preview_json"], lang_radio], [c["preview_md"], c["text_col"], c["preview_table"]], **PRIVATE)
    c["preset"].change(apply_preset, [c["preset"]], fields, **PRIVATE)
    c["start"].click(start_training, [c["corpus"], c["text_col"], lang_radio, *fields], outputs,
                     api_name="train", concurrency_limit=8, concurrency_id="train")
    c["cancel"].click(cancel_training, [lang_radio], [c["status"]], concurrency_limit=None, **PRIVATE)
    c["use"].click(use_trained, [c["trained_dir"], lang_radio], [sim["adapter"], tabs, status], **PRIVATE)
    c["push"].click(push_trained, [c["trained_dir"], c["hub_repo"], c["hub_token"], c["hub_private"], lang_radio],
                    [c["push_md"]], **PRIVATE)
    c["eval"].click(evaluate_trained, [c["dev_file"], c["trained_dir"], sim["prefix"], lang_radio],
                    [c["eval_table"]], **PRIVATE)


def _first(stream):
    """The stream with its first report pulled now, so bad input raises inside `guarded`."""
    first = next(stream)

    def chained():
        yield first
        yield from stream
    return chained()
