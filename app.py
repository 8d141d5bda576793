"""LoRA Lens — the Gradio app: composes the three tabs of `ui/` and launches.

Every computation lives in `comparison/` and `tuning/`, every figure in `comparison/charts/`,
every visible string in `ui/locales.py`.
Run: ``python app.py`` → http://127.0.0.1:7860 (a Hugging Face Space runs the same file).
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# gradio's queue keeps a record of the last N events for its monitoring page (none here);
# its default of 10,000 grows the heap per call for hours (tests/load/soak.py).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "500")

from comparison.allocator import tune_malloc  # noqa: E402

MALLOC = tune_malloc()  # before torch / gradio start threads (why: comparison/allocator.py)

from comparison.hub import prepare_environment  # noqa: E402

prepare_environment()  # Hub request timeouts and /data caches, before huggingface_hub loads

import shutil  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import gradio as gr  # noqa: E402

from comparison.runtime import (DEFAULT_ADAPTER, SessionError, check_session,  # noqa: E402
                                similarity_concurrency, sweep_sessions)
from ui import catalog, catalog_handover, explorer, explorer_eval, similarity, training  # noqa: E402
from ui.common import (PRIVATE, SESSIONS, Labels, adapter_choices, encoder, encoders, explorers,  # noqa: E402
                       session_of, status_md)
from ui.locales import LANGS, prefix_choices, t  # noqa: E402
from ui import lazy_session_state, sessions  # noqa: E402

lazy_session_state.install()  # a new API session must not cost the event loop ~0.1 s (a classroom's joins)

MAX_UPLOAD = "50mb"


def sweep_abandoned(every_s: float = 600.0) -> None:
    """Forever: remove session folders and gradio session state of clients that are gone."""
    while True:
        sweep_sessions(SESSIONS)
        sessions.forget_idle_sessions(demo)
        time.sleep(every_s)


def end_session(request: gr.Request) -> None:
    """Delete a session's files and adapters when its browser tab closes."""
    try:
        session = check_session(session_of(request))
    except SessionError:
        return  # a forged id owns nothing; never rmtree a path built from it
    encoders.drop_session(session)
    explorers.drop_session(session)
    explorer_eval.forget_session(session)
    catalog.forget_session(session)
    shutil.rmtree(SESSIONS / session, ignore_errors=True)


def build(lang: str = "ru") -> gr.Blocks:
    L = Labels()
    # delete_cache: gradio's copies of uploads and results older than a day go, hourly.
    with gr.Blocks(title="LoRA Lens", delete_cache=(3600, 86400)) as demo:
        with gr.Row():
            L(gr.Markdown(t("title", lang)), "title", "value")
            lang_radio = L(gr.Radio(list(LANGS), value=lang, label=t("lang", lang), scale=0,
                                    min_width=160), "lang")
        status = gr.Markdown(t("loading", lang), elem_id="model-status")
        with gr.Tabs() as tabs:
            with L(gr.Tab(t("tab_sim", lang), id="similarity"), "tab_sim"):
                sim = similarity.build(L, lang)
            with L(gr.Tab(t("tab_train", lang), id="training"), "tab_train"):
                train = training.build(L, lang)
            with L(gr.Tab(t("tab_exp", lang), id="explorer"), "tab_exp") as tab_exp:
                exp = explorer.build(L, lang)

        def on_load(lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
            """Load (or convert, first time) the models with visible progress, then the choices."""
            encoder(lang, progress)
            choices = adapter_choices(session_of(request), lang)
            value = DEFAULT_ADAPTER if any(n == DEFAULT_ADAPTER for _, n in choices) else None
            return {status: status_md(lang, session_of(request), value),
                    sim["adapter"]: gr.update(choices=choices, value=value)}

        def relabel(new: str, picked: str | None, request: gr.Request) -> list:
            choices = adapter_choices(session_of(request), new)  # [] while the models still load
            return [*L.updates(new), status_md(new, session_of(request), picked),
                    gr.update(choices=prefix_choices(new), label=t("prefix", new),
                              info=t("prefix_info", new)),
                    gr.update(choices=choices, value=picked) if choices else gr.update()]

        demo.load(on_load, [lang_radio], [status, sim["adapter"]], **PRIVATE)
        demo.unload(end_session)
        sessions.watch(demo)
        similarity.bind(sim, lang_radio, status)
        training.bind(train, lang_radio, status, sim, tabs)
        catalog_handover.bind(sim["catalog"], train, lang_radio, tabs)
        explorer.bind(exp, lang_radio, tab_exp)
        lang_radio.change(relabel, [lang_radio, sim["adapter"]],
                          [*L.components(), status, sim["prefix"], sim["adapter"]], **PRIVATE)
        similarity.api()
        explorer.api()
    return demo


demo = build(os.environ.get("LORA_LENS_LANG", "ru"))
threading.Thread(target=sweep_abandoned, daemon=True, name="session-sweeper").start()
demo.queue(default_concurrency_limit=2, max_size=512)  # a classroom's burst (404 requests) fits

if __name__ == "__main__":
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        allowed_paths=[],
        show_error=True,
        state_session_capacity=sessions.CAPACITY,
        max_threads=similarity_concurrency() + 40,  # requests waiting in the batcher each hold a thread
    )
