"""Training on the tiny encoder: what trains, what stays frozen, cancel, budget, saving, loading."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from peft import PeftModel
from safetensors import safe_open

from tuning import model as model_mod
from tuning.config import TrainConfig
from tuning.model import QLORA_LABEL, base_model_id, embed, load_encoder, load_for_training, probe_4bit
from tuning.noise import noisy_batch
from tuning.train import TrainProgress, train
from tuning.tsdae import TSDAELoss, corpus_vocab

TEXTS = ["смартфон apple iphone 15 pro max черный", "кофемашина nespresso для дома",
         "наушники xiaomi белый", "умные часы samsung 128 гб", "ноутбук для детей черный",
         "чайник белый для дома", "пылесос samsung черный", "кроссовки для детей белый",
         "куртка черный max", "шампунь крем для дома", "сумка книга игрушка", "телефон samsung pro"]
PROBE = ["смартфон apple iphone", "чайник белый для дома"]


def _cfg(**kw: object) -> TrainConfig:
    base = {"r": 4, "lora_alpha": 8.0, "batch_size": 4, "max_length": 24, "learning_rate": 1e-2, "epochs": 1,
            "use_4bit": False, "seed": 0}
    return TrainConfig(**{**base, **kw})


def _steps(loss_fn: TSDAELoss, tok, n: int) -> None:
    import random

    opt = torch.optim.AdamW([p for p in loss_fn.parameters() if p.requires_grad], lr=1e-2)
    rng = random.Random(0)
    loss_fn.train()
    for i in range(n):
        clean = TEXTS[(4 * i) % 12:(4 * i) % 12 + 4]
        noisy = tok(["query: " + t for t in noisy_batch(clean, 0.6, rng)], padding=True, return_tensors="pt")
        loss = loss_fn(dict(noisy), dict(tok(clean, padding=True, return_tensors="pt")))
        loss.backward()
        opt.step()
        opt.zero_grad()


def test_only_lora_and_cross_attention_train_and_base_is_frozen(tiny_encoder: Path) -> None:
    loaded = load_for_training(tiny_encoder, _cfg())
    loss_fn = TSDAELoss(loaded.model, corpus_vocab(loaded.tokenizer, TEXTS, 24))
    before = {k: v.detach().clone() for k, v in loss_fn.state_dict().items()}
    trainable = {n for n, p in loss_fn.named_parameters() if p.requires_grad}
    decoder_only = {n for n, p in loss_fn.named_parameters() if any(p is q for q in loss_fn.decoder_parameters())}
    lora = {n for n in trainable if ".lora_" in n}
    assert trainable == lora | decoder_only
    assert decoder_only and all(n.startswith(("cross.", "bias", "log_scale")) for n in decoder_only)
    _steps(loss_fn, loaded.tokenizer, 4)
    after = loss_fn.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert lora <= changed, f"LoRA params that did not change: {sorted(lora - changed)}"
    assert changed <= trainable, f"frozen params changed: {sorted(changed - trainable)}"
    assert {n for n in decoder_only if n.startswith("cross.")} <= changed
    # The decoder reuses the encoder's modules: nothing of the base is duplicated in the loss.
    assert not any(k.startswith("_base") for k in after)


def test_untrained_lora_equals_base_exactly(tiny_encoder: Path) -> None:
    loaded = load_for_training(tiny_encoder, _cfg())
    tuned = embed(loaded.model, loaded.tokenizer, PROBE)
    with loaded.model.disable_adapter():
        base = embed(loaded.model, loaded.tokenizer, PROBE)
    assert np.array_equal(tuned, base)


def test_train_writes_a_peft_adapter_that_loads_everywhere(tiny_encoder: Path, tmp_path: Path) -> None:
    seen: list[TrainProgress] = []
    out = tmp_path / "adapter"
    res = train(_cfg(epochs=2, checkpoint_every=2), TEXTS, str(tiny_encoder), out, seen.append)
    assert (res.status, res.adapter_saved, res.steps, res.total_steps) == ("completed", True, 6, 6)
    assert res.mode_label.startswith("plain LoRA") and not res.quantized
    assert [p.step for p in seen if p.loss is not None][:6] == [1, 2, 3, 4, 5, 6]
    assert seen[-1].eta_s == 0 and all(np.isfinite(res.losses))
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "adapter_config.json", "adapter_model.safetensors", "training_log.json"]
    assert not list(tmp_path.glob(".adapter.partial-*"))
    cfg = json.loads((out / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(tiny_encoder) and cfg["r"] == 4
    with safe_open(str(out / "adapter_model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and all(".lora_A." in k or ".lora_B." in k for k in keys)
    assert len(keys) == 2 * 6 * 2  # 6 target Linear per layer x 2 layers x (A, B)
    card = (out / "README.md").read_text()
    assert res.mode_label in card and "| step | loss" in card and "base_model:" in card
    log = json.loads((out / "training_log.json").read_text())
    assert log["status"] == "completed" and len(log["losses"]) == 6

    base, tok = load_encoder(tiny_encoder)
    base_emb = embed(base, tok, PROBE)
    peft = PeftModel.from_pretrained(base, str(out))
    tuned = embed(peft, tok, PROBE)
    assert not np.allclose(tuned, base_emb, atol=1e-4)

    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(tiny_encoder), device="cpu")
    st.load_adapter(str(out))
    st_emb = st.encode(["query: " + t for t in PROBE], normalize_embeddings=True)
    assert np.allclose(st_emb, tuned, atol=1e-5)


def test_save_load_round_trip_gives_identical_embeddings(tiny_encoder: Path, tmp_path: Path) -> None:
    loaded = load_for_training(tiny_encoder, _cfg())
    _steps(TSDAELoss(loaded.model, None), loaded.tokenizer, 3)
    trained = embed(loaded.model, loaded.tokenizer, PROBE)
    loaded.model.save_pretrained(str(tmp_path / "a"))
    base, tok = load_encoder(tiny_encoder)
    reloaded = embed(PeftModel.from_pretrained(base, str(tmp_path / "a")), tok, PROBE)
    assert np.allclose(trained, reloaded, atol=1e-6)


def test_cancel_stops_within_one_step(tiny_encoder: Path, tmp_path: Path) -> None:
    stop = threading.Event()

    def on_progress(p: TrainProgress) -> None:
        if p.step == 2:
            stop.set()

    res = train(_cfg(epochs=5), TEXTS, str(tiny_encoder), tmp_path / "a", on_progress, stop)
    assert (res.status, res.steps, res.adapter_saved) == ("cancelled", 2, True)
    assert json.loads((tmp_path / "a" / "training_log.json").read_text())["status"] == "cancelled"
    stop.set()
    res = train(_cfg(), TEXTS, str(tiny_encoder), tmp_path / "b", None, stop)
    assert (res.status, res.steps, res.adapter_saved, res.adapter_dir) == ("cancelled", 0, False, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # nothing half-written


def test_time_budget_and_max_steps(tiny_encoder: Path, tmp_path: Path) -> None:
    res = train(_cfg(epochs=50, time_budget_s=1e-6), TEXTS, str(tiny_encoder), tmp_path / "a")
    assert (res.status, res.steps, res.adapter_saved) == ("time_budget", 1, True)
    res = train(_cfg(epochs=50, max_steps=3), TEXTS, str(tiny_encoder), tmp_path / "b")
    assert (res.status, res.steps, res.total_steps) == ("completed", 3, 3)


def test_out_dir_that_is_not_an_adapter_is_never_replaced(tiny_encoder: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="out_dir"):
        train(_cfg(), TEXTS, str(tiny_encoder), tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_four_bit_path_trains_when_the_backend_works(tiny_encoder: Path, tmp_path: Path) -> None:
    import bitsandbytes as bnb

    reason = probe_4bit()
    if reason is not None:
        pytest.skip(f"no bitsandbytes CPU 4-bit backend here: {reason}")
    loaded = load_for_training(tiny_encoder, _cfg(use_4bit=True))
    four_bit = [m for m in loaded.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert loaded.quantized and loaded.mode_label == QLORA_LABEL and len(four_bit) == 12
    assert all(m.support_avx512bf16_for_cpu is False for m in four_bit)
    embed(loaded.model, loaded.tokenizer, PROBE)  # an eval forward first: the GUIDE trap
    loss_fn = TSDAELoss(loaded.model, None)
    lora_before = {n: p.detach().clone() for n, p in loss_fn.named_parameters() if ".lora_" in n}
    _steps(loss_fn, loaded.tokenizer, 3)
    assert all(not torch.equal(p, dict(loss_fn.named_parameters())[n]) for n, p in lora_before.items())
    res = train(_cfg(use_4bit=True), TEXTS, str(tiny_encoder), tmp_path / "q")
    assert res.quantized and res.adapter_saved and res.mode_label == QLORA_LABEL
    base, tok = load_encoder(tiny_encoder)
    PeftModel.from_pretrained(base, str(tmp_path / "q"))  # a QLoRA adapter loads on the fp32 base


def test_fallback_to_plain_lora_is_labelled(tiny_encoder: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORA_LENS_NO_4BIT", "1")
    model_mod.probe_4bit.cache_clear()
    try:
        res = train(_cfg(use_4bit=True), TEXTS, str(tiny_encoder), tmp_path / "a")
    finally:
        model_mod.probe_4bit.cache_clear()
    assert not res.quantized and res.adapter_saved
    assert res.mode_label == "plain LoRA (no 4-bit backend: disabled by LORA_LENS_NO_4BIT=1)"
    assert res.mode_label in (tmp_path / "a" / "README.md").read_text()


def test_base_model_id_names_the_e5_conversion(tmp_path: Path) -> None:
    d = tmp_path / "converted"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"hidden_size": 384, "num_hidden_layers": 12,
                                               "vocab_size": 250037}))
    assert base_model_id(d) == "intfloat/multilingual-e5-small"
    assert base_model_id("someone/model") == "someone/model"
