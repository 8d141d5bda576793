"""Forward passes that also capture attention, base or LoRA, through removable hooks.

Why hooks and not `output_attentions=True`: transformers then keeps every layer's full
heads × T × T map alive until the end of the pass — for a 3B VLM with ~1000 image
tokens that is gigabytes. A hook on each decoder `self_attn` sees the weights as the
layer produces them (eager attention returns them) and keeps only the query rows the
views need. The hooks live in a context manager that always removes them, even when
the forward raises (TransformerLens' `hooks()` pattern), so a failed request never
leaves a model that silently copies tensors on every later call.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from comparison.explorer.adapter_io import adapter_mode
from comparison.explorer.fast_decode import packed_head

_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.self_attn$")


def attention_modules(model: Any) -> list[tuple[int, torch.nn.Module]]:
    """(layer index, module) of the language model's self-attention blocks, in order.

    Vision-tower blocks (`visual.blocks.N.attn`) are deliberately not matched.
    """
    found = []
    for name, module in model.named_modules():
        match = _LAYER_RE.search(name)
        if match and "visual" not in name:
            found.append((int(match.group(1)), module))
    if not found:
        raise ValueError("model: no decoder self-attention layers found to capture")
    return sorted(found, key=lambda pair: pair[0])


@contextmanager
def hooks(pairs: Sequence[tuple[torch.nn.Module, Any]]) -> Iterator[None]:
    """Register forward hooks for the block and remove them whatever happens."""
    handles = [module.register_forward_hook(fn) for module, fn in pairs]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@dataclass
class PassResult:
    """One forward pass: next-token log-probs at the kept positions and captured attention."""

    logprobs: torch.Tensor  # [kept positions, vocab], float32 on CPU
    attention: np.ndarray | None  # [layers, heads, queries, keys] float32
    queries: list[int]
    positions: list[int] | None = None  # absolute position of each logprobs row; None = every position
    length: int = 0  # input positions of the pass (to read negative positions when only some were kept)

    def __post_init__(self) -> None:
        if self.logprobs.ndim != 2:
            raise ValueError("logprobs: must be [positions, vocab]")
        if self.positions is not None and len(self.positions) != self.logprobs.shape[0]:
            raise ValueError("positions: one per logprobs row")

    def at(self, position: int) -> torch.Tensor:
        """Log-probs of the next token after absolute `position` (negative: from the end of all)."""
        if self.positions is None:
            return self.logprobs[position]
        return self.logprobs[self.positions.index(position % self.length if self.length else position)]

    def span(self, start: int, stop: int) -> torch.Tensor:
        """Rows for positions start … stop − 1 (all of them must have been kept)."""
        if self.positions is None:
            return self.logprobs[start:stop]
        first = self.positions.index(start)
        if self.positions[first:first + stop - start] == list(range(start, stop)):
            return self.logprobs[first:first + stop - start]  # a view: no copy of [n, vocab]
        return self.logprobs[[self.positions.index(p) for p in range(start, stop)]]


def kept_positions(length: int, wanted: Sequence[int] | None) -> list[int] | None:
    """Sorted distinct absolute positions (negative ones count from the end); None = all.

    Why: the output layer over a 262k vocabulary is most of a forward's cost, and a view
    needs the distribution at a few positions only (e.g. the prompt end).
    """
    if wanted is None:
        return None
    if not wanted or any(not -length <= int(p) < length for p in wanted):
        raise ValueError(f"positions: must be within the {length} input positions")
    return sorted({int(p) % length for p in wanted})


@torch.no_grad()
def run_batch(model: Any, inputs: dict[str, torch.Tensor], adapter_names: Sequence[str] | None = None,
              lora: bool = True, scale: float = 1.0, queries: Sequence[int] | None = None,
              capture: bool = False, positions: Sequence[int] | None = None) -> list[PassResult]:
    """One forward over every row of `inputs`; one PassResult per row.

    `adapter_names` (one per row, "__base__" for the base) runs base and adapters in one
    peft mixed-adapter batch; without it every row runs as base or LoRA (`lora`).
    `queries=None` keeps every position. Attention rows are probability distributions
    over the keys (causal: zeros after the query). `positions`: where log-probs are
    needed (None = everywhere); the others never reach the output layer.
    """
    length = int(inputs["input_ids"].shape[1])
    kept = kept_positions(length, positions)
    rows = list(range(length)) if queries is None else [int(q) for q in queries]
    store: dict[int, np.ndarray] = {}

    def make_hook(index: int) -> Any:
        def hook(_module: Any, _args: Any, output: Any) -> None:
            weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            if weights is None:
                raise RuntimeError("attention weights not returned: load the model with "
                                   "attn_implementation='eager'")
            store[index] = weights[:, :, rows, :].float().cpu().numpy()
        return hook

    pairs = [(m, make_hook(i)) for i, m in attention_modules(model)] if capture else []
    extra: dict[str, Any] = {"adapter_names": list(adapter_names)} if adapter_names is not None else {}
    if kept is not None:
        extra["logits_to_keep"] = torch.tensor(kept, device=inputs["input_ids"].device)
    with adapter_mode(model, lora=lora or adapter_names is not None, scale=scale), hooks(pairs), \
            packed_head(model):
        out = model(**inputs, use_cache=False, **extra)
    logprobs = torch.log_softmax(out.logits.float(), dim=-1).cpu()
    stacked = np.stack([store[i] for i in sorted(store)], axis=1) if capture else None  # [B, L, H, Q, K]
    return [PassResult(logprobs=logprobs[b], attention=None if stacked is None else stacked[b], queries=rows,
                       positions=kept, length=length) for b in range(logprobs.shape[0])]


def run_pass(model: Any, inputs: dict[str, torch.Tensor], lora: bool, scale: float = 1.0,
             queries: Sequence[int] | None = None, capture: bool = False,
             positions: Sequence[int] | None = None) -> PassResult:
    """Forward one input once as base or LoRA; optionally keep attention rows for `queries`
    and log-probs only at `positions`."""
    return run_batch(model, inputs, None, lora=lora, scale=scale, queries=queries, capture=capture,
                     positions=positions)[0]
