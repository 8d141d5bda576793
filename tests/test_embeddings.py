"""DualEncoder: one model, base under disable_adapter, tuned per named adapter."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModel, AutoTokenizer

from comparison.adapters import AdapterError
from comparison.base_encoder import BaseSource
from comparison.basics import pool
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


def _by_hand(model, tok, texts, prefix, pooling):
    """Vectors from a model in memory, pooled and normalised without DualEncoder."""
    batch = tok([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    return torch.nn.functional.normalize(pool(states, batch["attention_mask"], pooling), dim=-1).numpy()


def test_save_load_round_trip_identical(tiny_encoder, tmp_path):
    """A LoRA in memory, saved by peft and loaded into a fresh encoder, gives the same vectors."""
    torch.manual_seed(3)
    model = AutoModel.from_pretrained(tiny_encoder, add_pooling_layer=False)
    peft_model = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["query", "key", "dense"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    peft_model.eval()
    before = _by_hand(peft_model, AutoTokenizer.from_pretrained(tiny_encoder), TEXTS, "query: ", "mean")
    peft_model.save_pretrained(tmp_path / "saved")
    enc = DualEncoder(local(tiny_encoder))
    enc.add_adapter("saved", str(tmp_path / "saved"), "saved")
    after = enc.embed(TEXTS, "query: ", "saved")
    np.testing.assert_allclose(after, before, rtol=0, atol=1e-6)
    assert np.abs(after - enc.embed(TEXTS, "query: ", None)).max() > 1e-3  # the LoRA matters


def _with_log(src: Path, dest: Path, **config) -> Path:
    shutil.copytree(src, dest)
    (dest / "training_log.json").write_text(json.dumps({"config": config}), encoding="utf-8")
    return dest


def test_adapter_settings_are_honoured(tiny_encoder, adapters, tmp_path):
    """An adapter trained with cls pooling and 'passage: ' is scored that way, not mean/query."""
    folder = _with_log(adapters["rand"], tmp_path / "cls", prefix="passage: ", pooling="cls")
    enc = DualEncoder(local(tiny_encoder))
    info = enc.add_adapter("cls", str(folder), "cls")
    assert (info.prefix, info.pooling) == ("passage: ", "cls")
    model = PeftModel.from_pretrained(AutoModel.from_pretrained(tiny_encoder, add_pooling_layer=False),
                                      str(folder)).eval()
    tok = AutoTokenizer.from_pretrained(tiny_encoder)
    expected = _by_hand(model, tok, TEXTS, "passage: ", "cls")
    base, tuned = enc.embed_both(TEXTS, "query: ", "cls")
    np.testing.assert_allclose(tuned, expected, rtol=0, atol=1e-5)
    with model.disable_adapter():
        np.testing.assert_allclose(base, _by_hand(model, tok, TEXTS, "query: ", "mean"), rtol=0, atol=1e-5)


@pytest.mark.parametrize("config, message", [
    ({"pooling": "max"}, "pooling 'max'"),
    ({"prefix": "search_query: "}, "prefix 'search_query: '"),
])
def test_adapter_with_unusable_settings_is_refused(tiny_encoder, adapters, tmp_path, config, message):
    folder = _with_log(adapters["rand"], tmp_path / "bad", **config)
    enc = DualEncoder(local(tiny_encoder))
    with pytest.raises(AdapterError, match=message):
        enc.add_adapter("bad", str(folder), "bad")
    assert enc.adapters == {}


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
    for scale in (0.0, 0.5):  # strength 0 runs no adapter pass, but a wrong name is still an error
        with pytest.raises(AdapterError, match="no adapter named"):
            enc.embed(TEXTS, adapter="y", scale=scale)
        with pytest.raises(AdapterError, match="no adapter named"):
            enc.embed_both(TEXTS, adapter="y", scale=scale)
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
