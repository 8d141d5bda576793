"""The explorer tab's evaluation section: a question set × base + every adapter of the model.

It re-creates seed 001's configs × characters table, scored by the explicit rules of
`comparison.explorer.evaluate`, beside the report's own hand-judged table. Cancel has
its own per-session `threading.Event`: gradio's `cancels=` does not stop a running call.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import gradio as gr

from comparison.basics import torch_threads
from comparison.charts.explorer import evaluation_figure
from comparison.explorer import add_config_adapters
from comparison.explorer.adapter_io import ADAPTER_NAME
from comparison.explorer.evaluate import EvaluationReport, evaluate, seed_results_table
from comparison.explorer.questions import Question, load_questions
from ui.common import PRIVATE, Labels, explorers, guarded, session_of, user_dir, user_error
from ui.locales import chart_labels, localize_label, t

_cancel: dict[str, threading.Event] = {}  # session → its evaluation's stop signal
_configs_lock = threading.Lock()


def _stop_signal(session: str) -> threading.Event:
    return _cancel.setdefault(session, threading.Event())


def forget_session(session: str) -> None:
    """Stop and forget a closed session's evaluation signal."""
    stop = _cancel.pop(session, None)
    if stop is not None:
        stop.set()


def offered_adapters(session: str, lang: str) -> tuple[Any, list[str], dict[str, str]]:
    """(explorer, adapter names, display titles): the demo, the four configs and the session's own."""
    ex = explorers.get()
    with _configs_lock:  # attached once to the one shared model
        configs = add_config_adapters(ex)
    own = [n for n in explorers.owned(session) if n in ex.adapters()]
    names = ([ADAPTER_NAME] if ADAPTER_NAME in ex.adapters() else []) + configs + own
    titles = {n: localize_label(explorers.label(n), lang) for n in own}
    return ex, names, titles


def run_evaluation(session: str, lang: str, questions_file: str | None = None,
                   progress: Any = None) -> tuple[EvaluationReport, list[Question]]:
    """The whole evaluation for one session; `progress(EvalProgress)` is told after each batch."""
    questions = guarded("input", lang, lambda: load_questions(questions_file))
    ex, names, titles = offered_adapters(session, lang)
    stop = _stop_signal(session)
    stop.clear()
    with torch_threads():  # one explorer call at a time (concurrency_id "explorer")
        report = guarded("input", lang, lambda: evaluate(ex, questions, adapters=names, titles=titles,
                                                         progress=progress, cancel=stop))
    return report, questions


def _choices(report: EvaluationReport) -> list[tuple[str, int]]:
    base = report.models[0]
    return [(f"{a.index + 1}. {a.model}: {a.question[:70]}", i) for i, a in enumerate(report.answers)
            if a.model != base]


def answer_detail(report: EvaluationReport | None, questions: list[Question] | None, pick: int | None,
                  lang: str) -> str:
    """Question, expected names, base answer, adapter answer and verdict of one answer row."""
    if report is None or pick is None or not 0 <= int(pick) < len(report.answers):
        return ""
    row = report.answers[int(pick)]
    base = next((a.answer for a in report.answers if a.index == row.index and a.model == report.models[0]), "")
    verdict = t("ev_right" if row.correct else "ev_wrong", lang)
    if row.names_others:
        verdict += "; " + t("ev_names", lang, names=", ".join(row.names_others))
    expected = ", ".join(questions[row.index].expected) if questions else ""
    return t("ev_detail", lang, q=row.question, exp=expected, base=base or "—", model=row.model,
             ans=row.answer or "—", verdict=verdict)


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    L(gr.Markdown(t("ev_title", lang)), "ev_title", "value")
    with gr.Row():
        c["ev_file"] = L(gr.File(label=t("ev_questions", lang), file_types=[".jsonl"], height=110,
                                 elem_id="eval-questions"), "ev_questions")
        with gr.Column():
            c["ev_run"] = L(gr.Button(t("ev_run", lang), variant="primary", elem_id="eval-run"), "ev_run", "value")
            c["ev_cancel"] = L(gr.Button(t("ev_cancel", lang), elem_id="eval-cancel"), "ev_cancel", "value")
    c["ev_status"] = gr.Markdown(elem_id="eval-status")
    with gr.Row():
        c["ev_table"] = L(gr.Dataframe(label=t("ev_table", lang), interactive=False, wrap=True,
                                       elem_id="eval-table"), "ev_table")
        c["ev_seed"] = L(gr.Dataframe(seed_results_table(lang), label=t("ev_seed", lang), interactive=False,
                                      wrap=True, elem_id="eval-seed"), "ev_seed")
    with gr.Row():
        c["ev_plot"] = gr.Plot(show_label=False, elem_id="eval-plot")
        c["ev_csv"] = L(gr.File(label=t("ev_csv", lang), interactive=False, elem_id="eval-csv"), "ev_csv")
    with gr.Row():
        c["ev_answers"] = L(gr.Dataframe(label=t("ev_answers", lang), interactive=False, wrap=True,
                                         max_height=360, elem_id="eval-answers"), "ev_answers")
        with gr.Column():
            c["ev_pick"] = L(gr.Dropdown([], label=t("ev_pick", lang), elem_id="eval-pick"), "ev_pick")
            c["ev_detail"] = gr.Markdown(elem_id="eval-detail")
    c["ev_state"] = gr.State(None)
    return c


def bind(c: dict[str, Any], lang_radio: gr.Radio) -> None:
    def run(file: str | None, lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        session = session_of(request)
        progress(0.0, desc=t("loading_progress", lang))
        tell = lambda p: progress(p.done / p.total, desc=p.text(lang))  # noqa: E731  (the ETA line)
        report, questions = run_evaluation(session, lang, file, tell)
        csv_path = user_dir(request, lang) / "explorer-evaluation.csv"
        csv_path.write_text(report.to_csv(lang), encoding="utf-8")
        n_total = len({q.question for q in questions})
        status = (t("ev_cancelled", lang, q=report.questions, total=n_total) if report.cancelled else
                  t("ev_done", lang, q=report.questions, m=len(report.models), s=report.seconds))
        return {c["ev_status"]: status + "  \n" + t("ev_models", lang, models=", ".join(report.models)),
                c["ev_table"]: report.table(lang), c["ev_plot"]: evaluation_figure(report, chart_labels("explorer", lang)),
                c["ev_csv"]: str(csv_path), c["ev_answers"]: report.answers_table(lang),
                c["ev_pick"]: gr.update(choices=_choices(report), value=None), c["ev_detail"]: "",
                c["ev_state"]: (report, questions)}

    def cancel(lang: str, request: gr.Request) -> str:
        _stop_signal(session_of(request)).set()
        return t("ev_cancel_sent", lang)

    def detail(state: Any, pick: Any, lang: str) -> str:
        report, questions = state if state else (None, None)
        return answer_detail(report, questions, pick, lang)

    def relabel(state: Any, lang: str) -> dict:
        """A language switch re-words the seed table (and our tables when there are results)."""
        out: dict = {c["ev_seed"]: seed_results_table(lang)}
        if state:
            report, _ = state
            out.update({c["ev_table"]: report.table(lang), c["ev_answers"]: report.answers_table(lang),
                        c["ev_plot"]: evaluation_figure(report, chart_labels("explorer", lang))})
        return out

    outputs = [c[k] for k in ("ev_status", "ev_table", "ev_plot", "ev_csv", "ev_answers", "ev_pick",
                              "ev_detail", "ev_state")]
    c["ev_run"].click(run, [c["ev_file"], lang_radio], outputs, concurrency_id="explorer", **PRIVATE)
    c["ev_cancel"].click(cancel, [lang_radio], [c["ev_status"]], **PRIVATE)
    c["ev_pick"].change(detail, [c["ev_state"], c["ev_pick"], lang_radio], [c["ev_detail"]], **PRIVATE)
    lang_radio.change(relabel, [c["ev_state"], lang_radio],
                      [c["ev_seed"], c["ev_table"], c["ev_answers"], c["ev_plot"]], **PRIVATE)


def api() -> None:
    """/evaluate_explorer: the evaluation for programs (shipped questions, or a jsonl text)."""
    def api_evaluate_explorer(questions_jsonl: str = "", lang: str = "en") -> dict:
        """Question set × base + every offered adapter → table rows, CSV text and every answer.

        `questions_jsonl`: the lines of a question file (empty: examples/cartoon_eval.jsonl).
        Never a server path: the text is written to a private temporary file first.
        """
        import tempfile

        if lang not in ("en", "ru"):
            raise gr.Error("lang: must be 'en' or 'ru'")
        with tempfile.TemporaryDirectory(prefix="lora-lens-eval-") as tmp:
            path = None
            if questions_jsonl.strip():
                path = Path(tmp) / "questions.jsonl"
                path.write_text(questions_jsonl, encoding="utf-8")
            try:
                report, _ = run_evaluation("api", lang, str(path) if path else None)
            except gr.Error:
                raise
            except Exception as exc:  # a failed load is a message
                raise user_error(exc, lang, "model_load") from exc
        return {"models": report.models, "table": report.table(lang).to_dict("records"),
                "csv": report.to_csv(lang), "answers": report.answers_table(lang).to_dict("records"),
                "seconds": report.seconds, "cancelled": report.cancelled}

    gr.api(api_evaluate_explorer, api_name="evaluate_explorer", concurrency_id="explorer")


__all__ = ["answer_detail", "api", "bind", "build", "forget_session", "offered_adapters", "run_evaluation"]
