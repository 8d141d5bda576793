"""The merged sentence-transformers export encodes exactly as the app (tiny model, fast)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comparison.base_encoder import BaseSource
from comparison.catalog.export import export_sentence_transformer
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter

TEXTS = ["Смартфон Apple iPhone 15", "Телефон Apple iPhone 15 128GB", "Кофемашина Nespresso"]


@pytest.fixture(scope="module")
def setup(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("export")
    adapter = make_adapter(tiny_encoder, root / "rand", seed=3)
    enc = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    enc.add_adapter("rand", str(adapter), "random")
    return enc, adapter, root


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_export_loads_and_matches_app(setup, tiny_encoder, scale):
    from sentence_transformers import SentenceTransformer

    enc, adapter, root = setup
    metrics = {"dev": pd.DataFrame({"model": ["base", "base + adapter"], "recall@1": [0.5, 0.75],
                                    "mrr": [0.6, 0.8], "hard_neg_auc": [0.7, 0.9], "mean_cosine": [0.8, 0.6]})}
    out = export_sentence_transformer(tiny_encoder, adapter, root / f"st-{scale}", scale=scale,
                                      adapter_label="random", base_id="tiny/base", metrics=metrics)
    assert {"modules.json", "config_sentence_transformers.json", "README.md"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    cfg = json.loads((out / "config_sentence_transformers.json").read_text())
    assert cfg["prompts"]["query"] == "query: " and cfg["default_prompt_name"] == "query"
    card = (out / "README.md").read_text()
    assert "| dev | base + adapter | 0.7500 |" in card and "base_model: tiny/base" in card
    assert not list(out.parent.glob(f".st-{scale}*"))  # nothing half-written left beside it
    model = SentenceTransformer(str(out), device="cpu")
    got = model.encode(TEXTS)
    want = enc.embed(TEXTS, "query: ", "rand", scale)
    np.testing.assert_allclose(got, want, atol=1e-4)
    base = enc.embed(TEXTS, "query: ", None)
    assert np.abs(got - base).max() > 1e-3  # the adapter is really in there


def test_export_failure_leaves_nothing(setup, tiny_encoder, tmp_path):
    bad = tmp_path / "not-an-adapter"
    bad.mkdir()
    with pytest.raises(Exception):
        export_sentence_transformer(tiny_encoder, bad, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [bad]


@pytest.mark.slow
def test_real_e5_export_encodes_as_the_app(tmp_path: Path) -> None:
    """The offline e5-small + the shipped adapter at strength 0.7, merged, loaded back."""
    from sentence_transformers import SentenceTransformer

    from comparison.adapters import SHIPPED_ADAPTER_DIR
    from comparison.base_encoder import resolve_base

    base = resolve_base()
    enc = DualEncoder(base)
    enc.add_adapter("shipped", str(SHIPPED_ADAPTER_DIR), "shipped")
    prefix, pooling = enc.settings("shipped", "query: ")
    out = export_sentence_transformer(base.path, SHIPPED_ADAPTER_DIR, tmp_path / "st", scale=0.7,
                                      prefix=prefix, pooling=pooling, base_id="intfloat/multilingual-e5-small")
    got = SentenceTransformer(str(out), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(got, enc.embed(TEXTS, "query: ", "shipped", 0.7), atol=1e-4)
