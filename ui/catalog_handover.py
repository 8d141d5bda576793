"""The catalog view and the Training tab hand a file to each other: no second upload.

Training → catalog: search the corpus you are about to train on. Catalog → training: a
catalog that lists its variants in one seller template ("Сок Добрый апельсиновый 1 л" /
"… яблочный 1 л") is where an adapter trained on other categories mixes variants up, and
an adapter trained on the catalog itself tells them apart far better (measured in
examples/adapters/README.md: 0.82–0.96 Recall@1 on two hand-written catalogs, against
0.49–0.67 for the shipped default). So the catalog view says so, in plain words, and offers
the hand-over; the Training tab's plan line then says how long the run takes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from comparison.catalog.index import CatalogIndex
from tuning.data import SUFFIXES, preview
from tuning.variants import is_variant_catalog, template_sibling_share
from ui import training
from ui.common import PRIVATE, encoders, guarded
from ui.locales import t


def variant_share(index: CatalogIndex) -> float:
    """Share of the catalog's titles with a one-word sibling in one seller template."""
    return template_sibling_share(index.titles)


def variant_hint(session: str, index: CatalogIndex, file: str | None, lang: str) -> tuple[str, bool]:
    """(the words, whether to offer the hand-over) after indexing: only for a catalog of
    variants, uploaded as a corpus the Training tab reads (not a zip of vectors), searched
    without an adapter the session trained itself."""
    if not file or Path(file).suffix.lower() not in SUFFIXES or encoders.owns(session, index.adapter):
        return "", False
    share = variant_share(index)
    if not is_variant_catalog(share):
        return "", False
    return t("cat_variants", lang, share=round(100 * share)), True


def bind(cat: dict[str, Any], train: dict[str, Any], lang_radio: gr.Radio, tabs: gr.Tabs) -> None:
    """Both directions: the catalog's «from Training» and «train on this catalog» buttons."""
    cat["from_training"].click(lambda f, col, enc, lang: _from_training(cat, f, col, enc, lang),
                               [train["corpus"], train["text_col"], train["encoding"], lang_radio],
                               [cat["file"], cat["column"], cat["encoding"], cat["status"]], **PRIVATE)

    def to_training(file: str | None, column: str | None, encoding: str | None, lang: str) -> dict:
        if not file:
            raise gr.Error(t("cat_no_file", lang))
        info = training.preview_info(file, column, encoding, lang)
        return {train["corpus"]: file, train["preview_json"]: info, tabs: gr.Tabs(selected="training")}

    # Another file (uploaded, cleared or taken from the Training tab) has not been indexed yet:
    # the hint and the hand-over were about the last one.
    cat["file"].change(lambda: ("", gr.update(visible=False)), None,
                       [cat["variants_md"], cat["to_training"]], **PRIVATE)
    shown = [train[k] for k in training.PREVIEW_VIEW]
    cat["to_training"].click(to_training, [cat["file"], cat["column"], cat["encoding"], lang_radio],
                             [train["corpus"], train["preview_json"], tabs], **PRIVATE).then(
        lambda info, lang: training.preview_view(train, info, lang), [train["preview_json"], lang_radio],
        shown, **PRIVATE)


def _from_training(c: dict, file: str | None, column: str | None, encoding: str | None, lang: str) -> dict:
    if not file:
        raise gr.Error(t("cat_no_training_corpus", lang))
    info = guarded("corpus", lang, lambda: preview(Path(file)))
    cols = info.get("columns") or []
    return {c["file"]: file, c["column"]: gr.update(choices=cols, value=column or info.get("text_column")),
            c["encoding"]: encoding or training.AUTO, c["status"]: t("cat_taken", lang, name=Path(file).name)}
