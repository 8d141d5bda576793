"""The catalog view's verdict without labels (propose pairs, mark, verdict, marks file) and the
merged-model download. Compute: `comparison.catalog.verdict` and `comparison.catalog.export`."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from comparison.basics import parse_prefix
from comparison.catalog.export import export_sentence_transformer
from comparison.catalog.verdict import MARKS, LabelFreeVerdict, judge, marks_to_groups, propose_pairs
from comparison.dev_eval import evaluate_dev
from comparison.embeddings import _adapter_folder
from ui.common import PRIVATE, Labels, encoder, encoders, guarded, session_of, user_dir
from ui.locales import localize_label, plural, t

N_SLOTS = 24  # pair rows on the page; a proposal has about 20
DEV_PAIRS = Path(__file__).resolve().parent.parent / "examples" / "dev_pairs.csv"
MARKS_NAME = "catalog_marks.csv"


def forget_session(session: str) -> None:
    """Nothing module-level to drop: proposals live in gr.State, files in the session folder."""


def build(L: Labels, lang: str) -> dict[str, Any]:
    c: dict[str, Any] = {"rows": [], "texts": [], "marks": []}
    with L(gr.Accordion(t("cat_verdict", lang), open=False, elem_id="catalog-verdict"), "cat_verdict"):
        L(gr.Markdown(t("cat_verdict_help", lang)), "cat_verdict_help", "value")
        c["propose"] = L(gr.Button(t("cat_propose", lang), elem_id="catalog-propose"), "cat_propose", "value")
        c["how"] = gr.Markdown(elem_id="catalog-how-chosen")
        for i in range(N_SLOTS):
            with gr.Row(visible=False, elem_classes="catalog-pair") as row:
                c["rows"].append(row)
                c["texts"].append(gr.Markdown(elem_classes="catalog-pair-text"))
                c["marks"].append(L.choices(gr.Radio(
                    [(t(f"cat_mark_{m}", lang), m) for m in MARKS], value=None, show_label=False,
                    elem_id=f"catalog-mark-{i + 1}", elem_classes="catalog-mark"), "cat_mark_", MARKS))
        c["judge"] = L(gr.Button(t("cat_judge", lang), variant="primary", elem_id="catalog-judge"), "cat_judge", "value")
        c["verdict_md"] = gr.Markdown(elem_id="catalog-verdict-md")
        c["marks_file"] = L(gr.File(label=t("cat_marks_file", lang), interactive=False,
                                    elem_id="catalog-marks-file"), "cat_marks_file")
    with gr.Row():
        c["export"] = L(gr.Button(t("cat_export", lang), elem_id="catalog-export"), "cat_export", "value")
        c["export_file"] = L(gr.File(label=t("cat_export_file", lang), interactive=False,
                                     elem_id="catalog-export-file"), "cat_export_file")
    c["export_md"] = gr.Markdown(elem_id="catalog-export-md")
    c["proposal"] = gr.State(None)
    return c


def _pct(x: float) -> int:
    return round(100 * x)


def verdict_md(v: LabelFreeVerdict, lang: str) -> str:
    """The verdict in plain words: counts, intervals, the sign test, the outcome, the caveat."""
    n = v.n_titles
    counts = t("cat_verdict_counts", lang, n=n, titles_word=plural(n, "titles_loc", lang), tr=v.tuned_right,
               tr_word=plural(v.tuned_right, "times", lang), trp=_pct(v.tuned_right / n) if n else 0,
               tlo=_pct(v.tuned_ci[0]), thi=_pct(v.tuned_ci[1]), br=v.base_right,
               br_word=plural(v.base_right, "times", lang), brp=_pct(v.base_right / n) if n else 0,
               blo=_pct(v.base_ci[0]), bhi=_pct(v.base_ci[1]), m=v.n_marked)
    p = f"{v.p_value:.3f}".replace(".", ",") if lang == "ru" else f"{v.p_value:.3f}"
    sign = t("cat_verdict_sign", lang, d=v.tuned_only + v.base_only, w=v.tuned_only, l=v.base_only, p=p)
    return "\n\n".join([counts, sign, t(f"cat_outcome_{v.outcome}", lang), t("cat_verdict_note", lang)])


def how_chosen_md(proposal: pd.DataFrame, lang: str) -> str:
    firsts = proposal.drop_duplicates("q_row")["source"].value_counts()
    d, r, n = int(firsts.get("disputed", 0)), int(firsts.get("random", 0)), len(proposal)
    return t("cat_how_chosen", lang, n=n, pairs_word=plural(n, "pairs", lang), d=d,
             titles_word=plural(d, "titles_gen", lang), r=r)


def _slots(c: dict, proposal: pd.DataFrame | None) -> dict:
    out: dict = {}
    rows = [] if proposal is None else proposal.to_dict("records")
    for i in range(N_SLOTS):
        visible = i < len(rows)
        out[c["rows"][i]] = gr.update(visible=visible)
        out[c["texts"][i]] = f"**{rows[i]['pair']}.** {rows[i]['query']}  ↔  {rows[i]['candidate']}" if visible else ""
        out[c["marks"][i]] = gr.update(value=None)
    return out


def _marks(proposal: pd.DataFrame, values: tuple) -> dict[int, str]:
    return {int(p): v for p, v in zip(proposal["pair"], values) if v in MARKS}


def bind(c: dict[str, Any], cat: dict[str, Any], sim: dict[str, Any], lang_radio: gr.Radio) -> None:
    from ui import catalog as cat_ui

    def propose(picked: str | None, scale: float, lang: str, request: gr.Request) -> dict:
        session = cat_ui._session(request, lang)
        adapter = encoders.resolve(session, picked)
        idx = guarded("input", lang, lambda: cat_ui.STORE.get(session, adapter, float(scale) if adapter else 1.0))
        if idx.tuned is None:
            raise gr.Error(t("cat_need_adapter", lang))
        moved, _ = cat_ui.moved_for(session, idx)
        proposal = propose_pairs(idx.titles, idx.base, idx.tuned, moved, n_pairs=20).head(N_SLOTS)
        return {c["proposal"]: proposal, c["how"]: how_chosen_md(proposal, lang), c["verdict_md"]: "",
                c["marks_file"]: None, **_slots(c, proposal)}

    def verdict(data: dict, request: gr.Request) -> dict:
        proposal, lang = data[c["proposal"]], data[lang_radio]
        values = tuple(data[m] for m in c["marks"])
        if proposal is None or len(proposal) == 0:
            raise gr.Error(t("cat_no_proposal", lang))
        marks = _marks(proposal, values)
        if not any(m != "unsure" for m in marks.values()):
            raise gr.Error(t("cat_no_marks", lang))
        v = guarded("input", lang, lambda: judge(proposal, marks))
        out: dict = {c["verdict_md"]: verdict_md(v, lang), c["marks_file"]: None}
        try:
            groups = marks_to_groups(proposal, marks)
        except ValueError as exc:  # CatalogError: not both kinds of marks yet
            from ui.common import message

            out[c["verdict_md"]] += "\n\n" + message(exc, lang)
            return out
        path = user_dir(request, lang) / MARKS_NAME
        groups.to_csv(path, index=False)
        out[c["marks_file"]] = str(path)
        return out

    def export(picked: str | None, scale: float, prefix: str, lang: str, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> dict:
        session, enc = session_of(request), encoder(lang)
        name = encoders.resolve(session, picked)
        if name is None:
            raise gr.Error(t("cat_need_adapter", lang))
        info, folder = enc.adapters[name], user_dir(request, lang)
        used_prefix, pooling = enc.settings(name, parse_prefix(prefix))
        progress(0.1, desc=t("cat_export", lang))
        metrics = {DEV_PAIRS.name: guarded("input", lang, lambda: evaluate_dev(enc, name, DEV_PAIRS, used_prefix,
                                                                                float(scale)))}
        if (folder / MARKS_NAME).is_file():
            try:
                metrics[MARKS_NAME] = evaluate_dev(enc, name, folder / MARKS_NAME, used_prefix, float(scale))
            except ValueError:
                pass  # too few marks for metrics: the card shows the shipped set only
        progress(0.5, desc=t("cat_export", lang))
        out = folder / "merged-model"
        guarded("adapter", lang, lambda: export_sentence_transformer(
            enc.base.path, _adapter_folder(info.path), out, scale=float(scale), prefix=used_prefix, pooling=pooling,
            base_id=enc.base.label, adapter_label=info.label, metrics=metrics))
        zip_path = folder / "merged-model.zip"
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as zf:  # weights do not compress
            for f in sorted(out.rglob("*")):
                if f.is_file():
                    zf.write(f, Path("merged-model") / f.relative_to(out))
        shutil.rmtree(out, ignore_errors=True)
        return {c["export_file"]: str(zip_path),
                c["export_md"]: t("cat_export_done", lang, adapter=localize_label(info.label, lang),
                                  scale=f"{float(scale):g}")}

    pick = [sim["adapter"], sim["scale"]]
    c["propose"].click(propose, [*pick, lang_radio],
                       [c["proposal"], c["how"], c["verdict_md"], c["marks_file"], *c["rows"], *c["texts"], *c["marks"]],
                       **PRIVATE)
    c["judge"].click(verdict, {c["proposal"], lang_radio, *c["marks"]}, [c["verdict_md"], c["marks_file"]], **PRIVATE)
    c["export"].click(export, [*pick, sim["prefix"], lang_radio], [c["export_file"], c["export_md"]],
                      concurrency_id="catalog", **PRIVATE)
