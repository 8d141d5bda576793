"""What the explorer's sliders and checks may offer for a model, and shared constants.

Kept below every other explorer module (it imports none of them), so the report builder
(`compare`) and the passes it calls (`core`, `probes`) do not import each other in a circle.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BASE", "MAX_NEW_TOKENS", "ModelLimits", "limits_of", "model_limits"]

MAX_NEW_TOKENS = 256
BASE = "__base__"  # peft's name for the base rows of a mixed-adapter batch


@dataclass(frozen=True)
class ModelLimits:
    """What the sliders may offer for this model (layers and heads of the language model)."""

    layers: int
    heads: int
    is_vlm: bool

    def __post_init__(self) -> None:
        if self.layers < 1 or self.heads < 1:
            raise ValueError("layers: a model needs at least one layer and one head")


def model_limits(config: Any) -> ModelLimits:
    """Limits from a transformers config (works before the weights are loaded)."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return ModelLimits(layers=int(text.num_hidden_layers), heads=int(text.num_attention_heads),
                       is_vlm=hasattr(config, "vision_config"))


def limits_of(path: str) -> ModelLimits:
    """Limits of a model folder or Hub id from its config.json alone (sliders before loading)."""
    from transformers import AutoConfig

    return model_limits(AutoConfig.from_pretrained(path, trust_remote_code=False))
