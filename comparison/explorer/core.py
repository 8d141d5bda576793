"""The explorer: one loaded model, its LoRA switched on and off, every view's data.

Base and LoRA outputs always come from the same weights in memory (the LoRA pass is
the base pass plus the adapter's update), so any difference shown is the adapter's
doing and never a second copy loaded differently. All methods return data; charts are
drawn by `comparison.charts.explorer`.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from comparison.explorer.adapter_io import (ADAPTER_NAME, adapter_mode, attach_adapter,
                                            check_scale, has_lora)
from comparison.explorer.anatomy import adapter_anatomy
from comparison.explorer.capture import PassResult, run_pass
from comparison.explorer.inputs import Encoded, PromptFormat, encode_text, encode_vlm
from comparison.explorer.loading import LoadedModel
from comparison.explorer.metrics import js_divergence, kl_divergence, layer_shift, top_k_pairs, top_k_union

MAX_NEW_TOKENS = 256


@dataclass
class ExploreResult:
    """Everything the explorer tab shows for one input, base vs LoRA."""

    model: str
    adapter: str
    scale: float
    tokens: list[str]
    image_positions: list[int]
    image_grid: tuple[int, int] | None
    position: int
    top_k: pd.DataFrame
    kl: float
    js: float
    queries: list[int]
    attention_base: np.ndarray
    attention_lora: np.ndarray
    layer_shift: np.ndarray
    answers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.attention_base.shape != self.attention_lora.shape:
            raise ValueError("attention_lora: must have the shape of attention_base")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (no attention tensors) for an API response."""
        return {
            "model": self.model, "adapter": self.adapter, "scale": self.scale,
            "tokens": self.tokens, "position": self.position,
            "top_k": self.top_k.drop(columns="token_id").round(6).values.tolist(),
            "kl": self.kl, "js": self.js, "layer_shift": [float(x) for x in self.layer_shift],
            "answers": self.answers,
        }


class Explorer:
    """A model (VLM or text LM) with at most one LoRA adapter, ready to compare."""

    def __init__(self, loaded: LoadedModel, adapter_label: str = "none") -> None:
        self.loaded = loaded  # shared by every view: adding an adapter is seen by all
        self.tokenizer = loaded.tokenizer
        self._labels: dict[str, str] = {ADAPTER_NAME: adapter_label} if has_lora(loaded.model) else {}
        self._active: str | None = ADAPTER_NAME if self._labels else None
        self._lock = threading.Lock()  # one model, shared by all users: one pass at a time

    @property
    def model(self) -> Any:
        return self.loaded.model

    @property
    def adapter_label(self) -> str:
        return self._labels.get(self._active or "", "none")

    def view(self, adapter: str | None) -> "Explorer":
        """The same model (and lock) seen with another loaded adapter as 'LoRA'.

        Why views: every user of a Space shares one model in memory; a user's own adapter
        is one more named adapter on it, selected under the lock for each pass.
        """
        if adapter is not None and adapter not in self._labels:
            raise ValueError(f"adapter: {adapter!r} is not loaded")
        other = copy.copy(self)
        other._active = adapter
        return other

    def add_adapter(self, name: str, folder: Path, label: str) -> "Explorer":
        """Load one more adapter (strictly checked) and return a view that uses it."""
        with self._lock:
            self.loaded.model = attach_adapter(self.model, folder, name)
            self._labels[name] = label
        return self.view(name)

    def adapters(self) -> dict[str, str]:
        """Loaded adapters: internal name → label."""
        return dict(self._labels)

    def remove_adapter(self, name: str) -> None:
        """Unload an adapter added with :meth:`add_adapter` (the default one stays)."""
        with self._lock:
            if name in self._labels and name != ADAPTER_NAME and has_lora(self.model):
                self.model.delete_adapter(name)
                self._labels.pop(name)
                if ADAPTER_NAME in self._labels:
                    self.model.set_adapter(ADAPTER_NAME)

    def _select(self) -> None:
        """Make this view's adapter the active one (call with the lock held)."""
        if self._active is not None and has_lora(self.model):
            self.model.set_adapter(self._active)

    @property
    def model_label(self) -> str:
        return self.loaded.source.label

    def encode(self, prompt: str, image: Any | None = None, fmt: PromptFormat = "qa") -> Encoded:
        """Inputs for this model; an image needs a vision-language model."""
        device = self.model.device
        if self.loaded.is_vlm:
            return encode_vlm(self.loaded.processor, self.model.config, prompt, image, device)
        if image is not None:
            raise ValueError("image: this is a text-only model; load a vision-language model for images")
        return encode_text(self.tokenizer, prompt, fmt, device)

    def _pass(self, enc: Encoded, lora: bool, scale: float, capture: bool = False,
              queries: list[int] | None = None) -> PassResult:
        with self._lock:
            self._select()
            return run_pass(self.model, enc.inputs, lora=lora, scale=scale, queries=queries,
                            capture=capture)

    def next_token(self, prompt: str, top_k: int = 10, scale: float = 1.0,
                   fmt: PromptFormat = "qa") -> dict[str, Any]:
        """The /next_token API: top-k after the prompt, base vs LoRA, and KL(LoRA ‖ base)."""
        scale = check_scale(scale)
        if not 1 <= int(top_k) <= 100:
            raise ValueError(f"top_k: must be 1 … 100, got {top_k}")
        enc = self.encode(prompt, fmt=fmt)
        base = self._pass(enc, lora=False, scale=scale).logprobs[-1]
        lora = self._pass(enc, lora=True, scale=scale).logprobs[-1]
        return {
            "base": top_k_pairs(base, self.tokenizer, int(top_k)),
            "lora": top_k_pairs(lora, self.tokenizer, int(top_k)),
            "kl": kl_divergence(lora, base),
            "model": self.model_label,
            "adapter": self.adapter_label,
        }

    @torch.no_grad()
    def generate_ids(self, enc: Encoded, lora: bool, scale: float = 1.0,
                     max_new_tokens: int = 64) -> list[int]:
        """Greedy continuation ids (deterministic, so base and LoRA differ only by the adapter)."""
        if not 1 <= int(max_new_tokens) <= MAX_NEW_TOKENS:
            raise ValueError(f"max_new_tokens: must be 1 … {MAX_NEW_TOKENS}, got {max_new_tokens}")
        start = int(enc.inputs["input_ids"].shape[1])
        with self._lock:
            self._select()
            with adapter_mode(self.model, lora=lora, scale=scale):
                out = self.model.generate(**enc.inputs, max_new_tokens=int(max_new_tokens),
                                          do_sample=False,
                                          pad_token_id=self.tokenizer.pad_token_id)
        return out[0, start:].tolist()

    def answer(self, enc: Encoded, lora: bool, scale: float = 1.0, max_new_tokens: int = 64) -> str:
        """Greedy answer text, special tokens removed."""
        ids = self.generate_ids(enc, lora, scale, max_new_tokens)
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def pass_on(self, enc: Encoded, lora: bool, scale: float = 1.0) -> PassResult:
        """One plain forward (no attention capture) on already encoded inputs."""
        return self._pass(enc, lora=lora, scale=check_scale(scale))

    def answers(self, prompt: str, image: Any | None = None, scale: float = 1.0,
                max_new_tokens: int = 64, fmt: PromptFormat = "qa") -> dict[str, str]:
        """Base and LoRA answers side by side."""
        enc = self.encode(prompt, image, fmt)
        return {"base": self.answer(enc, False, scale, max_new_tokens),
                "lora": self.answer(enc, True, scale, max_new_tokens)}

    def anatomy(self, scale: float = 1.0) -> pd.DataFrame:
        """ΔW norm and singular values per LoRA module (empty adapter → ValueError)."""
        if not has_lora(self.model):
            raise ValueError("adapter: no LoRA adapter is loaded")
        with self._lock:
            return adapter_anatomy(self.model, self._active or ADAPTER_NAME, check_scale(scale))

    def explore(self, prompt: str, image: Any | None = None, top_k: int = 10, scale: float = 1.0,
                position: int = -1, max_new_tokens: int = 0,
                fmt: PromptFormat = "qa") -> ExploreResult:
        """Two passes (base, LoRA) with attention: next-token table, maps, layer shift.

        `position` picks where the next-token distribution is read (-1 = after the
        prompt). Attention rows are kept for text positions only (image patches attend
        to each other too, but nobody reads a 1000 × 1000 map). `max_new_tokens` > 0
        also generates both answers.
        """
        scale = check_scale(scale)
        enc = self.encode(prompt, image, fmt)
        if not -enc.length <= position < enc.length:
            raise ValueError(f"position: must be within the {enc.length} prompt tokens")
        queries = enc.text_positions
        base = self._pass(enc, lora=False, scale=scale, capture=True, queries=queries)
        lora = self._pass(enc, lora=True, scale=scale, capture=True, queries=queries)
        pos = position % enc.length
        answers = {}
        if max_new_tokens:
            answers = {"base": self.answer(enc, False, scale, max_new_tokens),
                       "lora": self.answer(enc, True, scale, max_new_tokens)}
        assert base.attention is not None and lora.attention is not None
        return ExploreResult(
            model=self.model_label, adapter=self.adapter_label, scale=scale, tokens=enc.tokens,
            image_positions=enc.image_positions, image_grid=enc.image_grid, position=pos,
            top_k=top_k_union(base.logprobs[pos], lora.logprobs[pos], self.tokenizer, int(top_k)),
            kl=kl_divergence(lora.logprobs[pos], base.logprobs[pos]),
            js=js_divergence(lora.logprobs[pos], base.logprobs[pos]),
            queries=queries, attention_base=base.attention, attention_lora=lora.attention,
            layer_shift=layer_shift(base.attention, lora.attention), answers=answers,
        )
