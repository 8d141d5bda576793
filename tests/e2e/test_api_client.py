"""The app's public API, called the way a program calls it: `gradio_client.Client`.

Why: the Space advertises /score_pair, /embed, /preview_corpus and /train; a renamed
argument or a changed return shape breaks every script that uses them while the browser
UI still looks fine. These tests pin the numbers (known e5-small cosines), the shapes,
the error messages and the trained adapter's format against a real running app.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before gradio_client: no Hub version checks offline
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client, handle_file  # noqa: E402

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PAIR = ("Смартфон Apple iPhone", "Телефон Apple iPhone")
KEYS = {"base", "tuned", "delta", "base_source", "adapter"}


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 product titles: enough for a few batches of 8, small enough to train in seconds."""
    lines = (EXAMPLES / "products_corpus.txt").read_text(encoding="utf-8").splitlines()[:64]
    path = tmp_path_factory.mktemp("corpus") / "small_corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("prefix", "expected"), [("query: ", 0.9659), ("", 0.9544)])
def test_score_pair_known_values(client: Client, prefix: str, expected: float) -> None:
    out = client.predict(*PAIR, prefix, api_name="/score_pair")
    assert set(out) == KEYS
    assert out["base"] == pytest.approx(expected, abs=0.003)
    assert "offline" in out["base_source"]
    # the shipped example adapter (examples/adapters/e5-products-contrastive) is the default
    assert (EXAMPLES / "adapters" / "e5-products-contrastive" / "adapter_model.safetensors").is_file()
    assert isinstance(out["tuned"], float)
    assert abs(out["tuned"] - out["base"]) > 1e-4
    assert out["delta"] == pytest.approx(out["tuned"] - out["base"], abs=1e-6)
    assert "e5-products-contrastive" in out["adapter"]


@pytest.mark.parametrize("prefix", ["query: ", ""])
def test_embed_is_normalised_and_matches_score_pair(client: Client, prefix: str) -> None:
    emb = client.predict("\n".join(PAIR), prefix, api_name="/embed")
    base, tuned = np.asarray(emb["base"]), np.asarray(emb["tuned"])
    assert base.shape == (2, 384) and tuned.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(base, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(base, tuned, atol=1e-3)  # the adapter really changes the vectors

    score = client.predict(*PAIR, prefix, api_name="/score_pair")
    assert float(base[0] @ base[1]) == pytest.approx(score["base"], abs=1e-4)
    assert float(tuned[0] @ tuned[1]) == pytest.approx(score["tuned"], abs=1e-4)


def test_embed_rejects_empty_input(client: Client) -> None:
    with pytest.raises(Exception, match="at least one text"):
        client.predict("  \n ", "query: ", api_name="/embed")


def test_preview_corpus_detects_cp1251(client: Client) -> None:
    info = client.predict(handle_file(str(EXAMPLES / "products_corpus_cp1251.csv")),
                          api_name="/preview_corpus")
    assert info["encoding"].lower().replace("_", "-") in {"cp1251", "windows-1251"}
    assert info["text_column"] == "Название"
    assert info["columns"] == ["Название", "Категория"]
    assert info["n_texts"] > 100
    # decoded correctly: the sample is Cyrillic, not mojibake
    assert any("\u0400" <= ch <= "\u04ff" for ch in "".join(info["sample"]))
    assert "Ã" not in "".join(info["sample"]) and "Р°" not in "".join(info["sample"])


def test_preview_corpus_rejects_binary_renamed_csv(client: Client, tmp_path: Path) -> None:
    fake = tmp_path / "catalog.csv"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    with pytest.raises(Exception, match="not a text/table file"):
        client.predict(handle_file(str(fake)), api_name="/preview_corpus")


def test_train_returns_a_loadable_peft_adapter(client: Client, small_corpus: Path,
                                               tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModel

    from comparison.base_encoder import resolve_base

    zip_path, metrics, _status, _plot, result_md = client.predict(
        handle_file(str(small_corpus)), None, "en",
        8, 16.0, 0.0, 5e-4, 1, 8, 32, 0.6, False, None, 3, 42,
        api_name="/train")
    assert metrics["status"] == "completed"
    assert metrics["steps"] == 3 and metrics["n_texts"] == 64
    assert "completed" in result_md

    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert {"adapter_config.json", "adapter_model.safetensors"} <= set(names)
        assert all("/" not in n and "\\" not in n for n in names)  # flat archive
        zf.extractall(tmp_path / "adapter")

    base_path = resolve_base().path  # the cached offline conversion the app also uses
    base = AutoModel.from_pretrained(base_path, add_pooling_layer=False)
    model = PeftModel.from_pretrained(base, str(tmp_path / "adapter"))
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # trained, not the zero init

    batch = {"input_ids": torch.tensor([[0, 9060, 2]]),
             "attention_mask": torch.ones(1, 3, dtype=torch.long)}
    with torch.no_grad():
        tuned = model(**batch).last_hidden_state
        with model.disable_adapter():
            plain = model(**batch).last_hidden_state
    assert not torch.allclose(tuned, plain, atol=1e-6)


def test_score_pair_and_embed_take_an_optional_strength(client: Client) -> None:
    """`scale` is an optional trailing argument: omitted = 1, 0 = the base exactly."""
    as_trained = client.predict(*PAIR, "query: ", api_name="/score_pair")
    assert client.predict(*PAIR, "query: ", 1.0, api_name="/score_pair") == as_trained
    off = client.predict(*PAIR, "query: ", 0.0, api_name="/score_pair")
    assert off["tuned"] == pytest.approx(off["base"], abs=1e-6) and off["delta"] == pytest.approx(0, abs=1e-6)
    emb = client.predict("\n".join(PAIR), "query: ", 0.0, api_name="/embed")
    np.testing.assert_allclose(np.asarray(emb["tuned"]), np.asarray(emb["base"]), atol=1e-6)
    with pytest.raises(Exception, match="scale"):
        client.predict(*PAIR, "query: ", 3.0, api_name="/score_pair")


def test_preview_corpus_takes_an_optional_column_and_encoding(client: Client) -> None:
    path = handle_file(str(EXAMPLES / "products_corpus_cp1251.csv"))
    auto = client.predict(path, api_name="/preview_corpus")
    chosen = client.predict(path, "Название", "cp1251", api_name="/preview_corpus")
    assert chosen["sample"] == auto["sample"] and chosen["encoding"] == "cp1251"
    with pytest.raises(Exception, match="(?i)utf-8|decode|encoding"):
        client.predict(path, "", "utf-8", api_name="/preview_corpus")  # a wrong override is refused


def test_train_uses_the_chosen_encoding(client: Client, small_corpus: Path, tmp_path: Path) -> None:
    koi = tmp_path / "koi8.txt"
    koi.write_bytes(small_corpus.read_text(encoding="utf-8").encode("koi8-r", errors="replace"))
    args = (8, 16.0, 0.0, 5e-4, 1, 8, 32, 0.6, False, None, 1, 42, "contrastive", 0.0, False)
    # settings added after `encoding` (ui/training.py API_LATE_FIELDS) follow it
    zip_path, metrics, *_ = client.predict(handle_file(str(koi)), None, "en", *args, "koi8-r", 1.0,
                                           api_name="/train")
    assert metrics["status"] == "completed" and metrics["n_texts"] == 64
    with zipfile.ZipFile(zip_path) as z:
        log = json.loads(z.read(next(n for n in z.namelist() if n.endswith("training_log.json"))))
    assert log["config"]["ranking_weight"] == 1.0 and metrics["ranking_weight_used"] == 1.0
    # twin views are not a /train setting: automatic, and reported in the metrics
    assert log["config"]["twin_positives"] is None
    assert metrics["twin_positives_used"] == log["twin_positives_used"]
    assert metrics["titles_with_twin"] == log["titles_with_twin"]
    assert metrics["sibling_negatives_used"] == log["sibling_negatives_used"]
    assert metrics["sibling_negatives_found"] == log["sibling_negatives_found"]
    with pytest.raises(Exception, match="(?i)utf-8|decode|encoding"):
        client.predict(handle_file(str(koi)), None, "en", *args, "utf-8", api_name="/train")
