"""Catalog view of the Similarity tab: index your catalog, search it base vs adapter, see what moved.

Compute lives in `comparison/catalog/`; this module only reads the form, calls it and shows
the result. Catalogs are kept per session in ONE module-level store (keyed by the session id,
never shared), so a second search costs one query encode. The verdict and the model export
are in `ui/catalog_verdict.py`.
"""
from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from comparison.basics import LensError, parse_prefix
from comparison.catalog.index import CatalogIndex, IndexCancelled, build_index, embed_query, wants_bf16
from comparison.catalog.moved import Moved, likely_duplicates, map_points, most_changed, neighbourhoods
from comparison.catalog.search import changes, search
from comparison.catalog.store import CatalogStore, variant_key
from comparison.charts.catalog import catalog_map
from tuning.data import SUFFIXES, load_corpus
from tuning.encodings import OFFERED_ENCODINGS
from ui import catalog_handover, catalog_verdict
from ui.common import (PRIVATE, Labels, encoder, encoders, fmt_seconds, guarded, session_of, user_dir,
                       user_error)
from ui.locales import chart_labels, localize_label, plural, t
from ui.training import AUTO, chosen_encoding

K_NEIGHBOURS = 10
STORE = CatalogStore()
_MOVED: dict[str, tuple[tuple, Moved, pd.DataFrame]] = {}  # session -> (variant, moved, map points)


def forget_session(session: str) -> None:
    """Drop a closed session's catalog (app.end_session)."""
    STORE.drop_session(session)
    _MOVED.pop(session, None)
    catalog_verdict.forget_session(session)


def num(value: float, lang: str, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "ru" else text


def _session(request: gr.Request, lang: str) -> str:
    user_dir(request, lang)  # checks the id (a forged one is refused) and marks the session alive
    return session_of(request)


def index_for(session: str, file: str | None, column: str | None, encoding: str | None, picked: str | None,
              scale: float, prefix: str, lang: str, progress: Any = None) -> tuple[CatalogIndex, bool]:
    """The session's catalog indexed for (adapter, strength): from the store when it is there.

    Returns (index, base vectors reused)."""
    if not file:
        raise gr.Error(t("cat_no_file", lang))
    if Path(file).suffix.lower() == ".zip":
        return open_embedded(session, Path(file), picked, lang), False
    corpus = guarded("corpus", lang, lambda: load_corpus(
        Path(file), column or None, encoding=chosen_encoding(encoding)))
    enc, adapter = encoder(lang), encoders.resolve(session, picked)
    scale = float(scale if adapter is not None else 1.0)
    bf16 = wants_bf16(enc)
    base = STORE.base_for(session, corpus.texts, prefix, bf16)
    if base is not None and STORE.has(session, adapter, scale):
        return STORE.get(session, adapter, scale), True
    cancel = STORE.start(session)

    def report(done: int, total: int, elapsed: float) -> None:
        if progress is not None:
            eta = elapsed / max(done, 1) * (total - done)
            progress(done / total, desc=t("cat_progress", lang, done=done, total=total, eta=fmt_seconds(eta, lang)))

    try:
        index = build_index(enc, corpus.texts, adapter, scale, prefix, report, cancel, base, bf16)
    except IndexCancelled:
        raise
    except (LensError, ValueError) as exc:
        raise user_error(exc, lang) from exc
    STORE.put(session, index, Path(file).name)
    return index, base is not None


def open_embedded(session: str, file: Path, picked: str | None, lang: str) -> CatalogIndex:
    """A catalog embedded by `python -m tuning.catalog_embed` (zip of its folder), checked to be
    made by this base and the picked adapter, so query and catalog vectors match."""
    from dataclasses import replace

    from comparison.catalog.shards import adapter_hash, read_embedded
    from comparison.embeddings import _adapter_folder

    enc, adapter = encoder(lang), encoders.resolve(session, picked)
    index, manifest = guarded("input", lang, lambda: read_embedded(file, user_dir_path(session) / "embedded"))
    want = manifest.get("adapter_sha256")
    have = None if adapter is None else adapter_hash(_adapter_folder(enc.adapters[adapter].path))
    if manifest.get("base") != enc.base.label or (want is not None and want != have):
        raise gr.Error(t("cat_embedded_other", lang, base=manifest.get("base"), adapter=manifest.get("adapter")))
    index = replace(index, adapter=adapter if want is not None else None)
    STORE.put(session, index, file.name)
    return index


def user_dir_path(session: str) -> Path:
    from comparison.runtime import session_dir
    from ui.common import SESSIONS

    return session_dir(SESSIONS, session)


def indexed_md(index: CatalogIndex, reused: bool, lang: str) -> str:
    s, word = index.summary(), plural(index.n, "titles", lang)
    if index.adapter is None:
        text = t("cat_indexed_base", lang, n=index.n, titles_word=word, seconds=fmt_seconds(s["seconds"], lang))
    else:
        label = localize_label(encoders.get().adapters[index.adapter].label, lang)
        text = t("cat_indexed", lang, n=index.n, titles_word=word, adapter=label, scale=num(index.scale, lang),
                 seconds=fmt_seconds(s["seconds"], lang), mb=num(float(s["memory_mb"]), lang, 1))
    return text + ("  \n" + t("cat_reused", lang) if reused else "")


def hits_html(hits: list, other_set: set[int], lang: str, side: str, k: int) -> str:
    """One result list as a table; a hit absent from the other top-k is highlighted."""
    head = t("cat_base_list" if side == "base" else "cat_tuned_list", lang)
    cols = [t("cat_col_rank", lang), t("cat_col_title", lang), t("cat_col_score", lang),
            t(f"cat_col_other_{side}", lang)]
    rows = []
    for h in hits:
        new = h.row not in other_set
        style = ' style="background:#fff3c4"' if new else ""
        other = "—" if h.other_rank is None else str(h.other_rank)
        arrow = "" if h.other_rank is None or h.other_rank == h.rank else ("↑" if h.other_rank > h.rank else "↓")
        rows.append(f'<tr class="hit{" changed" if new else ""}"{style}><td>{h.rank}</td>'
                    f'<td class="title">{html.escape(h.title)}</td><td>{num(h.score, lang, 4)}</td>'
                    f'<td>{other} {arrow}</td></tr>')
    header = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    return (f'<div class="catalog-list" data-side="{side}"><h4>{html.escape(head)}</h4>'
            f'<table style="width:100%"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def run_search(session: str, query: str, k: int, picked: str | None, scale: float, lang: str,
               latest: bool = False) -> tuple[CatalogIndex, dict]:
    """Search the session's catalog: the variant for the picked adapter/strength (or the latest)."""
    if latest:
        index = guarded("input", lang, lambda: STORE.get(session))
    else:
        adapter = encoders.resolve(session, picked)
        index = guarded("input", lang, lambda: STORE.get(
            session, adapter, float(scale) if adapter is not None else 1.0))
    if not (query or "").strip():
        raise gr.Error(t("cat_empty_query", lang))
    q_base, q_tuned = embed_query(encoder(lang), index, query)
    found = guarded("input", lang, lambda: search(index.titles, index.base, index.tuned, q_base, q_tuned, int(k)))
    return index, found


def moved_for(session: str, index: CatalogIndex) -> tuple[Moved, pd.DataFrame]:
    """Neighbourhoods before/after and the map points, computed once per variant and session."""
    key = (variant_key(index.adapter, index.scale), index.n, id(index))
    cached = _MOVED.get(session)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    moved = neighbourhoods(index.base, index.tuned, k=K_NEIGHBOURS)
    points = map_points(index.tuned, moved, index.titles)
    _MOVED[session] = (key, moved, points)
    return moved, points


def build(L: Labels, lang: str) -> dict[str, Any]:
    """Components of the catalog view (the caller opens its gr.Tab)."""
    c: dict[str, Any] = {}
    L(gr.Markdown(t("cat_help", lang)), "cat_help", "value")
    with gr.Row():
        c["file"] = L(gr.File(label=t("cat_file", lang), file_types=[*sorted(SUFFIXES), ".zip"], height=130,
                              elem_id="catalog-file"), "cat_file")
        with gr.Column():
            c["column"] = L(gr.Dropdown([], label=t("text_column", lang), elem_id="catalog-column"), "text_column")
            c["encoding"] = L(gr.Dropdown([(t("enc_auto", lang), AUTO), *OFFERED_ENCODINGS], value=AUTO,
                                          label=t("encoding", lang), elem_id="catalog-encoding"), "encoding")
    with gr.Row():
        c["from_training"] = L(gr.Button(t("cat_from_training", lang), elem_id="catalog-from-training"),
                               "cat_from_training", "value")
        c["index"] = L(gr.Button(t("cat_index", lang), variant="primary", elem_id="catalog-index"), "cat_index", "value")
        c["cancel"] = L(gr.Button(t("cat_cancel", lang), variant="stop", elem_id="catalog-cancel"), "cat_cancel", "value")
    c["status"] = gr.Markdown(elem_id="catalog-status")
    c["variants_md"] = gr.Markdown(elem_id="catalog-variants")
    c["to_training"] = L(gr.Button(t("cat_to_training", lang), visible=False, elem_id="catalog-to-training"),
                         "cat_to_training", "value")
    with gr.Row(equal_height=True):
        c["query"] = L(gr.Textbox(label=t("cat_query", lang), max_length=1000, elem_id="catalog-query", scale=4),
                       "cat_query")
        c["k"] = L(gr.Slider(1, 20, value=5, step=1, label=t("cat_k", lang), elem_id="catalog-k"), "cat_k")
        c["search"] = L(gr.Button(t("cat_search", lang), variant="primary", scale=0, elem_id="catalog-search"),
                        "cat_search", "value")
    c["search_note"] = gr.Markdown(elem_id="catalog-search-note")
    with gr.Row():
        c["base_hits"] = gr.HTML(elem_id="catalog-base")
        c["tuned_hits"] = gr.HTML(elem_id="catalog-tuned")
    with L(gr.Accordion(t("cat_moved", lang), open=False, elem_id="catalog-moved"), "cat_moved"):
        with gr.Row():
            c["share"] = L(gr.Slider(1, 20, value=5, step=1, label=t("cat_share", lang)), "cat_share")
            c["moved_run"] = L(gr.Button(t("cat_moved_run", lang), elem_id="catalog-moved-run"), "cat_moved_run", "value")
        c["moved_md"] = gr.Markdown(elem_id="catalog-moved-md")
        c["map"] = gr.Plot(show_label=False, elem_id="catalog-map")
        c["changed"] = L(gr.Dataframe(interactive=False, wrap=True, label=t("cat_changed_table", lang),
                                      elem_id="catalog-changed"), "cat_changed_table")
        c["dup_md"] = gr.Markdown(elem_id="catalog-dup-md")
        with gr.Row():
            c["dup_tuned"] = L(gr.Dataframe(interactive=False, wrap=True, label=t("cat_dup_tuned", lang),
                                            elem_id="catalog-dup-tuned"), "cat_dup_tuned")
            c["dup_base"] = L(gr.Dataframe(interactive=False, wrap=True, label=t("cat_dup_base", lang),
                                           elem_id="catalog-dup-base"), "cat_dup_base")
    c["verdict"] = catalog_verdict.build(L, lang)
    with gr.Row(visible=False):  # the /catalog_index and /catalog_search APIs
        c["api_column"] = gr.Textbox("", label="text_column")
        c["api_encoding"] = gr.Textbox(AUTO, label="encoding")
        c["api_query"] = gr.Textbox("", label="query")
        c["api_k"] = gr.Number(5, label="k", precision=0)
        c["api_index"], c["api_search"] = gr.Button("index"), gr.Button("search")
        c["api_out"] = gr.JSON()
    return c


def _moved_outputs(c: dict, index: CatalogIndex, session: str, share: float, lang: str,
                   found: list[int] | None = None) -> dict:
    if index.tuned is None:
        raise gr.Error(t("cat_need_adapter", lang))
    moved, points = moved_for(session, index)
    n = len(moved.rows)
    text = t("cat_moved_md", lang, k=moved.k, mean=round(float(moved.overlap.mean()) * 100), n=n,
             changed=int((moved.overlap < 1).sum()), all=int((moved.overlap == 0).sum()),
             titles_word=plural(n, "titles", lang))
    if moved.sampled:
        text += "  \n" + t("cat_moved_sampled", lang, m=n)
    table = most_changed(moved, index.titles).assign(overlap=lambda f: (f["overlap"] * moved.k).round().astype(int))
    table.columns = [t(k, lang) for k in ("cat_col_title", "cat_col_overlap", "cat_col_before", "cat_col_after")]
    dup = likely_duplicates(moved, index.titles, index.base, index.tuned, share=float(share) / 100)
    names = [t(k, lang) for k in ("cat_col_a", "cat_col_b", "cat_col_base", "cat_col_tuned")]
    dup_md = t("cat_dup_md", lang, share=int(share), tb=num(dup.threshold_base, lang, 3),
               tt=num(dup.threshold_tuned, lang, 3), nb=dup.n_base, nt=dup.n_tuned,
               pairs_word=plural(dup.n_tuned, "pairs", lang))
    return {c["moved_md"]: text, c["changed"]: table, c["dup_md"]: dup_md,
            c["dup_tuned"]: dup.tuned_only.round(4).set_axis(names, axis=1),
            c["dup_base"]: dup.base_only.round(4).set_axis(names, axis=1),
            c["map"]: catalog_map(points, found, labels=chart_labels("catalog", lang))}


def bind(c: dict[str, Any], sim: dict[str, Any], lang_radio: gr.Radio) -> None:
    """Events of the catalog view; the adapter, strength and prefix come from the Similarity tab."""
    def on_file(file: str | None, lang: str) -> dict:
        if not file:
            return {}
        from tuning.data import preview

        info = guarded("corpus", lang, lambda: preview(Path(file)))
        cols = info.get("columns") or []
        return {c["column"]: gr.update(choices=cols, value=info.get("text_column"), interactive=len(cols) > 1)}

    def index(file: str | None, column: str | None, encoding: str | None, picked: str | None, scale: float,
              prefix: str, lang: str, request: gr.Request, progress: gr.Progress = gr.Progress()) -> dict:
        session = _session(request, lang)
        try:
            idx, reused = index_for(session, file, column, encoding, picked, scale, parse_prefix(prefix), lang, progress)
        except IndexCancelled:
            return {c["status"]: t("cat_cancelled", lang), c["variants_md"]: "",
                    c["to_training"]: gr.update(visible=False)}
        _MOVED.pop(session, None)
        hint, offer = catalog_handover.variant_hint(session, idx, file, lang)
        return {c["status"]: indexed_md(idx, reused, lang), c["variants_md"]: hint,
                c["to_training"]: gr.update(visible=offer)}

    def cancel(request: gr.Request) -> None:
        STORE.cancel(session_of(request))

    def do_search(query: str, k: float, picked: str | None, scale: float, share: float, lang: str,
                  request: gr.Request) -> dict:
        session = _session(request, lang)
        idx, found = run_search(session, query, int(k), picked, scale, lang)
        base_set, tuned_set = {h.row for h in found["base"]}, {h.row for h in found["tuned"]}
        ch = changes(found)
        note = t("cat_search_note", lang, k=int(k)) + "  \n" + t(
            "cat_first_changed" if ch["first_changed"] else "cat_first_same", lang)
        out = {c["base_hits"]: hits_html(found["base"], tuned_set, lang, "base", int(k)),
               c["tuned_hits"]: hits_html(found["tuned"], base_set, lang, "tuned", int(k)),
               c["search_note"]: note}
        cached = _MOVED.get(session)
        if cached is not None and found["tuned"] and idx.tuned is not None and cached[0][2] == id(idx):
            out[c["map"]] = catalog_map(cached[2], [found["tuned"][0].row, found["base"][0].row],
                                        labels=chart_labels("catalog", lang))
        return out

    def show_moved(picked: str | None, scale: float, share: float, lang: str, request: gr.Request) -> dict:
        session = _session(request, lang)
        adapter = encoders.resolve(session, picked)
        idx = guarded("input", lang, lambda: STORE.get(session, adapter, float(scale) if adapter else 1.0))
        return _moved_outputs(c, idx, session, share, lang)

    def api_index(file: str | None, text_column: str | None = None, encoding: str | None = None,
                  request: gr.Request = None) -> dict:
        """Index a catalog file for this client session under the base and the default adapter."""
        session = _session(request, "en")
        t0 = time.perf_counter()
        try:
            idx, reused = index_for(session, file, text_column or None, encoding, None, 1.0, "query: ", "en")
        except IndexCancelled as exc:
            raise gr.Error(str(exc)) from exc
        return {**idx.summary(), "seconds": round(time.perf_counter() - t0, 2), "base_reused": reused,
                "variant_share": round(catalog_handover.variant_share(idx), 3),
                "adapter_label": encoders.status().adapter_label}

    def api_search(query: str, k: float = 5, request: gr.Request = None) -> dict:
        """Top-k titles of this session's catalog under the base and under the adapter."""
        _, found = run_search(_session(request, "en"), query, int(k or 5), None, 1.0, "en", latest=True)
        return {side: [h.as_dict() for h in hits] for side, hits in found.items()}

    pick = [sim["adapter"], sim["scale"]]
    c["file"].upload(on_file, [c["file"], lang_radio], [c["column"]], **PRIVATE)
    c["index"].click(index, [c["file"], c["column"], c["encoding"], *pick, sim["prefix"], lang_radio],
                     [c["status"], c["variants_md"], c["to_training"]], concurrency_id="catalog", **PRIVATE)
    c["cancel"].click(cancel, None, None, concurrency_limit=None, **PRIVATE)
    search_out = [c["base_hits"], c["tuned_hits"], c["search_note"], c["map"]]
    for trigger in (c["search"].click, c["query"].submit):
        trigger(do_search, [c["query"], c["k"], *pick, c["share"], lang_radio], search_out, **PRIVATE)
    c["moved_run"].click(show_moved, [*pick, c["share"], lang_radio],
                         [c["moved_md"], c["changed"], c["dup_md"], c["dup_tuned"], c["dup_base"], c["map"]], **PRIVATE)
    c["api_index"].click(api_index, [c["file"], c["api_column"], c["api_encoding"]], [c["api_out"]],
                         api_name="catalog_index", concurrency_id="catalog")
    c["api_search"].click(api_search, [c["api_query"], c["api_k"]], [c["api_out"]], api_name="catalog_search")
    catalog_verdict.bind(c["verdict"], c, sim, lang_radio)
