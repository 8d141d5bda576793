"""Tiny LoRA adapters built with peft on the tiny encoder, for the comparison tests."""
from __future__ import annotations

from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModel


def make_adapter(
    base_dir: Path, out: Path, r: int = 4, zero_b: bool = False, seed: int = 1,
    targets: tuple[str, ...] = ("query", "value"),
) -> Path:
    """Save a LoRA adapter for `base_dir` to `out`: B = 0 (identity) or random non-zero B."""
    torch.manual_seed(seed)
    model = AutoModel.from_pretrained(base_dir, add_pooling_layer=False)
    config = LoraConfig(r=r, lora_alpha=2 * r, target_modules=list(targets), init_lora_weights=True)
    return save_lora(model, config, out, zero_b=zero_b, std=0.5)


def save_lora(model: torch.nn.Module, config: LoraConfig, out: Path, zero_b: bool = False,
              std: float = 0.3) -> Path:
    """Wrap `model` with `config`, give B random values (unless zero_b: a no-op adapter), save."""
    peft_model = get_peft_model(model, config)
    if not zero_b:
        with torch.no_grad():
            for name, param in peft_model.named_parameters():
                if "lora_B" in name:
                    param.normal_(0.0, std)
    peft_model.save_pretrained(out)
    return out
