"""Similarity tab: base vs base + LoRA cosine for pairs and lists of product titles."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from comparison import similarity
from comparison.adapters import unpack_adapter
from comparison.basics import DEFAULT_PREFIX, parse_prefix
from comparison.charts import similarity as sim_charts
from comparison.runtime import batch_mode, similarity_concurrency
from comparison.matching import parse_same
from ui import catalog, evaluation
from ui.common import (PRIVATE, Labels, adapter_choices, encoder, encoders, guarded, session_of, status_md,
                       user_dir)
from ui.locales import chart_labels, plural, prefix_choices, t

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# Single scores run together in one concurrency group: with shared passes (the default) they
# wait in the encoder side by side and one forward answers many (comparison/batcher.py).
SHARED_QUEUE = {"concurrency_limit": similarity_concurrency(), "concurrency_id": "similarity"}
SEED_PAIRS = [
    ["Смартфон Apple iPhone", "Телефон Apple iPhone"],
    ["Телефон Apple iPhone", "Кофемашина Nespresso"],
    ["Наушники Xiaomi", "Умные часы Samsung"],
]


def _table(name: str, fallback: pd.DataFrame) -> pd.DataFrame:
    path = EXAMPLES / name
    return pd.read_csv(path).iloc[:, :2] if path.exists() else fallback


def _yes_no(value: object, lang: str) -> str:
    """A "same product?" label in the user's language (да / нет, yes / no; empty: unknown)."""
    label = parse_same(value)
    return "" if label is None else t("yes" if label else "no", lang)


def example_pairs(lang: str) -> pd.DataFrame:
    """examples/pairs.csv with its "same product?" column, headed and worded in `lang`."""
    path = EXAMPLES / "pairs.csv"
    frame = pd.read_csv(path) if path.exists() else pd.DataFrame(SEED_PAIRS, columns=["text_a", "text_b"])
    same = frame["same"] if "same" in frame.columns else [None] * len(frame)
    out = pd.DataFrame({"a": frame["text_a"], "b": frame["text_b"], "s": [_yes_no(v, lang) for v in same]})
    return out.set_axis([t("col_text_a", lang), t("col_text_b", lang), t("col_same", lang)], axis=1)


def _pairs(df: pd.DataFrame | None) -> tuple[list[tuple[str, str]], list[object]]:
    """(pairs, "same product?" cells) of the non-empty rows; the third column is optional."""
    if df is None or len(df) == 0:
        return [], []
    frame = df.fillna("").astype(str)
    rows = [(r[0].strip(), r[1].strip(), r[2] if len(r) > 2 else "") for r in frame.values.tolist()]
    rows = [r for r in rows if r[0] or r[1]]
    return [(a, b) for a, b, _ in rows], [s for _, _, s in rows]


def _texts(df: pd.DataFrame | None) -> tuple[list[str], list[str] | None]:
    if df is None or len(df) == 0:
        return [], None
    frame = df.fillna("").astype(str)
    frame = frame[frame.iloc[:, 0].str.strip() != ""]
    cats = frame.iloc[:, 1].str.strip().tolist() if frame.shape[1] > 1 else None
    return frame.iloc[:, 0].str.strip().tolist(), (cats if cats and any(cats) else None)


def shown_pairs(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The result table with headers in the user's language; ✓ / ✗ where a label was given."""
    out = df.round(4)
    if "same" in out.columns:
        out["same"] = [_yes_no(v, lang) for v in out["same"]]
        out["right_way"] = [{True: "✓", False: "✗"}.get(v, "") for v in out["right_way"]]
    names = {c: t(f"col_{c}", lang) for c in ("text_a", "text_b", "base", "tuned", "delta", "same", "right_way")}
    return out.rename(columns=names)


def pairs_summary(rep: similarity.PairReport, lang: str) -> str:
    """'7 of 11 pairs moved the right way', then the report's mean cosine and why lower is not better."""
    k, n = rep.tally.right, rep.tally.labelled
    head = (t("tally", lang, k=k, n=n, pairs_word=plural(n, "pairs_of", lang), moved_word=plural(k, "moved", lang))
            if n else t("tally_none", lang))
    frame = rep.frame
    if frame["tuned"].isna().all():
        return t("summary_pairs_base", lang, base=frame["base"].mean())
    mean = t("summary_pairs", lang, base=frame["base"].mean(), tuned=frame["tuned"].mean())
    return f"{head}  \n{mean}  \n{t('cosine_note', lang)}"


def retrieval_md(frame: pd.DataFrame | None, lang: str) -> str:
    """Base vs tuned retrieval of a grouped list, in words (empty without groups or adapter)."""
    if frame is None or len(frame) < 2:
        return ""
    return t("list_retrieval", lang) + "\n\n" + evaluation.verdict_md(frame, lang, kind="vl")


def build(L: Labels, lang: str) -> dict[str, Any]:
    """Components of the tab (the caller opens the gr.Tab); returns those other tabs need."""
    c: dict[str, Any] = {}
    L(gr.Markdown(t("sim_help", lang)), "sim_help", "value")
    with gr.Row():
        c["prefix"] = gr.Radio(prefix_choices(lang), value=DEFAULT_PREFIX, label=t("prefix", lang),
                               info=t("prefix_info", lang))
        c["adapter"] = L(gr.Dropdown([], label=t("adapter", lang), info=t("adapter_info", lang),
                                     elem_id="adapter-choice"), "adapter")
        L(c["adapter"], "adapter_info", "info")  # where the examples fall short (issue #18's measurements)
        c["adapter_file"] = L(gr.File(label=t("adapter_upload", lang), file_types=[".zip"],
                                      height=130), "adapter_upload")
    c["scale"] = L(gr.Slider(0.0, 2.0, value=1.0, step=0.05, label=t("scale", lang), info=t("scale_info", lang),
                             elem_id="sim-scale"), "scale")
    L(c["scale"], "scale_info", "info")
    with gr.Row(equal_height=True):
        c["text_a"] = L(gr.Textbox(SEED_PAIRS[0][0], label=t("text_a", lang), max_length=1000,
                                   elem_id="text-a"), "text_a")
        c["text_b"] = L(gr.Textbox(SEED_PAIRS[0][1], label=t("text_b", lang), max_length=1000,
                                   elem_id="text-b"), "text_b")
        c["compare"] = L(gr.Button(t("compare", lang), variant="primary", scale=0,
                                   elem_id="compare"), "compare", "value")
    with gr.Row():
        for key, label, elem in (("base_score", "base_score", "score-base"),
                                 ("tuned_score", "tuned_score", "score-tuned"),
                                 ("delta_score", "delta", "score-delta")):
            c[key] = L(gr.Textbox(label=t(label, lang), interactive=False, elem_id=elem), label)
    c["examples"] = gr.Examples(SEED_PAIRS, [c["text_a"], c["text_b"]], label=t("examples", lang))
    with gr.Tabs():
        with L(gr.Tab(t("pairs_tab", lang)), "pairs_tab"):
            c["pairs"] = L(gr.Dataframe(example_pairs(lang), column_count=3, interactive=True,
                                        label=t("pairs_table", lang), elem_id="pairs-table"), "pairs_table")
            c["run_pairs"] = L(gr.Button(t("compare_pairs", lang), variant="primary"),
                               "compare_pairs", "value")
            c["pairs_summary"] = gr.Markdown(elem_id="pairs-summary")
            c["pairs_out"] = L(gr.Dataframe(label=t("results", lang), interactive=False,
                                            elem_id="pairs-out"), "results")
            c["pairs_plot"] = gr.Plot(show_label=False)
            c["pairs_csv"] = L(gr.File(label=t("csv", lang), interactive=False), "csv")
        with L(gr.Tab(t("list_tab", lang)), "list_tab"):
            seed = pd.DataFrame({"t": [p for pair in SEED_PAIRS for p in pair], "c": ""})
            c["items"] = L(gr.Dataframe(_table("list_demo.csv", seed).set_axis(
                [t("col_text", lang), t("col_category", lang)], axis=1), column_count=2,
                interactive=True, label=t("list_table", lang)), "list_table")
            c["run_list"] = L(gr.Button(t("compare_list", lang), variant="primary"),
                              "compare_list", "value")
            c["list_summary"] = gr.Markdown()
            with gr.Row():
                with gr.Column(scale=3):
                    c["heat_plot"] = gr.Plot(show_label=False)
                c["list_retrieval"] = gr.Markdown(elem_id="list-retrieval")
            c["map_plot"] = gr.Plot(show_label=False)
            c["list_csv"] = L(gr.File(label=t("csv", lang), interactive=False), "csv")
        with L(gr.Tab(t("cat_tab", lang), elem_id="catalog-tab"), "cat_tab"):
            c["catalog"] = catalog.build(L, lang)
    c["eval"] = evaluation.build(L, lang)
    return c


def _picked(picked: str | None, lang: str, request: gr.Request) -> tuple[Any, str | None]:
    """The shared encoder and the adapter this session may compare with (its pick or the default)."""
    return encoder(lang), encoders.resolve(session_of(request), picked)


def bind(c: dict[str, Any], lang_radio: gr.Radio, status: gr.Markdown) -> None:
    """Events of the tab; every handler returns a dict keyed by component."""
    def on_adapter(picked: str | None, lang: str, request: gr.Request) -> dict:
        return {status: status_md(lang, session_of(request), picked)}

    def score_one(a: str, b: str, prefix: str, picked: str | None, scale: float, lang: str,
                  request: gr.Request) -> dict:
        enc, name = _picked(picked, lang, request)
        df = guarded("input", lang, lambda: similarity.score_pairs(
            enc, [(a, b)], parse_prefix(prefix), name, float(scale)))
        row = df.iloc[0]
        fmt = lambda v: "—" if pd.isna(v) else f"{float(v):+.4f}"  # noqa: E731
        return {c["base_score"]: f"{float(row['base']):.4f}", c["tuned_score"]: fmt(row["tuned"]).lstrip("+"),
                c["delta_score"]: fmt(row["delta"])}

    def score_table(table: pd.DataFrame, prefix: str, picked: str | None, scale: float, lang: str,
                    request: gr.Request) -> dict:
        enc, name = _picked(picked, lang, request)
        pairs, same = _pairs(table)
        rep = guarded("input", lang, lambda: similarity.compare_pairs(
            enc, pairs, same, parse_prefix(prefix), name, float(scale)))
        path = user_dir(request, lang) / "pairs_similarity.csv"
        rep.frame.to_csv(path, index=False)
        return {c["pairs_out"]: shown_pairs(rep.frame, lang),
                c["pairs_plot"]: sim_charts.pair_chart(rep.frame, labels=chart_labels("similarity", lang)),
                c["pairs_summary"]: pairs_summary(rep, lang), c["pairs_csv"]: str(path)}

    def score_list(table: pd.DataFrame, prefix: str, picked: str | None, scale: float, lang: str,
                   request: gr.Request) -> dict:
        enc, name = _picked(picked, lang, request)
        texts, cats = _texts(table)
        rep = guarded("input", lang, lambda: similarity.compare_list(
            enc, texts, parse_prefix(prefix), name, cats, float(scale)))
        s, labels = rep.summary, chart_labels("similarity", lang)
        text = t("summary_list", lang, base=s["mean_cosine_base"], tuned=s["mean_cosine_tuned"])
        if "within_base" in s:
            text += "  \n" + t("summary_groups", lang, wb=s["within_base"], wt=s["within_tuned"],
                               bb=s["between_base"], bt=s["between_tuned"])
        path = user_dir(request, lang) / "list_map.csv"
        rep.points.to_csv(path, index=False)
        return {c["heat_plot"]: sim_charts.heatmaps(rep.matrices, labels=labels),
                c["map_plot"]: sim_charts.movement_map(rep.points, labels=labels),
                c["list_summary"]: f"{text}  \n{t('cosine_note', lang)}",
                c["list_retrieval"]: retrieval_md(rep.retrieval, lang), c["list_csv"]: str(path)}

    def upload(file: str | None, lang: str, request: gr.Request) -> dict:
        if not file:
            return {}
        session = session_of(request)
        label = Path(file).stem[:60] or "adapter"
        name, _ = guarded("adapter", lang, lambda: encoders.add_session_adapter(
            session, label, unpack_adapter(Path(file), user_dir(request, lang) / "adapters")))
        gr.Info(t("adapter_added", lang, label=label))
        return {c["adapter"]: gr.update(choices=adapter_choices(session, lang), value=name),
                status: status_md(lang, session, name)}

    pair_in = [c["text_a"], c["text_b"], c["prefix"], c["adapter"], c["scale"], lang_radio]
    c["compare"].click(score_one, pair_in, [c["base_score"], c["tuned_score"], c["delta_score"]], **PRIVATE,
                       **SHARED_QUEUE)
    c["run_pairs"].click(score_table, [c["pairs"], c["prefix"], c["adapter"], c["scale"], lang_radio],
                         [c["pairs_out"], c["pairs_plot"], c["pairs_summary"], c["pairs_csv"]], **PRIVATE)
    c["run_list"].click(score_list, [c["items"], c["prefix"], c["adapter"], c["scale"], lang_radio],
                        [c["heat_plot"], c["map_plot"], c["list_summary"], c["list_retrieval"], c["list_csv"]],
                        **PRIVATE)
    c["adapter_file"].upload(upload, [c["adapter_file"], lang_radio], [c["adapter"], status], **PRIVATE)
    c["adapter"].change(on_adapter, [c["adapter"], lang_radio], [status], **PRIVATE)
    evaluation.bind(c["eval"], c, lang_radio)
    catalog.bind(c["catalog"], c, lang_radio)


def _scale(scale: float | None) -> float:
    """An omitted trailing `scale` (old positional calls, None) is the adapter as trained."""
    return 1.0 if scale is None else scale


def pair_answer(row: pd.Series, enc: Any) -> dict:
    """/score_pair's answer for one scored row (tuned and delta None without an adapter)."""
    nan = pd.isna(row["tuned"])
    return {"base": float(row["base"]), "tuned": None if nan else float(row["tuned"]),
            "delta": None if nan else float(row["delta"]),
            "base_source": enc.base.label, "adapter": encoders.status().adapter_label}


def embed_answer(base: Any, tuned: Any, adapter: str | None, enc: Any) -> dict:
    """/embed's answer: base and tuned vectors as lists (tuned None without an adapter)."""
    return {"base": base.tolist(), "tuned": tuned.tolist() if adapter else None,
            "base_source": enc.base.label, "adapter": encoders.status().adapter_label}


def embed_items(texts: str) -> list[str]:
    """/embed's input: one text per non-empty line, checked like the list view's."""
    items = [line for line in (texts or "").splitlines() if line.strip()]
    guarded("input", "en", lambda: similarity.check_texts(items, max_texts=similarity.MAX_LIST))
    return items


def api(prefix_default: str = DEFAULT_PREFIX) -> None:
    """The /score_pair and /embed endpoints (default adapter, English messages for programs)."""
    if batch_mode() == "gradio":
        from ui.similarity_gradio_batch import api_batched

        return api_batched(prefix_default)

    def api_score_pair(text_a: str, text_b: str, prefix: str = prefix_default, scale: float = 1.0) -> dict:
        """Cosine similarity of two texts under the base encoder and base + default adapter
        (at strength `scale`, 0 … 2; 0 = the base exactly)."""
        enc = encoder()
        df = guarded("input", "en", lambda: similarity.score_pairs(
            enc, [(text_a, text_b)], parse_prefix(prefix), encoders.default_name(), _scale(scale)))
        return pair_answer(df.iloc[0], enc)

    def api_embed(texts: str, prefix: str = prefix_default, scale: float = 1.0) -> dict:
        """L2-normalised vectors (one text per line), base and base + default adapter at `scale`."""
        enc = encoder()
        items = embed_items(texts)
        adapter = encoders.default_name()
        base, tuned = guarded("input", "en", lambda: enc.embed_both(
            items, parse_prefix(prefix), adapter, _scale(scale)))
        return embed_answer(base, tuned, adapter, enc)

    gr.api(api_score_pair, api_name="score_pair", **SHARED_QUEUE)
    gr.api(api_embed, api_name="embed", **SHARED_QUEUE)
