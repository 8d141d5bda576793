"""The explorer: one loaded model, its LoRA switched on and off, every view's data.

Base and LoRA outputs always come from the same weights in memory (the LoRA pass is
the base pass plus the adapter's update), so any difference shown is the adapter's
doing and never a second copy loaded differently. All methods return data; charts are
drawn by `comparison.charts.explorer`.
"""
from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from comparison.explorer.adapter_io import (ADAPTER_NAME, adapter_mode, attach_adapter,
                                            check_scale, has_lora)
from comparison.explorer.anatomy import adapter_anatomy
from comparison.explorer.capture import PassResult, run_pass
from comparison.explorer.fast_decode import fast_greedy
from comparison.explorer.inputs import Encoded, PromptFormat, encode_text, encode_vlm, format_prompt
from comparison.explorer.limits import (BASE, MAX_NEW_TOKENS, ModelLimits,  # noqa: F401 (re-exported)
                                        limits_of, model_limits)
from comparison.explorer.loading import LoadedModel
from comparison.explorer.metrics import kl_divergence, top_k_pairs

class _FirstLineStop:
    """Stop each row once its answer has a line break after some text (per-row done flags)."""

    def __init__(self, tokenizer: Any, start: int) -> None:
        self.tokenizer, self.start = tokenizer, start

    def __call__(self, input_ids: torch.Tensor, scores: Any, **_: Any) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.start:], skip_special_tokens=True)
        return torch.tensor(["\n" in t.strip() for t in texts], dtype=torch.bool, device=input_ids.device)


def _repeat(inputs: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """The same single input k times as a batch (VLM pixels are concatenated per image)."""
    out = {}
    for key, value in inputs.items():
        out[key] = torch.cat([value] * k, dim=0) if key in ("pixel_values", "image_grid_thw") \
            else value.repeat(k, *([1] * (value.ndim - 1)))
    return out


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

    def short_names(self) -> dict[str, str]:
        """Short display names: internal adapter name → column title (the base is "base")."""
        names = {BASE: "base"}
        for name, label in self._labels.items():
            names[name] = ("lm-cartoons-demo" if "lm-cartoons-demo" in label else "LoRA") \
                if name == ADAPTER_NAME else name
        return names

    @property
    def active_adapter(self) -> str | None:
        """The internal name of the adapter this view compares with the base (None: no LoRA)."""
        return self._active if has_lora(self.model) else None

    @property
    def limits(self) -> ModelLimits:
        return model_limits(self.model.config)

    def compare(self, request: Any, lang: str = "en") -> Any:
        """One click of the explorer (CompareRequest → CompareReport; verdict and key-word
        labels in `lang`): see `comparison.explorer.compare.run_compare`."""
        from comparison.explorer.compare import run_compare

        return run_compare(self, request, lang)

    def _generate(self, inputs: dict[str, torch.Tensor], names: list[str], max_new_tokens: int,
                  scale: float, first_line: bool) -> torch.Tensor:
        """Greedy generation of a batch whose rows run as `names` (call with the lock held).

        Through `fast_greedy`: the same picks as fp32, about twice as fast on a CPU.
        """
        from transformers import StoppingCriteriaList

        extra: dict[str, Any] = {}
        if has_lora(self.model):
            extra["adapter_names"] = names
        elif any(n != BASE for n in names):
            raise ValueError("adapters: no LoRA adapter is loaded")
        if first_line:
            extra["stopping_criteria"] = StoppingCriteriaList(
                [_FirstLineStop(self.tokenizer, int(inputs["input_ids"].shape[1]))])
        with adapter_mode(self.model, lora=True, scale=scale), fast_greedy(self.model):
            return self.model.generate(**inputs, max_new_tokens=int(max_new_tokens), do_sample=False,
                                       pad_token_id=self.tokenizer.pad_token_id, **extra)

    def _decode(self, ids: list[int], first_line: bool) -> str:
        text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
        return text.split("\n", 1)[0].strip() if first_line else text

    @torch.no_grad()
    def batch_answers(self, prompts: list[str], names: list[str], images: list[Any] | None = None,
                      max_new_tokens: int = 24, first_line: bool = True, scale: float = 1.0,
                      fmt: PromptFormat = "qa") -> list[str]:
        """Greedy answers, row i = prompts[i] by model names[i] (BASE or an adapter name).

        A text LM answers all rows in one left-padded mixed-adapter batch; a VLM answers
        each distinct (prompt, image) once for all its rows (images differ in size).
        """
        from PIL import Image

        if len(names) != len(prompts) or (images is not None and len(images) != len(prompts)):
            raise ValueError("names: one model name (and image) per prompt is required")
        images = images if images is not None else [None] * len(prompts)
        scale = check_scale(scale)
        if not self.loaded.is_vlm:
            if any(im is not None for im in images):
                raise ValueError("image: this is a text-only model; load a vision-language model for images")
            tok = self.tokenizer
            side, tok.padding_side = tok.padding_side, "left"
            try:
                batch = tok([format_prompt(tok, p, fmt) for p in prompts], return_tensors="pt",
                            padding=True, add_special_tokens=fmt != "chat")
            finally:
                tok.padding_side = side
            inputs = {k: v.to(self.model.device) for k, v in batch.items()
                      if k in ("input_ids", "attention_mask")}
            with self._lock:
                out = self._generate(inputs, names, max_new_tokens, scale, first_line)
            width = inputs["input_ids"].shape[1]
            return [self._decode(row, first_line) for row in out[:, width:].tolist()]
        answers: list[str] = [""] * len(prompts)
        groups: dict[tuple[str, str], list[int]] = {}
        for i, (p, im) in enumerate(zip(prompts, images)):
            groups.setdefault((p, str(im)), []).append(i)
        for rows in groups.values():
            image = images[rows[0]]
            if image is not None and not hasattr(image, "convert"):
                image = Image.open(image)
            enc = self.encode(prompts[rows[0]], image)
            width = enc.inputs["input_ids"].shape[1]
            with self._lock:
                out = self._generate(_repeat(enc.inputs, len(rows)), [names[i] for i in rows],
                                     max_new_tokens, scale, first_line)
            for i, ids in zip(rows, out[:, width:].tolist()):
                answers[i] = self._decode(ids, first_line)
        return answers

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
              queries: list[int] | None = None, positions: list[int] | None = None) -> PassResult:
        with self._lock:
            self._select()
            return run_pass(self.model, enc.inputs, lora=lora, scale=scale, queries=queries,
                            capture=capture, positions=positions)

    def next_token(self, prompt: str, top_k: int = 10, scale: float = 1.0,
                   fmt: PromptFormat = "qa") -> dict[str, Any]:
        """The /next_token API: top-k after the prompt, base vs LoRA, and KL(LoRA ‖ base)."""
        scale = check_scale(scale)
        if not 1 <= int(top_k) <= 100:
            raise ValueError(f"top_k: must be 1 … 100, got {top_k}")
        enc = self.encode(prompt, fmt=fmt)
        base = self._pass(enc, lora=False, scale=scale, positions=[-1]).logprobs[-1]
        lora = self._pass(enc, lora=True, scale=scale, positions=[-1]).logprobs[-1]
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
            with adapter_mode(self.model, lora=lora, scale=scale), fast_greedy(self.model):
                out = self.model.generate(**enc.inputs, max_new_tokens=int(max_new_tokens),
                                          do_sample=False,
                                          pad_token_id=self.tokenizer.pad_token_id)
        return out[0, start:].tolist()

    @torch.no_grad()
    def generate_rows(self, enc: Encoded, names: list[str], scale: float = 1.0,
                      max_new_tokens: int = 64) -> list[list[int]]:
        """Greedy continuation ids of one input by several models (BASE or adapter names) in
        ONE mixed-adapter batch, each cut at its end-of-sequence token.

        Why one batch: decoding reads every weight once per step whatever the rows, so two
        rows cost ~the price of one (measured with `fast_greedy`; plain fp32 was slower).
        """
        if not 1 <= int(max_new_tokens) <= MAX_NEW_TOKENS:
            raise ValueError(f"max_new_tokens: must be 1 … {MAX_NEW_TOKENS}, got {max_new_tokens}")
        start = int(enc.inputs["input_ids"].shape[1])
        inputs = enc.inputs if len(names) == 1 else _repeat(enc.inputs, len(names))
        with self._lock:
            out = self._generate(inputs, names, int(max_new_tokens), check_scale(scale), first_line=False)
        stop = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        rows = out[:, start:].tolist()
        return [row[:next((i for i, t in enumerate(row) if t in stop), len(row))] for row in rows]

    def answer(self, enc: Encoded, lora: bool, scale: float = 1.0, max_new_tokens: int = 64) -> str:
        """Greedy answer text, special tokens removed."""
        ids = self.generate_ids(enc, lora, scale, max_new_tokens)
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def pass_on(self, enc: Encoded, lora: bool, scale: float = 1.0,
                positions: list[int] | None = None) -> PassResult:
        """One plain forward (no attention capture) on already encoded inputs; log-probs at
        `positions` only (None = every position)."""
        return self._pass(enc, lora=lora, scale=check_scale(scale), positions=positions)

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
                position: int = -1, max_new_tokens: int = 0, fmt: PromptFormat = "qa") -> Any:
        """The /explore API: a `compare` with no key words and no context prompt.

        `position` picks where the next-token distribution is read (-1 = after the
        prompt); `max_new_tokens` > 0 also generates both answers.
        """
        from comparison.explorer.compare import CompareRequest

        return self.compare(CompareRequest(prompt=prompt, image=image, top_k=top_k, scale=scale,
                                           position=position, max_new_tokens=max_new_tokens, fmt=fmt))
