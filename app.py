"""LoRA Lens — the Gradio app. Only wiring: every computation lives in `comparison/` and
`tuning/`; every figure comes from `comparison/charts/`.

Run: ``python app.py`` → http://127.0.0.1:7860 (a Hugging Face Space runs the same file).
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import fields as dc_fields  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from comparison import similarity  # noqa: E402
from comparison.adapters import AdapterError, unpack_adapter  # noqa: E402
from comparison.charts import similarity as sim_charts  # noqa: E402
from comparison.charts import training as training_charts  # noqa: E402
from comparison.dev_eval import evaluate_dev  # noqa: E402
from comparison.charts import explorer as exp_charts  # noqa: E402
from comparison.explorer import ModelLoadError  # noqa: E402
from comparison.explorer import anatomy as exp_anatomy  # noqa: E402
from comparison.explorer import metrics as exp_metrics  # noqa: E402
from comparison.explorer import probes as exp_probes  # noqa: E402
from comparison.runtime import (DEFAULT_ADAPTER, EncoderService, ExplorerService,  # noqa: E402
                                SessionError, check_session, parse_prefix, session_dir,
                                sweep_sessions)
from comparison.ui_text import LANGS, prefix_choices, t  # noqa: E402
from tuning.config import PRESETS, TrainConfig  # noqa: E402
from tuning.data import CorpusError, load_corpus  # noqa: E402
from tuning.data import preview as corpus_preview  # noqa: E402
from tuning.jobs import BusyError, TrainingQueue  # noqa: E402
from tuning.noise import delete_words  # noqa: E402
from tuning.publish import PublishError, push_to_hub, zip_adapter  # noqa: E402

EXAMPLES = Path(__file__).parent / "examples"
SESSIONS = Path(tempfile.gettempdir()) / "lora-lens-sessions"
MAX_UPLOAD = "50mb"
SEED_PAIRS = [
    ["Смартфон Apple iPhone", "Телефон Apple iPhone"],
    ["Телефон Apple iPhone", "Кофемашина Nespresso"],
    ["Наушники Xiaomi", "Умные часы Samsung"],
]

service = EncoderService(os.environ.get("LORA_LENS_BASE") or None)
TRAIN_HELP = {f.name: f.metadata.get("help", "") for f in dc_fields(TrainConfig)}
INT_FIELDS = {f.name for f in dc_fields(TrainConfig) if "int" in str(f.type)}


# ---------------------------------------------------------------- helpers (UI glue only)
def _session_dir(request: gr.Request) -> Path:
    """A private folder per browser session: files of one user are never served to another.

    The session hash is sent by the client, so a hand-made one ("../x") is refused here
    instead of becoming a path outside SESSIONS.
    """
    try:
        d = session_dir(SESSIONS, str(request.session_hash))
    except SessionError as exc:
        raise gr.Error(str(exc)) from exc
    d.touch()  # keeps an active session's folder out of the sweep of abandoned ones
    return d


def _progress_cb(progress: gr.Progress):
    return lambda frac, msg: progress(frac, desc=msg)


def _encoder(progress: gr.Progress | None = None):
    try:
        return service.get(_progress_cb(progress) if progress else None)
    except Exception as exc:  # a failed load must reach the user, not kill the worker
        raise gr.Error(f"Model loading failed: {exc}") from exc


def _default_adapter(enc) -> str | None:
    """The app-wide default adapter's name, or None when the app runs base only."""
    return DEFAULT_ADAPTER if DEFAULT_ADAPTER in enc.adapters else None


def _adapter_name(request: gr.Request, name: str | None) -> str | None:
    enc = service.get()
    if not name or name not in enc.adapters or not service.can_use(str(request.session_hash), name):
        return _default_adapter(enc)
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


def sweep_abandoned(every_s: float = 3600.0) -> None:
    """Forever, hourly: remove session folders of clients that never closed (API users)."""
    while True:
        sweep_sessions(SESSIONS)
        time.sleep(every_s)


def end_session(request: gr.Request) -> None:
    """Delete a session's files and adapters when its browser tab closes."""
    try:
        session = check_session(str(request.session_hash))
    except SessionError:
        return  # a forged id owns nothing; never rmtree a path built from it
    service.drop_session(session)
    if explorer_service.loaded:
        ex = explorer_service.get()
        for name in ex.adapters():
            if name.startswith(_exp_prefix(session)):
                ex.remove_adapter(name)
    shutil.rmtree(SESSIONS / session, ignore_errors=True)


# ---------------------------------------------------------------- API for programs
def api_score_pair(text_a: str, text_b: str, prefix: str = "query: ") -> dict:
    """Cosine similarity of two texts under the base encoder and base + default adapter."""
    enc = _encoder()
    try:
        row = similarity.score_pairs(enc, [(text_a, text_b)], parse_prefix(prefix),
                                     _default_adapter(enc)).iloc[0]
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
    adapter = _default_adapter(enc)
    base, tuned = enc.embed_both(items, prefix, adapter)
    return {"base": base.tolist(), "tuned": tuned.tolist() if adapter else None,
            "base_source": enc.base.label, "adapter": service.status().adapter_label}


# ---------------------------------------------------------------- training tab handlers
NO_LIMIT_ZERO = ("max_steps", "time_budget_s")  # a number box cannot be empty: 0 = no limit
TRAIN_FIELDS = ["r", "lora_alpha", "lora_dropout", "learning_rate", "epochs", "batch_size",
                "max_length", "deletion_ratio", "use_4bit", "time_budget_s", "max_steps", "seed"]
jobs = TrainingQueue(slots=1)


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def preview_corpus(file: str | None, text_column: str | None = None) -> dict:
    """Detected encoding, columns, count after cleaning and a sample (the /preview_corpus API)."""
    if not file:
        raise gr.Error("Upload a corpus file first.")
    try:
        info = corpus_preview(Path(file), text_column or None)
    except (CorpusError, ValueError) as exc:
        raise gr.Error(str(exc)) from exc
    rng = random.Random(0)
    info["noisy_sample"] = [delete_words(x, TrainConfig().deletion_ratio, rng) for x in info["sample"]]
    return info


def show_preview(info: dict | None, lang: str):
    if not info:
        return gr.update(), gr.update(), gr.update()
    table = pd.DataFrame({"clean": info["sample"], "noisy": info.get("noisy_sample", [])})
    cols = info.get("columns") or []
    return (t("preview_md", lang, **{k: info.get(k) for k in
                                     ("n_texts", "n_raw", "encoding", "text_column")}),
            gr.update(choices=cols, value=info.get("text_column"), interactive=len(cols) > 1),
            table)


def apply_preset(name: str):
    cfg = TrainConfig.from_dict(PRESETS.get(name, {}))
    values = [getattr(cfg, f) for f in TRAIN_FIELDS]
    return [0 if v is None and f in NO_LIMIT_ZERO else v for f, v in zip(TRAIN_FIELDS, values)]


def start_training(file: str | None, text_column: str | None, lang: str, r: float,
                   lora_alpha: float, lora_dropout: float, learning_rate: float, epochs: float,
                   batch_size: float, max_length: float, deletion_ratio: float, use_4bit: bool,
                   time_budget_s: float | None, max_steps: float | None, seed: float,
                   request: gr.Request):
    """Train in the background queue and stream progress, loss curve and the result."""
    values = [r, lora_alpha, lora_dropout, learning_rate, epochs, batch_size, max_length,
              deletion_ratio, use_4bit, time_budget_s, max_steps, seed]
    session = str(request.session_hash)
    if not file:
        raise gr.Error("Upload a corpus file first.")
    _session_dir(request)  # refuses a forged session id before any work is queued
    try:
        corpus = load_corpus(Path(file), text_column or None)
        cfg = TrainConfig.from_dict({k: v for k, v in zip(TRAIN_FIELDS, values)
                                     if v not in (None, "") and not (k in NO_LIMIT_ZERO and v == 0)})
    except (CorpusError, ValueError) as exc:
        raise gr.Error(str(exc)) from exc
    base = _encoder().base
    out = _session_dir(request) / "trained" / time.strftime("adapter-%Y%m%d-%H%M%S")
    try:
        job = jobs.submit(session, cfg, corpus.texts, base.path, out)
    except BusyError as exc:
        raise gr.Error(str(exc)) from exc
    steps: list[int] = []
    losses: list[float] = []
    line = t("starting", lang)
    while not job.done.wait(0.7):
        reports = job.drain()
        for p in reports:  # the last step is reported twice (step, then "saved"): keep one
            if p.loss is not None and (not steps or p.step > steps[-1]):
                steps.append(p.step)
                losses.append(p.loss)
        ahead = jobs.ahead_of(job)
        if ahead:
            line = t("queued", lang, n=ahead)
        elif reports:
            p = reports[-1]
            line = t("progress", lang, step=p.step, total=p.total_steps, epoch=p.epoch,
                     loss="…" if p.loss is None else f"{p.loss:.3f}",
                     elapsed=_fmt_s(p.elapsed_s), eta=_fmt_s(p.eta_s))
            line = f"<progress value='{p.step}' max='{max(p.total_steps, 1)}' style='width:100%'></progress>\n\n{line}"
        yield (gr.update(), gr.update(), line,
               training_charts.loss_curve(steps, losses) if reports else gr.update(), gr.update(), None)
    if job.error or job.result is None:
        raise gr.Error(f"Training failed: {job.error}")
    res = job.result
    summary = t("done_md", lang, status=res.status, elapsed=_fmt_s(res.elapsed_s), steps=res.steps,
                n=job.n_texts, mode=res.mode_label or "-", saved="✅" if res.adapter_saved else "❌")
    if res.message:
        summary += f"  \n{res.message}"
    zip_path = None
    metrics = {"status": res.status, "steps": res.steps, "total_steps": res.total_steps,
               "n_texts": job.n_texts, "mode": res.mode_label, "quantized": res.quantized,
               "elapsed_s": round(res.elapsed_s, 1),
               "first_loss": round(res.losses[0], 4) if res.losses else None,
               "last_loss": round(res.losses[-1], 4) if res.losses else None}
    if res.adapter_saved and res.adapter_dir:
        zip_path = str(zip_adapter(Path(res.adapter_dir), _session_dir(request) / f"{out.name}.zip"))
    final_curve = training_charts.loss_curve(range(1, len(res.losses) + 1), res.losses)
    yield (zip_path, metrics, "", final_curve, summary,
           str(res.adapter_dir) if res.adapter_saved else None)


def cancel_training(lang: str, request: gr.Request) -> str:
    return t("cancelled" if jobs.cancel(str(request.session_hash)) else "nothing_to_cancel", lang)


def use_trained(adapter_dir: str | None, lang: str, request: gr.Request):
    if not adapter_dir:
        raise gr.Error(t("no_trained", lang))
    session = str(request.session_hash)
    try:
        name, _ = service.add_session_adapter(session, Path(adapter_dir).name, Path(adapter_dir))
    except (AdapterError, ValueError) as exc:
        raise gr.Error(str(exc)) from exc
    gr.Info(t("used", lang))
    return (gr.update(choices=service.adapter_choices(session), value=name),
            gr.Tabs(selected="similarity"))


def push_trained(adapter_dir: str | None, repo: str, token: str, private: bool) -> str:
    if not adapter_dir:
        raise gr.Error("Train an adapter first.")
    try:
        return f"✅ {push_to_hub(Path(adapter_dir), repo, token, private)}"
    except PublishError as exc:
        raise gr.Error(str(exc)) from exc


def evaluate_trained(dev_file: str | None, adapter_dir: str | None, prefix: str,
                     request: gr.Request) -> pd.DataFrame:
    if not dev_file:
        raise gr.Error("Upload a labelled CSV first.")
    enc = _encoder()
    session = str(request.session_hash)
    name = None
    try:
        if adapter_dir:
            name, _ = service.add_session_adapter(session, Path(adapter_dir).name,
                                                  Path(adapter_dir))
        return evaluate_dev(enc, name, Path(dev_file), parse_prefix(prefix)).round(4)
    except (AdapterError, ValueError) as exc:
        raise gr.Error(str(exc)) from exc


# ---------------------------------------------------------------- explorer tab handlers
explorer_service = ExplorerService()
EXPLORER_ERRORS = (ValueError, ModelLoadError)


def _explorer(progress: gr.Progress | None = None):
    try:
        return explorer_service.get(_progress_cb(progress) if progress else None)
    except Exception as exc:  # a failed load is a message, not a dead worker
        raise gr.Error(f"Explorer model loading failed: {exc}") from exc


def _exp_prefix(session: str) -> str:
    """Explorer adapter names of a session (peft names allow no dots or slashes)."""
    return "s" + "".join(c for c in session if c.isalnum())[:16] + "_"


def _exp_view(own: str | None, progress: gr.Progress | None = None):
    """The shared explorer, seen with the session's own adapter when it has one."""
    ex = _explorer(progress)
    return ex.view(own) if own and own in ex.adapters() else ex


def _exp_status(lang: str, own: str | None = None) -> str:
    if not explorer_service.loaded:
        return t("exp_not_loaded", lang)
    ex = _exp_view(own)
    return t("exp_models", lang, model=ex.model_label, adapter=ex.adapter_label)


def upload_explorer_adapter(file: str | None, own: str | None, lang: str, request: gr.Request,
                            progress: gr.Progress = gr.Progress()):
    """Attach the user's LoRA to the shared model as one more adapter only this session uses."""
    if not file:
        return own, _exp_status(lang, own)
    ex = _explorer(progress)
    folder_root = _session_dir(request) / "explorer-adapters"
    name = _exp_prefix(str(request.session_hash)) + time.strftime("%H%M%S")
    try:
        folder = unpack_adapter(Path(file), folder_root)
        if own:
            ex.remove_adapter(own)
        ex.add_adapter(name, folder, f"your upload: {Path(file).stem[:60]}")
    except (AdapterError, ValueError) as exc:
        raise gr.Error(str(exc)) from exc
    gr.Info(t("adapter_added", lang, label=Path(file).stem[:60]))
    return name, _exp_status(lang, name)


def load_explorer_ui(lang: str, progress: gr.Progress = gr.Progress()):
    ex = _explorer(progress)
    layers = int(ex.model.config.get_text_config().num_hidden_layers)
    return _exp_status(lang), gr.update(maximum=layers - 1, value=layers - 1)


def run_explorer(prompt: str, image, scale: float, top_k: float, max_new: float, layer: float,
                 head: float, keywords: str, context: str, lang: str, own: str | None,
                 progress: gr.Progress = gr.Progress()):
    """All explorer views for one input: base and LoRA passes from the one shared model."""
    ex = _exp_view(own, progress)
    if not (prompt or "").strip():
        raise gr.Error("The prompt is empty.")
    head_i = None if int(head) < 0 else int(head)
    try:
        progress(0.2, desc="base vs LoRA passes")
        res = ex.explore(prompt, image=image, top_k=int(top_k), scale=float(scale),
                         max_new_tokens=int(max_new))
        layer_i = min(int(layer), res.attention_base.shape[0] - 1)
        labels = [res.tokens[q] for q in res.queries]
        att_b = exp_metrics.attention_matrix(res.attention_base, layer_i, head_i)
        att_l = exp_metrics.attention_matrix(res.attention_lora, layer_i, head_i)
        att_fig = exp_charts.attention_figure(att_b, att_l, labels, res.tokens,
                                              title=f"Attention over tokens, layer {layer_i}")
        img_fig = None
        if image is not None and res.image_grid is not None:
            row = lambda a: exp_metrics.attention_row(a, layer_i, head_i, -1)  # noqa: E731
            img_fig = exp_charts.image_attention_figure(
                image, exp_metrics.image_map(row(res.attention_base), res.image_positions,
                                             res.image_grid),
                exp_metrics.image_map(row(res.attention_lora), res.image_positions,
                                      res.image_grid))
        progress(0.6, desc="key words, anatomy, prompt vs LoRA")
        words = [w for w in (keywords or "").split(",") if w.strip()]
        kw_fig = (exp_charts.keyword_figure(exp_probes.keyword_probabilities(
            ex, prompt, words, image=image, scale=float(scale), max_new_tokens=24))
            if words else None)
        anatomy = ex.anatomy(float(scale)) if ex.adapter_label != "none" else None
        pvl_fig, verdict = None, ""
        if (context or "").strip():
            pvl = exp_probes.prompt_vs_lora(ex, prompt, context, top_k=int(top_k),
                                            scale=float(scale))
            pvl_fig, verdict = exp_charts.prompt_vs_lora_figure(pvl.table), pvl.verdict
    except EXPLORER_ERRORS as exc:
        raise gr.Error(str(exc)) from exc
    return (
        res.answers.get("base", ""), res.answers.get("lora", ""),
        t("divergence", lang, kl=res.kl, js=res.js), exp_charts.top_k_figure(res.top_k),
        kw_fig, att_fig, img_fig, exp_charts.layer_shift_figure(res.layer_shift),
        exp_charts.anatomy_figure(exp_anatomy.norm_grid(anatomy)) if anatomy is not None else None,
        exp_charts.singular_values_figure(anatomy) if anatomy is not None else None,
        pvl_fig, verdict, _exp_status(lang, own),
        gr.update(maximum=res.attention_base.shape[0] - 1, value=layer_i),
    )


def api_next_token(prompt: str, top_k: int = 10, scale: float = 1.0) -> dict:
    """Top-k next tokens after `prompt`, base vs LoRA, with KL(LoRA ‖ base)."""
    try:
        return _explorer().next_token(prompt, top_k=int(top_k), scale=float(scale))
    except EXPLORER_ERRORS as exc:
        raise gr.Error(str(exc)) from exc


def api_explore(prompt: str, top_k: int = 10, scale: float = 1.0, max_new_tokens: int = 32) -> dict:
    """The full comparison as JSON: answers, top-k table, KL/JS, per-layer attention shift."""
    try:
        return _explorer().explore(prompt, top_k=int(top_k), scale=float(scale),
                                   max_new_tokens=int(max_new_tokens)).to_json()
    except EXPLORER_ERRORS as exc:
        raise gr.Error(str(exc)) from exc


# ---------------------------------------------------------------- layout
class Labels:
    """Remembers which component shows which text, so the language switch can redo them all."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.items: list[tuple[gr.components.Component | gr.blocks.Block, str, str]] = []

    def __call__(self, component, key: str, attr: str = "label"):
        self.items.append((component, key, attr))
        return component

    def updates(self, lang: str) -> list:
        return [gr.update(**{attr: t(key, lang)}) for _, key, attr in self.items]


def build(lang: str = "ru") -> gr.Blocks:
    L = Labels(lang)
    # delete_cache: gradio's copies of uploads and results older than a day go, hourly.
    with gr.Blocks(title="LoRA Lens", delete_cache=(3600, 86400)) as demo:
        with gr.Row():
            L(gr.Markdown(t("title", lang)), "title", "value")
            lang_radio = L(gr.Radio(list(LANGS), value=lang, label=t("lang", lang), scale=0,
                                    min_width=160), "lang")
        status = gr.Markdown(t("loading", lang), elem_id="model-status")
        with gr.Tabs() as tabs:
            with L(gr.Tab(t("tab_sim", lang), id="similarity"), "tab_sim"):
                L(gr.Markdown(t("sim_help", lang)), "sim_help", "value")
                with gr.Row():
                    prefix = gr.Radio(prefix_choices(lang), value="query: ", label=t("prefix", lang),
                                      info=t("prefix_info", lang))
                    adapter = L(gr.Dropdown([], label=t("adapter", lang), elem_id="adapter-choice"),
                                "adapter")
                    adapter_file = L(gr.File(label=t("adapter_upload", lang), file_types=[".zip"],
                                             height=130), "adapter_upload")
                with gr.Row(equal_height=True):
                    text_a = L(gr.Textbox(SEED_PAIRS[0][0], label=t("text_a", lang),
                                          max_length=1000, elem_id="text-a"), "text_a")
                    text_b = L(gr.Textbox(SEED_PAIRS[0][1], label=t("text_b", lang),
                                          max_length=1000, elem_id="text-b"), "text_b")
                    compare = L(gr.Button(t("compare", lang), variant="primary", scale=0,
                                          elem_id="compare"), "compare", "value")
                with gr.Row():
                    base_score = L(gr.Textbox(label=t("base_score", lang), interactive=False,
                                              elem_id="score-base"), "base_score")
                    tuned_score = L(gr.Textbox(label=t("tuned_score", lang), interactive=False,
                                               elem_id="score-tuned"), "tuned_score")
                    delta_score = L(gr.Textbox(label=t("delta", lang), interactive=False,
                                               elem_id="score-delta"), "delta")
                gr.Examples(SEED_PAIRS, [text_a, text_b], label=t("examples", lang))
                with gr.Tabs():
                    with L(gr.Tab(t("pairs_tab", lang)), "pairs_tab"):
                        pairs = L(gr.Dataframe(_example_pairs(), headers=["text_a", "text_b"],
                                               column_count=2, interactive=True,
                                               label=t("pairs_table", lang)), "pairs_table")
                        run_pairs = L(gr.Button(t("compare_pairs", lang), variant="primary"),
                                      "compare_pairs", "value")
                        pairs_summary = gr.Markdown()
                        pairs_out = L(gr.Dataframe(label=t("results", lang), interactive=False),
                                      "results")
                        pairs_plot = gr.Plot()
                        pairs_csv = L(gr.File(label=t("csv", lang), interactive=False), "csv")
                    with L(gr.Tab(t("list_tab", lang)), "list_tab"):
                        items = L(gr.Dataframe(_example_list(), headers=["text", "category"],
                                               column_count=2, interactive=True,
                                               label=t("list_table", lang)), "list_table")
                        run_list = L(gr.Button(t("compare_list", lang), variant="primary"),
                                     "compare_list", "value")
                        list_summary = gr.Markdown()
                        heat_plot = gr.Plot()
                        map_plot = gr.Plot()
                        list_csv = L(gr.File(label=t("csv", lang), interactive=False), "csv")

            with L(gr.Tab(t("tab_train", lang), id="training"), "tab_train"):
                L(gr.Markdown(t("train_help", lang)), "train_help", "value")
                trained_dir = gr.State(None)
                with gr.Row():
                    with gr.Column():
                        corpus_file = L(gr.File(label=t("corpus", lang), elem_id="corpus-file",
                                                file_types=[".txt", ".csv", ".tsv", ".xlsx",
                                                            ".jsonl", ".parquet"]), "corpus")
                        text_col = L(gr.Dropdown([], label=t("text_column", lang),
                                                 allow_custom_value=False), "text_column")
                        preview_md = gr.Markdown(elem_id="corpus-preview")
                        preview_json = gr.JSON(visible=False)
                    with gr.Column():
                        preview_table = L(gr.Dataframe(headers=["clean", "noisy"],
                                                       label=t("preview", lang), interactive=False,
                                                       wrap=True, max_height=260,
                                                       column_widths=["50%", "50%"]), "preview")
                preset_names = list(PRESETS)
                preset = L(gr.Dropdown(preset_names, value=preset_names[1], label=t("preset", lang)),
                           "preset")
                defaults = TrainConfig.from_dict(PRESETS[preset_names[1]])
                with L(gr.Accordion(t("advanced", lang), open=False), "advanced"):
                    with gr.Row():
                        fields = [_field_input(name, getattr(defaults, name)) for name in TRAIN_FIELDS]
                with gr.Row():
                    start = L(gr.Button(t("start", lang), variant="primary", elem_id="train-start"),
                              "start", "value")
                    cancel = L(gr.Button(t("cancel", lang), variant="stop", elem_id="train-cancel"),
                               "cancel", "value")
                train_status = gr.Markdown(elem_id="train-status")
                loss_plot = gr.Plot()
                with L(gr.Accordion(t("result", lang), open=True), "result"):
                    result_md = gr.Markdown(elem_id="train-result")
                    with gr.Row():
                        zip_file = L(gr.File(label=t("download", lang), interactive=False,
                                             elem_id="train-zip"), "download")
                        metrics_json = gr.JSON(label="metrics")
                    use_btn = L(gr.Button(t("use_in_sim", lang), elem_id="train-use"),
                                "use_in_sim", "value")
                    with L(gr.Accordion(t("hub_push", lang), open=False), "hub_push"):
                        with gr.Row():
                            hub_repo = L(gr.Textbox(label=t("hub_repo", lang)), "hub_repo")
                            hub_token = L(gr.Textbox(label=t("hub_token", lang), type="password"),
                                          "hub_token")
                            hub_private = L(gr.Checkbox(True, label=t("hub_private", lang)),
                                            "hub_private")
                        push_btn = L(gr.Button(t("push", lang)), "push", "value")
                        push_md = gr.Markdown()
                    with L(gr.Accordion(t("eval", lang), open=False), "eval"):
                        dev_file = L(gr.File(label=t("eval_file", lang), file_types=[".csv"]),
                                     "eval_file")
                        eval_btn = L(gr.Button(t("eval_run", lang)), "eval_run", "value")
                        eval_table = gr.Dataframe(interactive=False)

            with L(gr.Tab(t("tab_exp", lang), id="explorer"), "tab_exp") as tab_exp:
                L(gr.Markdown(t("exp_help", lang)), "exp_help", "value")
                exp_status = gr.Markdown(t("exp_not_loaded", lang), elem_id="explorer-status")
                with gr.Row():
                    with gr.Column(scale=2):
                        prompt = L(gr.Textbox("Кто такой Чебурашка?", label=t("prompt", lang),
                                              max_length=2000, elem_id="exp-prompt"), "prompt")
                        keywords = L(gr.Textbox("Чебурашка, Гена, животное",
                                                label=t("keywords", lang)), "keywords")
                        context = L(gr.Textbox(
                            "Чебурашка — герой мультфильма, друг крокодила Гены.",
                            label=t("context", lang)), "context")
                    with gr.Column(scale=1):
                        image = L(gr.Image(type="pil", label=t("image", lang), height=180),
                                  "image")
                        exp_adapter_file = L(gr.File(label=t("exp_adapter_upload", lang),
                                                     file_types=[".zip"], height=110,
                                                     elem_id="exp-adapter-file"),
                                             "exp_adapter_upload")
                        exp_own = gr.State(None)
                with gr.Row():
                    scale = L(gr.Slider(0, 2, 1, step=0.1, label=t("scale", lang),
                                        elem_id="exp-scale"), "scale")
                    top_k = L(gr.Slider(3, 30, 10, step=1, label=t("top_k", lang)), "top_k")
                    max_new = L(gr.Slider(0, 128, 40, step=1, label=t("max_new", lang)), "max_new")
                    layer = L(gr.Slider(0, 63, 0, step=1, label=t("layer", lang)), "layer")
                    head = L(gr.Slider(-1, 31, -1, step=1, label=t("head", lang)), "head")
                with gr.Row():
                    load_btn = L(gr.Button(t("exp_load", lang), elem_id="exp-load"), "exp_load",
                                 "value")
                    explore_btn = L(gr.Button(t("explore", lang), variant="primary",
                                              elem_id="exp-run"), "explore", "value")
                with gr.Row():
                    ans_base = L(gr.Textbox(label=t("answer_base", lang), lines=4,
                                            interactive=False, elem_id="answer-base"),
                                 "answer_base")
                    ans_lora = L(gr.Textbox(label=t("answer_lora", lang), lines=4,
                                            interactive=False, elem_id="answer-lora"),
                                 "answer_lora")
                divergence = gr.Markdown(elem_id="exp-divergence")
                with gr.Row():
                    topk_plot = gr.Plot(elem_id="plot-topk")
                    kw_plot = gr.Plot(elem_id="plot-keywords")
                att_plot = gr.Plot(elem_id="plot-attention")
                img_plot = gr.Plot(elem_id="plot-image-attention")
                with gr.Row():
                    shift_plot = gr.Plot(elem_id="plot-layer-shift")
                    anat_plot = gr.Plot(elem_id="plot-anatomy")
                with gr.Row():
                    sv_plot = gr.Plot(elem_id="plot-singular")
                    pvl_plot = gr.Plot(elem_id="plot-prompt-vs-lora")
                verdict_md = gr.Markdown(elem_id="exp-verdict")

        # ---- events: similarity
        private = {"api_visibility": "private"}
        demo.load(on_load, [lang_radio], [status, adapter], **private)
        demo.unload(end_session)
        compare.click(score_one, [text_a, text_b, prefix, adapter],
                      [base_score, tuned_score, delta_score], **private)
        run_pairs.click(score_table, [pairs, prefix, adapter, lang_radio],
                        [pairs_out, pairs_plot, pairs_summary, pairs_csv], **private)
        run_list.click(score_list, [items, prefix, adapter, lang_radio],
                       [heat_plot, map_plot, list_summary, list_csv], **private)
        adapter_file.upload(upload_adapter, [adapter_file, lang_radio], [adapter], **private)
        # ---- events: training
        corpus_file.upload(preview_corpus, [corpus_file], [preview_json],
                           api_name="preview_corpus").then(
            show_preview, [preview_json, lang_radio], [preview_md, text_col, preview_table],
            **private)
        text_col.input(preview_corpus, [corpus_file, text_col], [preview_json], **private).then(
            show_preview, [preview_json, lang_radio], [preview_md, text_col, preview_table],
            **private)
        preset.change(apply_preset, [preset], fields, **private)
        start.click(start_training, [corpus_file, text_col, lang_radio, *fields],
                    [zip_file, metrics_json, train_status, loss_plot, result_md, trained_dir],
                    api_name="train", concurrency_limit=8, concurrency_id="train")
        cancel.click(cancel_training, [lang_radio], [train_status], concurrency_limit=None,
                     **private)
        use_btn.click(use_trained, [trained_dir, lang_radio], [adapter, tabs], **private)
        push_btn.click(push_trained, [trained_dir, hub_repo, hub_token, hub_private], [push_md],
                       **private)
        eval_btn.click(evaluate_trained, [dev_file, trained_dir, prefix], [eval_table], **private)

        # ---- events: explorer
        exp_outputs = [ans_base, ans_lora, divergence, topk_plot, kw_plot, att_plot, img_plot,
                       shift_plot, anat_plot, sv_plot, pvl_plot, verdict_md, exp_status, layer]
        load_btn.click(load_explorer_ui, [lang_radio], [exp_status, layer], **private)
        tab_exp.select(_exp_status, [lang_radio, exp_own], [exp_status], **private)
        exp_adapter_file.upload(upload_explorer_adapter, [exp_adapter_file, exp_own, lang_radio],
                                [exp_own, exp_status], concurrency_id="explorer", **private)
        explore_btn.click(run_explorer, [prompt, image, scale, top_k, max_new, layer, head,
                                         keywords, context, lang_radio, exp_own], exp_outputs,
                          concurrency_id="explorer", concurrency_limit=1, **private)

        def relabel(new: str):
            return [*L.updates(new), _status_md(new),
                    gr.update(choices=prefix_choices(new), label=t("prefix", new),
                              info=t("prefix_info", new))]

        lang_radio.change(relabel, [lang_radio], [c for c, _, _ in L.items] + [status, prefix],
                          **private)
        gr.api(api_score_pair, api_name="score_pair")
        gr.api(api_embed, api_name="embed")
        gr.api(api_next_token, api_name="next_token", concurrency_id="explorer")
        gr.api(api_explore, api_name="explore", concurrency_id="explorer")
    return demo


def _field_input(name: str, value: object) -> gr.components.Component:
    """A form field built from the TrainConfig field: its help text becomes the hint."""
    meta = TRAIN_HELP[name] + (" 0 = no limit." if name in NO_LIMIT_ZERO else "")
    if isinstance(value, bool):
        return gr.Checkbox(value, label=name, info=meta, min_width=140)
    return gr.Number(0 if value is None and name in NO_LIMIT_ZERO else value, label=name,
                     info=meta, min_width=140,
                     precision=0 if name in INT_FIELDS else None)


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
threading.Thread(target=sweep_abandoned, daemon=True, name="session-sweeper").start()
demo.queue(default_concurrency_limit=2, max_size=64)

if __name__ == "__main__":
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        allowed_paths=[],
        show_error=True,
    )
