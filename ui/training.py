"""Training tab: corpus preview, settings, a training run streamed live, the result."""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from comparison.charts import training as training_charts
from tuning import runner
from tuning.config import (CHOICE_FIELDS, OBJECTIVES, PRESETS, UI_FIELDS, TrainConfig, form_values,
                           ui_defaults)
from tuning.data import preview as corpus_preview
from tuning.encodings import OFFERED_ENCODINGS
from tuning.augment import augment
from tuning.noise import delete_words
from tuning.publish import push_to_hub, zip_adapter
from ui.common import (PRIVATE, Labels, adapter_choices, encoder, encoders, guarded, jobs, message,
                       session_of, status_md, user_dir)
from ui import evaluation
from ui.training_words import plan_text, progress_line, run_metrics, summary_md
from ui.locales import chart_labels, plural, t

DEFAULT_PRESET = "matching"
# /train's settings that came after `encoding`: they follow it, so older positional calls
# (file, column, language, the first fifteen settings, encoding) keep their meaning.
API_LATE_FIELDS: tuple[str, ...] = ("ranking_weight",)
FIELDS_PER_ROW = 8  # the 16 settings in two even rows (one wrapped row clipped the checkboxes)
FIELD_WIDTH = 140  # px: below it a row wraps (narrow screens)
AUTO = "auto"  # the encoding dropdown's "detect it" value (also what /train and /preview_corpus default to)


def api_settings(cfg: TrainConfig, encoding: str = AUTO) -> list[Any]:
    """/train's positional inputs after file, column and language: `cfg` as the form sends it."""
    value = form_values(cfg)
    return ([value[k] for k in UI_FIELDS if k not in API_LATE_FIELDS] + [encoding]
            + [value[k] for k in API_LATE_FIELDS])


def chosen_encoding(value: str | None) -> str | None:
    """The encoding dropdown's value as the corpus reader takes it: None = detect it."""
    return None if not value or value == AUTO else value


def preview_corpus(file: str | None, text_column: str | None = None, encoding: str | None = None) -> dict:
    """Detected (or chosen) encoding, columns, count after cleaning and a sample
    (the /preview_corpus API; `encoding` "auto" or empty = detect)."""
    return preview_info(file, text_column, encoding, "en")


def preview_info(file: str | None, text_column: str | None, encoding: str | None, lang: str) -> dict:
    if not file:
        raise gr.Error(t("err_no_corpus", lang))
    info = guarded("corpus", lang, lambda: corpus_preview(Path(file), text_column or None, chosen_encoding(encoding)))
    rng = random.Random(0)
    info["rewrite_sample"] = [augment(x, rng) for x in info["sample"]]
    info["noisy_sample"] = [delete_words(x, TrainConfig().deletion_ratio, rng) for x in info["sample"]]
    return info


def shown_encoding(name: str | None) -> str | None:
    """The detected codec as the dropdown shows it: a BOM is a detail (utf-8-sig is utf-8)."""
    return "utf-8" if name == "utf-8-sig" else name


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {"trained_dir": gr.State(None)}
    L(gr.Markdown(t("train_help", lang)), "train_help", "value")
    with gr.Row():
        with gr.Column():
            c["corpus"] = L(gr.File(label=t("corpus", lang), elem_id="corpus-file",
                                    file_types=[".txt", ".csv", ".tsv", ".xlsx", ".jsonl", ".parquet"]), "corpus")
            c["text_col"] = L(gr.Dropdown([], label=t("text_column", lang), allow_custom_value=False), "text_column")
            c["encoding"] = L(gr.Dropdown([(t("enc_auto", lang), AUTO), *OFFERED_ENCODINGS], value=AUTO,
                                          label=t("encoding", lang), info=t("encoding_info", lang),
                                          allow_custom_value=True, interactive=False,
                                          elem_id="corpus-encoding"), "encoding")
            L(c["encoding"], "encoding_info", "info")
            c["preview_md"] = gr.Markdown(elem_id="corpus-preview")
            c["preview_json"] = gr.JSON(visible=False)
        with gr.Column():
            c["preview_table"] = L(gr.Dataframe(headers=[t("col_clean", lang), t("col_rewrite", lang), t("col_noisy", lang)],
                                                label=t("preview", lang), interactive=False, wrap=True,
                                                max_height=260, column_widths=["50%", "50%"]), "preview")
    c["preset"] = L.choices(L(gr.Dropdown([(t(f"preset_{k}", lang), k) for k in PRESETS], value=DEFAULT_PRESET,
                                          label=t("preset", lang), elem_id="train-preset"), "preset"),
                            "preset_", PRESETS)
    defaults = ui_defaults(DEFAULT_PRESET)
    with L(gr.Accordion(t("advanced", lang), open=False), "advanced"):
        c["fields"] = []
        for start in range(0, len(UI_FIELDS), FIELDS_PER_ROW):
            with gr.Row(equal_height=True):
                c["fields"] += [_field(L, name, defaults[name], lang)
                                for name in UI_FIELDS[start:start + FIELDS_PER_ROW]]
    c["plan"] = gr.Markdown(elem_id="train-plan")
    with gr.Row():
        c["start"] = L(gr.Button(t("start", lang), variant="primary", elem_id="train-start"), "start", "value")
        c["cancel"] = L(gr.Button(t("cancel", lang), variant="stop", elem_id="train-cancel"), "cancel", "value")
    c["status"] = gr.Markdown(elem_id="train-status")
    c["loss_plot"] = gr.Plot(show_label=False)
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
    with gr.Row(visible=False):  # the /preview_corpus API: the file plus optional column and encoding
        c["api_column"] = gr.Textbox("", label="text_column")
        c["api_encoding"] = gr.Textbox(AUTO, label="encoding")
        c["api_preview"] = gr.Button()
    return c


def _field(L: Labels, name: str, value: object, lang: str) -> Any:
    """A form field for a TrainConfig setting: plain words first, the technical name second."""
    L_info = f"help_{name}"
    if name == "objective":
        box = gr.Dropdown([(t(f"obj_{o}", lang), o) for o in OBJECTIVES], value=value, min_width=200,
                          label=t(f"field_{name}", lang), info=t(L_info, lang), elem_id="field-objective")
    elif name in CHOICE_FIELDS:
        box = gr.Dropdown([(t(f"choice_{name}_{v}", lang), v) for v in CHOICE_FIELDS[name]], value=value,
                          allow_custom_value=True, min_width=FIELD_WIDTH, label=t(f"field_{name}", lang),
                          info=t(L_info, lang), elem_id=f"field-{name}")
        L.choices(box, f"choice_{name}_", CHOICE_FIELDS[name])
    elif isinstance(value, bool):
        box = gr.Checkbox(value, label=t(f"field_{name}", lang), info=t(L_info, lang),
                          min_width=FIELD_WIDTH)
    else:
        box = gr.Number(value, label=t(f"field_{name}", lang), info=t(L_info, lang),
                        min_width=FIELD_WIDTH, precision=0 if isinstance(value, int) else None)
    L(box, L_info, "info")
    if name == "objective":
        L.choices(box, "obj_", OBJECTIVES)
    return L(box, f"field_{name}")


PREVIEW_VIEW = ("preview_md", "text_col", "encoding", "preview_table")
"""The components a corpus preview fills (after an upload, or a catalog handed over)."""


def preview_view(c: dict[str, Any], info: dict | None, lang: str) -> dict:
    """The preview's words, column and encoding choices and sample table for `info`."""
    if not info:
        return {}
    cols, detected = info.get("columns") or [], shown_encoding(info.get("encoding"))
    offered = list(info.get("encodings") or [])
    choices = offered + ([detected] if detected and detected not in offered else [])
    table = pd.DataFrame({t("col_clean", lang): info["sample"],
                          t("col_rewrite", lang): info.get("rewrite_sample", []),
                          t("col_noisy", lang): info.get("noisy_sample", [])})
    n = info.get("n_texts") or 0
    return {c["preview_md"]: t("preview_md", lang, n_word=plural(n, "texts", lang), encoding=detected,
                               **{k: info.get(k) for k in ("n_texts", "n_raw", "text_column")}),
            c["text_col"]: gr.update(choices=cols, value=info.get("text_column"), interactive=len(cols) > 1),
            c["encoding"]: gr.update(choices=choices or [(t("enc_auto", lang), AUTO)],
                                     value=detected if choices else AUTO, interactive=bool(offered)),
            c["preview_table"]: table}


def bind(c: dict[str, Any], lang_radio: gr.Radio, status: gr.Markdown, sim: dict[str, Any],
         tabs: gr.Tabs) -> None:
    fields = c["fields"]
    outputs = [c["zip"], c["metrics"], c["status"], c["loss_plot"], c["result_md"], c["trained_dir"]]

    def show_plan(info: dict | None, lang: str, *values: Any) -> dict:
        """'≈ 6 min, 315 steps' for the previewed corpus and the form as it is now."""
        if not info or not info.get("n_texts"):
            return {c["plan"]: ""}
        try:
            cfg = TrainConfig.from_ui(dict(zip(UI_FIELDS, values)))
        except ValueError as exc:
            return {c["plan"]: message(exc, lang)}
        return {c["plan"]: plan_text(cfg, info, lang)}

    def apply_preset(name: str) -> dict:
        values = ui_defaults(name)
        return {box: values[field] for box, field in zip(fields, UI_FIELDS)}

    def start_training(file: str | None, text_column: str | None, lang: str, r: float,
                       lora_alpha: float, lora_dropout: float, learning_rate: float, epochs: float,
                       batch_size: float, max_length: float, deletion_ratio: float, use_4bit: bool,
                       time_budget_s: float | None, max_steps: float | None, seed: float,
                       objective: str | None = None, anchor_weight: float | None = None,
                       hard_negatives: bool | None = None, encoding: str | None = AUTO,
                       ranking_weight: float | None = None, request: gr.Request = None):
        """Train in the background queue; stream progress, the loss curve and the result.

        The trailing settings and `encoding` are optional (older /train calls omit them);
        settings added after `encoding` come after it (API_LATE_FIELDS)."""
        if not file:
            raise gr.Error(t("err_no_corpus", lang))
        out = user_dir(request, lang) / "trained" / time.strftime("adapter-%Y%m%d-%H%M%S")
        form = {k: v for k, v in locals().items() if k in UI_FIELDS}  # None: the default
        settings = guarded("input", lang, lambda: TrainConfig.from_ui(form))
        stream = runner.run(jobs, session_of(request), Path(file), text_column, settings,
                            encoder(lang).base.path, out, encoding=chosen_encoding(encoding))
        names = chart_labels("training", lang)
        for rep in guarded("corpus", lang, lambda: _first(stream)):
            if rep.error:
                raise gr.Error(t("err_training", lang, detail=rep.error))
            if not rep.done:
                yield {c["status"]: progress_line(rep, lang),
                       c["loss_plot"]: training_charts.loss_curve(rep.steps, rep.losses, names=names)
                       if rep.last else gr.update()}
                continue
            res = rep.result
            zip_path = (str(zip_adapter(Path(res.adapter_dir), out.parent.parent / f"{out.name}.zip"))
                        if res.adapter_saved and res.adapter_dir else None)
            yield {c["zip"]: zip_path, c["metrics"]: run_metrics(rep), c["status"]: "",
                   c["loss_plot"]: training_charts.loss_curve(rep.steps, rep.losses, names=names),
                   c["result_md"]: summary_md(rep, lang),
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
        return {sim["adapter"]: gr.update(choices=adapter_choices(session, lang), value=name),
                tabs: gr.Tabs(selected="similarity"), status: status_md(lang, session, name)}

    def push_trained(adapter_dir: str | None, repo: str, token: str, private: bool, lang: str) -> dict:
        if not adapter_dir:
            raise gr.Error(t("no_trained", lang))
        url = guarded("publish", lang, lambda: push_to_hub(Path(adapter_dir), repo, token, private))
        return {c["push_md"]: t("push_ok", lang, url=url)}

    shown = [c[k] for k in PREVIEW_VIEW]

    def show_preview(info: dict | None, lang: str) -> dict:
        return preview_view(c, info, lang)

    c["corpus"].upload(lambda f, lang: preview_info(f, None, None, lang), [c["corpus"], lang_radio], [c["preview_json"]],
                       **PRIVATE).then(show_preview, [c["preview_json"], lang_radio], shown, **PRIVATE)
    c["api_preview"].click(preview_corpus, [c["corpus"], c["api_column"], c["api_encoding"]], [c["preview_json"]],
                           api_name="preview_corpus")
    for box in (c["text_col"], c["encoding"]):  # a new column or encoding: preview again with it
        box.input(preview_info, [c["corpus"], c["text_col"], c["encoding"], lang_radio], [c["preview_json"]],
                  **PRIVATE).then(show_preview, [c["preview_json"], lang_radio], shown, **PRIVATE)
    gr.on([c["preview_json"].change, *(f.change for f in fields)], show_plan,
          [c["preview_json"], lang_radio, *fields], [c["plan"]], **PRIVATE)
    c["preset"].change(apply_preset, [c["preset"]], fields, **PRIVATE)
    c["start"].click(lambda: evaluation.cleared(sim["eval"]), None, evaluation.outputs(sim["eval"]), **PRIVATE)
    early = [box for box, name in zip(fields, UI_FIELDS) if name not in API_LATE_FIELDS]
    late = [box for box, name in zip(fields, UI_FIELDS) if name in API_LATE_FIELDS]
    inputs = [c["corpus"], c["text_col"], lang_radio, *early, c["encoding"], *late]
    c["start"].click(start_training, inputs, outputs, api_name="train", concurrency_limit=8,
                     concurrency_id="train")
    c["cancel"].click(cancel_training, [lang_radio], [c["status"]], concurrency_limit=None, **PRIVATE)
    c["use"].click(use_trained, [c["trained_dir"], lang_radio], [sim["adapter"], tabs, status], **PRIVATE)
    c["push"].click(push_trained, [c["trained_dir"], c["hub_repo"], c["hub_token"], c["hub_private"], lang_radio],
                    [c["push_md"]], **PRIVATE)


def _first(stream):
    """The stream with its first report pulled now, so bad input raises inside `guarded`."""
    first = next(stream)

    def chained():
        yield first
        yield from stream
    return chained()
