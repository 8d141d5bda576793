"""Matmul precision of a training run (`TrainConfig.precision`) and the length-sorted embed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from comparison import basics
from tuning.config import TrainConfig
from tuning.model import BF16_OFF_LABEL, PLAIN_OFF_LABEL, embed, load_for_training, wants_bf16
from tuning.train import train

TEXTS = ["смартфон apple iphone 15 pro max черный 256 гб", "чайник", "наушники xiaomi белый",
         "умные часы samsung galaxy watch 6 44 мм серебристый", "пылесос", "куртка черный max"]


def _cfg(**kw: object) -> TrainConfig:
    return TrainConfig(**{"r": 4, "batch_size": 4, "max_length": 24, "epochs": 1, "seed": 0, **kw})


def test_precision_resolves_per_machine_and_never_for_4bit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wants_bf16(_cfg(precision="bf16"), quantized=False)
    assert not wants_bf16(_cfg(precision="fp32"), quantized=False)
    assert not wants_bf16(_cfg(precision="bf16"), quantized=True)
    for native in (True, False):
        monkeypatch.setattr(basics, "native_bf16", lambda native=native: native)
        assert wants_bf16(_cfg(), quantized=False) is native
    with pytest.raises(ValueError):
        _cfg(precision="fp16")


@pytest.mark.parametrize("precision,label", [("bf16", BF16_OFF_LABEL), ("fp32", PLAIN_OFF_LABEL)])
def test_both_precisions_train_and_say_which_ran(tiny_encoder: Path, tmp_path: Path,
                                                 precision: str, label: str) -> None:
    res = train(_cfg(precision=precision, max_steps=2), TEXTS, str(tiny_encoder), tmp_path / "a")
    assert res.adapter_saved and res.mode_label == label
    assert all(np.isfinite(res.losses))
    # LoRA weights and the optimiser stay fp32 whatever the matmuls ran in.
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "a" / "adapter_model.safetensors"))
    assert {w.dtype for w in weights.values()} == {torch.float32}


def test_length_sorted_embed_keeps_the_input_order(tiny_encoder: Path) -> None:
    loaded = load_for_training(tiny_encoder, _cfg(precision="fp32"))
    together = embed(loaded.model, loaded.tokenizer, TEXTS, batch_size=2)
    alone = np.concatenate([embed(loaded.model, loaded.tokenizer, [t]) for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
