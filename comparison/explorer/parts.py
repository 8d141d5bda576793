"""Parts of a LoRA adapter: which module kinds and layers stay on, the rest switched off.

Why through the scaling and not through copies: a LoRA layer adds `scaling · B·A·x` to the
frozen output (peft `LoraLayer.forward`), so setting one adapter's `scaling` to 0 on the
layers that should be off removes exactly their update — `y + 0·(BAx) == y` bit for bit —
while the weights stay where they are (no second model, no merged copy). The change is
visible to every caller of the shared model, so `only_parts` must run with the explorer's
lock held, and it always restores the original scalings on exit, even when the pass
raises (the pattern of peft's own `rescale_adapter_scale`, which it replaces here: the
strength dial is folded into the scalings of the parts that stay on).

Module kinds: q, k, v, o (the attention projections `q_proj` … `o_proj`) and mlp (every
LoRA layer inside an MLP block: `gate_proj`, `up_proj`, `down_proj`, `fc1`, `fc2`, …); a
LoRA layer of no known kind (say, on the output layer) stays on only when everything is on.
Layers are the language model's decoder layers (`layers.N.`); a vision tower's LoRA
layers (rare: seed 001 froze it) follow their kind and stay on only for "all" layers.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from comparison.explorer.adapter_io import check_scale

KINDS = ("q", "k", "v", "o", "mlp")
_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.")
_ATTENTION = {"q_proj": "q", "k_proj": "k", "v_proj": "v", "o_proj": "o", "out_proj": "o"}
_MLP_WORDS = ("mlp", "gate_proj", "up_proj", "down_proj", "fc1", "fc2", "feed_forward", "ffn")


def module_kind(name: str) -> str | None:
    """q / k / v / o / mlp for a LoRA layer's module path; None for anything else."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf in _ATTENTION:
        return _ATTENTION[leaf]
    return "mlp" if any(w in name.split(".") for w in _MLP_WORDS) else None


def module_layer(name: str) -> int | None:
    """Decoder layer index of a module path (None: not inside a numbered layer, or vision)."""
    if "visual" in name:
        return None
    match = _LAYER_RE.search(name)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Parts:
    """Which parts of the adapter stay on: module kinds and an inclusive layer range.

    `layers` None = every layer (and the vision tower's LoRA layers of the chosen kinds).
    """

    kinds: frozenset[str] = frozenset(KINDS)
    layers: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"modules: unknown module kind(s) {sorted(unknown)}; use {', '.join(KINDS)}")
        if self.layers is not None and not 0 <= self.layers[0] <= self.layers[1]:
            raise ValueError(f"layers: a range a-b with 0 ≤ a ≤ b, got {self.layers}")

    def keeps(self, name: str) -> bool:
        """Does the LoRA layer at module path `name` stay on? (A layer of no known kind, e.g.
        a LoRA on the output layer, stays on only when every kind and every layer is on.)"""
        kind = module_kind(name)
        if kind is None:
            return self.kinds == frozenset(KINDS) and self.layers is None
        if kind not in self.kinds:
            return False
        if self.layers is None:
            return True
        layer = module_layer(name)
        return layer is not None and self.layers[0] <= layer <= self.layers[1]

    def label(self) -> str:
        """Short name for tables and charts: "o_proj · layers 12–17", "mlp", "all"."""
        kinds = "all" if self.kinds == frozenset(KINDS) else "none" if not self.kinds else \
            "+".join(k if k == "mlp" else f"{k}_proj" for k in KINDS if k in self.kinds)
        if self.layers is None:
            return kinds
        span = f"layers {self.layers[0]}–{self.layers[1]}" if self.layers[0] != self.layers[1] \
            else f"layer {self.layers[0]}"
        return span if kinds == "all" else f"{kinds} · {span}"


def parse_parts(modules: str, layers: str, n_layers: int) -> Parts:
    """Parts from the API's strings: modules "q,v,mlp" / "all" / "none"; layers "a-b" / "a" / "all".

    ValueError naming the field (and the model's layer range) for anything else.
    """
    text = (modules or "").strip().lower()
    if text in ("all", "*"):
        kinds: frozenset[str] = frozenset(KINDS)
    elif text in ("none", ""):
        kinds = frozenset()
    else:
        words = [w.strip().removesuffix("_proj") for w in text.split(",") if w.strip()]
        kinds = frozenset(words)
        if not kinds <= set(KINDS):
            raise ValueError(f"modules: a comma list of {', '.join(KINDS)}, or all / none; got {modules!r}")
    span = (layers or "all").strip().lower().replace("–", "-").replace(" ", "")
    if span in ("all", "*"):
        return Parts(kinds, None)
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", span)
    if not match:
        raise ValueError(f"layers: a range like 0-{n_layers - 1}, one layer, or all; got {layers!r}")
    lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))
    if not 0 <= lo <= hi < n_layers:
        raise ValueError(f"layers: this model has {n_layers} layers, choose within 0-{n_layers - 1}; got {layers!r}")
    return Parts(kinds, (lo, hi))


def lora_layers(model: Any, adapter: str) -> list[tuple[str, Any]]:
    """(module path, peft LoraLayer) of every layer that carries `adapter`."""
    from peft.tuners.lora import LoraLayer

    return [(n, m) for n, m in model.named_modules() if isinstance(m, LoraLayer) and adapter in m.lora_A]


def kinds_present(model: Any, adapter: str) -> list[str]:
    """The module kinds this adapter writes to, in KINDS order."""
    found = {module_kind(n) for n, _ in lora_layers(model, adapter)}
    return [k for k in KINDS if k in found]


@contextmanager
def only_parts(model: Any, adapter: str, parts: Parts, scale: float = 1.0) -> Iterator[int]:
    """Within the block, only `parts` of `adapter` act (at strength `scale`); yields how many
    LoRA layers stay on. Hold the model's lock: the change is seen by every caller.
    """
    scale = check_scale(scale)
    layers = lora_layers(model, adapter)
    if not layers:
        raise ValueError(f"adapter: no LoRA layers carry the adapter {adapter!r}")
    saved = [(m, m.scaling[adapter]) for _, m in layers]
    kept = 0
    try:
        for name, module in layers:
            on = parts.keeps(name)
            kept += on
            module.scaling[adapter] = module.scaling[adapter] * scale if on else 0.0
        yield kept
    finally:
        for module, value in saved:
            module.scaling[adapter] = value
