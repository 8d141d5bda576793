"""LoRA Lens — the Gradio app. Only wiring: every computation lives in `comparison/` and
`tuning/`; every figure comes from `comparison/charts/`.

Run: ``python app.py`` → http://127.0.0.1:7860 (a Hugging Face Space runs the same file).
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from comparison import similarity  # noqa: E402
from comparison.adapters import AdapterError, unpack_adapter  # noqa: E402
from comparison.charts import similarity as sim_charts  # noqa: E402
from comparison.runtime import DEFAULT_ADAPTER, EncoderService, parse_prefix  # noqa: E402
from comparison.ui_text import LANGS, prefix_choices, t  # noqa: E402

EXAMPLES = Path(__file__).parent / "examples"
SESSIONS = Path(tempfile.gettempdir()) / "lora-lens-sessions"
MAX_UPLOAD = "50mb"
SEED_PAIRS = [
    ["Смартфон Apple iPhone", "Телефон Apple iPhone"],
    ["Телефон Apple iPhone", "Кофемашина Nespresso"],
    ["Наушники Xiaomi", "Умные часы Samsung"],
]

service = EncoderService(os.environ.get("LORA_LENS_BASE") or None)


# ---------------------------------------------------------------- helpers (UI glue only)
def _session_dir(request: gr.Request) -> Path:
    """A private folder per browser session: files of one user are never served to another."""
    d = SESSIONS / str(request.session_hash)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _progress_cb(progress: gr.Progress):
    return lambda frac, msg: progress(frac, desc=msg)


def _encoder(progress: gr.Progress | None = None):
    try:
        return service.get(_progress_cb(progress) if progress else None)
    except Exception as exc:  # a failed load must reach the user, not kill the worker
        raise gr.Error(f"Model loading failed: {exc}") from exc


def _adapter_name(request: gr.Request, name: str | None) -> str | None:
    enc = service.get()
    if not name or name not in enc.adapters or not service.can_use(str(request.session_hash), name):
        return DEFAULT_ADAPTER if DEFAULT_ADAPTER in enc.adapters else None
    return name


def _pairs_from_table(df: pd.DataFrame | None) -> list[tuple[str, str]]:
    if df is None or len(df) == 0:
        return []
    rows = df.iloc[:, :2].fillna("").astype(str).values.tolist()
    return [(a.strip(), b.strip()) for a, b in rows if a.strip() or b.strip()]


def _status_md(lang: str) -> str:
    st = service.status()
    return t("models", lang, base=st.base_label, adapter=st.adapter_label)


def _csv(df: pd.DataFrame, request: gr.Request, name: str) -> str:
    path = _session_dir(request) / name
    df.to_csv(path, index=False)
    return str(path)


# ---------------------------------------------------------------- event handlers
def on_load(lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()):
    """Load (or convert, first time) the models with visible progress, then fill the choices."""
    _encoder(progress)
    choices = service.adapter_choices(str(request.session_hash))
    value = DEFAULT_ADAPTER if any(n == DEFAULT_ADAPTER for _, n in choices) else None
    return _status_md(lang), gr.update(choices=choices, value=value)


def score_one(text_a: str, text_b: str, prefix: str, adapter: str | None, request: gr.Request):
    enc = _encoder()
    try:
        df = similarity.score_pairs(enc, [(text_a, text_b)], parse_prefix(prefix),
                                    _adapter_name(request, adapter))
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc
    row = df.iloc[0]
    fmt = lambda v: "—" if pd.isna(v) else f"{float(v):+.4f}"  # noqa: E731
    return f"{float(row['base']):.4f}", fmt(row["tuned"]).lstrip("+"), fmt(row["delta"])


def score_table(table: pd.DataFrame, prefix: str, adapter: str | None, lang: str,
                request: gr.Request):
    enc = _encoder()
    try:
        df = similarity.score_pairs(enc, _pairs_from_table(table), parse_prefix(prefix),
                                    _adapter_name(request, adapter))
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc
    labels = {"base": t("base_score", lang), "tuned": t("tuned_score", lang)}
    summary = t("summary_pairs", lang, base=df["base"].mean(), tuned=df["tuned"].mean())
    return (df.round(4), sim_charts.pair_chart(df, labels=labels), summary,
            _csv(df, request, "pairs_similarity.csv"))


def score_list(table: pd.DataFrame, prefix: str, adapter: str | None, lang: str,
               request: gr.Request):
    enc = _encoder()
    if table is None or len(table) == 0:
        raise gr.Error("Add at least two titles.")
    frame = table.fillna("").astype(str)
    frame = frame[frame.iloc[:, 0].str.strip() != ""]
    texts = frame.iloc[:, 0].str.strip().tolist()
    cats = frame.iloc[:, 1].str.strip().tolist() if frame.shape[1] > 1 else None
    cats = cats if cats and any(cats) else None
    try:
        m = similarity.similarity_matrices(enc, texts, parse_prefix(prefix),
                                           _adapter_name(request, adapter), categories=cats)
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc
    labels = {"base": t("heat_base", lang), "tuned": t("heat_tuned", lang),
              "delta": t("heat_delta", lang)}
    s = similarity.summary(m)
    text = t("summary_list", lang, base=s["mean_cosine_base"], tuned=s["mean_cosine_tuned"])
    if "within_base" in s:
        text += "  \n" + t("summary_groups", lang, wb=s["within_base"], wt=s["within_tuned"],
                           bb=s["between_base"], bt=s["between_tuned"])
    points = similarity.project_2d(m)
    return (sim_charts.heatmaps(m, labels=labels), sim_charts.movement_map(points, labels=labels),
            text, _csv(points, request, "list_map.csv"))


def upload_adapter(file: str | None, lang: str, request: gr.Request):
    if not file:
        return gr.update()
    session = str(request.session_hash)
    work = _session_dir(request) / "adapters"
    try:
        folder = unpack_adapter(Path(file), work)
        label = Path(file).stem[:60] or "adapter"
        name, info = service.add_session_adapter(session, label, folder)
    except (AdapterError, ValueError) as exc:
        raise gr.Error(str(exc)) from exc
    gr.Info(t("adapter_added", lang, label=info.label))
    return gr.update(choices=service.adapter_choices(session), value=name)


def end_session(request: gr.Request) -> None:
    """Delete a session's files and adapters when its browser tab closes."""
    service.drop_session(str(request.session_hash))
    shutil.rmtree(SESSIONS / str(request.session_hash), ignore_errors=True)


# ---------------------------------------------------------------- API for programs
def api_score_pair(text_a: str, text_b: str, prefix: str = "query: ") -> dict:
    """Cosine similarity of two texts under the base encoder and base + default adapter."""
    enc = _encoder()
    adapter = DEFAULT_ADAPTER if DEFAULT_ADAPTER in enc.adapters else None
    try:
        row = similarity.score_pairs(enc, [(text_a, text_b)], parse_prefix(prefix), adapter).iloc[0]
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc
    nan = pd.isna(row["tuned"])
    return {"base": float(row["base"]), "tuned": None if nan else float(row["tuned"]),
            "delta": None if nan else float(row["delta"]),
            "base_source": enc.base.label, "adapter": service.status().adapter_label}


def api_embed(texts: str, prefix: str = "query: ") -> dict:
    """L2-normalised mean-pooled vectors (one text per line), base and base + default adapter."""
    enc = _encoder()
    items = [line for line in (texts or "").splitlines() if line.strip()]
    try:
        similarity.check_texts(items, max_texts=similarity.MAX_LIST)
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc
    prefix = parse_prefix(prefix)
    adapter = DEFAULT_ADAPTER if DEFAULT_ADAPTER in enc.adapters else None
    base, tuned = enc.embed_both(items, prefix, adapter)
    return {"base": base.tolist(), "tuned": tuned.tolist() if adapter else None,
            "base_source": enc.base.label, "adapter": service.status().adapter_label}


# ---------------------------------------------------------------- layout
def build(lang: str = "ru") -> gr.Blocks:
    with gr.Blocks(title="LoRA Lens") as demo:
        with gr.Row():
            title = gr.Markdown(t("title", lang))
            lang_radio = gr.Radio(list(LANGS), value=lang, label=t("lang", lang), scale=0,
                                  min_width=160)
        status = gr.Markdown(t("loading", lang), elem_id="model-status")
        with gr.Tabs():
            with gr.Tab(t("tab_sim", lang), id="similarity") as tab_sim:
                help_md = gr.Markdown(t("sim_help", lang))
                with gr.Row():
                    prefix = gr.Radio(prefix_choices(lang), value="query: ", label=t("prefix", lang),
                                      info=t("prefix_info", lang))
                    adapter = gr.Dropdown([], label=t("adapter", lang), elem_id="adapter-choice")
                    adapter_file = gr.File(label=t("adapter_upload", lang), file_types=[".zip"],
                                           height=90)
                with gr.Row(equal_height=True):
                    text_a = gr.Textbox(SEED_PAIRS[0][0], label=t("text_a", lang), max_length=1000,
                                        elem_id="text-a")
                    text_b = gr.Textbox(SEED_PAIRS[0][1], label=t("text_b", lang), max_length=1000,
                                        elem_id="text-b")
                    compare = gr.Button(t("compare", lang), variant="primary", scale=0,
                                        elem_id="compare")
                with gr.Row():
                    base_score = gr.Textbox(label=t("base_score", lang), interactive=False,
                                            elem_id="score-base")
                    tuned_score = gr.Textbox(label=t("tuned_score", lang), interactive=False,
                                             elem_id="score-tuned")
                    delta_score = gr.Textbox(label=t("delta", lang), interactive=False,
                                             elem_id="score-delta")
                examples = gr.Examples(SEED_PAIRS, [text_a, text_b], label=t("examples", lang))
                with gr.Tabs():
                    with gr.Tab(t("pairs_tab", lang)) as tab_pairs:
                        pairs = gr.Dataframe(_example_pairs(), headers=["text_a", "text_b"],
                                             column_count=2, interactive=True,
                                             label=t("pairs_table", lang))
                        run_pairs = gr.Button(t("compare_pairs", lang), variant="primary")
                        pairs_summary = gr.Markdown()
                        pairs_out = gr.Dataframe(label=t("results", lang), interactive=False)
                        pairs_plot = gr.Plot()
                        pairs_csv = gr.File(label=t("csv", lang), interactive=False)
                    with gr.Tab(t("list_tab", lang)) as tab_list:
                        items = gr.Dataframe(_example_list(), headers=["text", "category"],
                                             column_count=2, interactive=True,
                                             label=t("list_table", lang))
                        run_list = gr.Button(t("compare_list", lang), variant="primary")
                        list_summary = gr.Markdown()
                        heat_plot = gr.Plot()
                        map_plot = gr.Plot()
                        list_csv = gr.File(label=t("csv", lang), interactive=False)

        demo.load(on_load, [lang_radio], [status, adapter])
        demo.unload(end_session)
        compare.click(score_one, [text_a, text_b, prefix, adapter],
                      [base_score, tuned_score, delta_score], api_visibility="private")
        run_pairs.click(score_table, [pairs, prefix, adapter, lang_radio],
                        [pairs_out, pairs_plot, pairs_summary, pairs_csv],
                        api_visibility="private")
        run_list.click(score_list, [items, prefix, adapter, lang_radio],
                       [heat_plot, map_plot, list_summary, list_csv], api_visibility="private")
        adapter_file.upload(upload_adapter, [adapter_file, lang_radio], [adapter],
                            api_visibility="private")

        def relabel(new: str):
            return (
                t("title", new), gr.update(label=t("lang", new)), _status_md(new),
                gr.update(label=t("tab_sim", new)), t("sim_help", new),
                gr.update(choices=prefix_choices(new), label=t("prefix", new),
                          info=t("prefix_info", new)),
                gr.update(label=t("adapter", new)), gr.update(label=t("adapter_upload", new)),
                gr.update(label=t("text_a", new)), gr.update(label=t("text_b", new)),
                gr.update(value=t("compare", new)), gr.update(label=t("base_score", new)),
                gr.update(label=t("tuned_score", new)), gr.update(label=t("delta", new)),
                gr.update(label=t("pairs_tab", new)), gr.update(label=t("list_tab", new)),
                gr.update(label=t("pairs_table", new)), gr.update(value=t("compare_pairs", new)),
                gr.update(label=t("list_table", new)), gr.update(value=t("compare_list", new)),
            )

        lang_radio.change(
            relabel, [lang_radio],
            [title, lang_radio, status, tab_sim, help_md, prefix, adapter, adapter_file, text_a,
             text_b, compare, base_score, tuned_score, delta_score, tab_pairs, tab_list, pairs,
             run_pairs, items, run_list],
            api_visibility="private",
        )
        del examples
        gr.api(api_score_pair, api_name="score_pair")
        gr.api(api_embed, api_name="embed")
    return demo


def _example_pairs() -> pd.DataFrame:
    path = EXAMPLES / "pairs.csv"
    if path.exists():
        return pd.read_csv(path).iloc[:, :2]
    return pd.DataFrame(SEED_PAIRS, columns=["text_a", "text_b"])


def _example_list() -> pd.DataFrame:
    path = EXAMPLES / "list_demo.csv"
    if path.exists():
        return pd.read_csv(path).iloc[:, :2]
    return pd.DataFrame({"text": [p for pair in SEED_PAIRS for p in pair],
                         "category": ["" for pair in SEED_PAIRS for _ in pair]})


demo = build(os.environ.get("LORA_LENS_LANG", "ru"))
demo.queue(default_concurrency_limit=2, max_size=64)

if __name__ == "__main__":
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        allowed_paths=[],
        show_error=True,
    )
