"""DualEncoder: one model, base under disable_adapter, tuned per named adapter."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from comparison.adapters import AdapterError
from comparison.base_encoder import BaseSource
from comparison.embeddings import DualEncoder, clean_text
from tests.lora_helpers import make_adapter

TEXTS = ["Смартфон Apple iPhone", "Телефон Apple iPhone", "Кофемашина Nespresso", "наушники xiaomi"]


@pytest.fixture(scope="module")
def adapters(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {
        "zero": make_adapter(tiny_encoder, root / "zero", zero_b=True),
        "rand": make_adapter(tiny_encoder, root / "rand", seed=1),
        "rand2": make_adapter(tiny_encoder, root / "rand2", seed=2, r=2, targets=("query", "key", "dense")),
    }


def local(d: Path) -> BaseSource:
    return BaseSource(path=str(d), kind="local", label=f"local: {d}")


def test_zero_b_adapter_gives_base_exactly(tiny_encoder, adapters):
    enc = DualEncoder(local(tiny_encoder))
    enc.add_adapter("zero", str(adapters["zero"]), "zero")
    base, tuned = enc.embed_both(TEXTS, "query: ", "zero")
    assert np.array_equal(base, tuned)


def test_random_adapter_moves_vectors(tiny_encoder, adapters):
    enc = DualEncoder(local(tiny_encoder))
    info = enc.add_adapter("rand", str(adapters["rand"]), "random")
    assert (info.r, info.alpha, info.target_modules) == (4, 8.0, ("query", "value"))
    base, tuned = enc.embed_both(TEXTS, "query: ", "rand")
    assert base.dtype == np.float32 and base.shape == (4, 32)
    assert np.abs(base - tuned).max() > 1e-3
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-5)


def test_base_is_plain_automodel_forward(tiny_encoder, adapters):
    """disable_adapter() vectors equal a forward of the untouched model, mean-pooled by hand."""
    enc = DualEncoder(local(tiny_encoder))
    enc.add_adapter("rand", str(adapters["rand"]), "random")
    got = enc.embed(TEXTS, "passage: ", None)
    model = AutoModel.from_pretrained(tiny_encoder, add_pooling_layer=False).eval()
    tok = AutoTokenizer.from_pretrained(tiny_encoder)
    batch = tok(["passage: " + t for t in TEXTS], padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    want = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_save_load_round_trip_identical(tiny_encoder, adapters, tmp_path):
    """An adapter saved by peft and loaded into a fresh encoder gives the same vectors."""
    enc1 = DualEncoder(local(tiny_encoder))
    enc1.add_adapter("a", str(adapters["rand2"]), "a")
    enc2 = DualEncoder(local(tiny_encoder))
    enc2.add_adapter("b", str(adapters["rand2"]), "b")
    assert np.array_equal(enc1.embed(TEXTS, adapter="a"), enc2.embed(TEXTS, adapter="b"))


def test_several_adapters_replace_and_remove(tiny_encoder, adapters):
    enc = DualEncoder(local(tiny_encoder))
    base0 = enc.embed(TEXTS)
    enc.add_adapter("x", str(adapters["rand"]), "one")
    enc.add_adapter("y", str(adapters["rand2"]), "two")
    x, y = enc.embed(TEXTS, adapter="x"), enc.embed(TEXTS, adapter="y")
    assert not np.allclose(x, y)
    enc.add_adapter("x", str(adapters["zero"]), "replaced")
    assert enc.adapters["x"].label == "replaced"
    assert np.array_equal(enc.embed(TEXTS, adapter="x"), base0)
    assert np.array_equal(enc.embed(TEXTS, adapter="y"), y)
    enc.remove_adapter("x")
    enc.remove_adapter("y")
    assert enc.adapters == {}
    assert np.array_equal(enc.embed(TEXTS), base0)
    with pytest.raises(AdapterError, match="no adapter named"):
        enc.embed(TEXTS, adapter="y")
    with pytest.raises(AdapterError):
        enc.remove_adapter("y")


def test_failed_replacement_keeps_old_adapter(tiny_encoder, adapters, tmp_path):
    enc = DualEncoder(local(tiny_encoder))
    enc.add_adapter("x", str(adapters["rand"]), "good")
    before = enc.embed(TEXTS, adapter="x")
    with pytest.raises(AdapterError):
        enc.add_adapter("x", str(tmp_path), "bad")  # empty folder
    assert enc.adapters["x"].label == "good"
    assert np.array_equal(enc.embed(TEXTS, adapter="x"), before)


def test_threads_share_one_encoder(tiny_encoder, adapters):
    """Concurrent callers asking for different adapters each get their own adapter's vectors."""
    enc = DualEncoder(local(tiny_encoder))
    enc.add_adapter("x", str(adapters["rand"]), "x")
    enc.add_adapter("y", str(adapters["rand2"]), "y")
    want = {a: enc.embed(TEXTS, adapter=a) for a in (None, "x", "y")}
    errors: list[str] = []

    def work(a: str | None) -> None:
        for _ in range(5):
            if not np.array_equal(enc.embed(TEXTS, adapter=a), want[a]):
                errors.append(str(a))

    threads = [threading.Thread(target=work, args=(a,)) for a in (None, "x", "y") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_text_cleaning_and_empty_text(tiny_encoder):
    assert clean_text("a\tb\n\x00c\x07  d ") == "a b c d"
    enc = DualEncoder(local(tiny_encoder))
    vecs = enc.embed(["", "смартфон\x00"], prefix="")
    assert vecs.shape == (2, 32) and np.isfinite(vecs).all()
    np.testing.assert_allclose(enc.embed(["смартфон"], prefix="")[0], vecs[1], atol=1e-6)
    assert enc.embed([]).shape == (0, 32)


def test_batches_match_single_calls(tiny_encoder, monkeypatch):
    import comparison.embeddings as emb

    """Length-sorted batching must hand rows back in the caller's order."""
    enc = DualEncoder(local(tiny_encoder))
    texts = ["a much longer product title for the sort", "ab", "кофемашина nespresso", "x"]
    one_by_one = np.stack([enc.embed([t])[0] for t in texts])
    np.testing.assert_allclose(enc.embed(texts), one_by_one, atol=1e-6)
    monkeypatch.setattr(emb, "BATCH_SIZE", 3)
    np.testing.assert_allclose(enc.embed(texts), one_by_one, atol=1e-6)
