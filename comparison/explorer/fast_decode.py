"""Faster passes on a CPU with the numbers of fp32: greedy picks and teacher-forced logits.

Why: decoding is memory-bound on a CPU, and Gemma 3 270M's output layer (262,144 × 640,
tied to the embedding) is ~60 % of the weights read per token. Measured here (one
thread, 2 shared AMD EPYC cores): the fp32 output layer costs 66 ms for one row and
146 ms for two (MKL's small-M sgemm), 410-470 ms for 48; a bf16 copy prepacked for oneDNN
costs 25-30 ms for 1-8 rows and ~100 ms for 48. The body's small fp32 Linear layers with
1-4 rows run up to ~2× faster as W @ xᵀ than as x @ Wᵀ (the same MKL effect).

How greedy picks stay those of fp32: the bf16 logits differ from the fp32 ones by at most
a bound E computed per row from the actual rounding errors (‖x̃ − x‖·max‖w‖ +
‖x̃‖·max‖w̃ − w‖ + fp32 accumulation + the bf16 rounding of the output, by
Cauchy–Schwarz). So the fp32 argmax is always among the tokens whose bf16 logit is within
2E of the bf16 maximum (measured: median ~6 tokens); exactly those are recomputed in fp32
and written back, and greedy decoding takes the same argmax as with fp32 logits (up to
fp32 summation order, as between any two fp32 kernels). The other logits stay
approximate, which is why `fast_greedy` is for greedy generation only. Teacher-forced
passes, whose every probability is shown, use `packed_head`: the fp32 output layer,
prepacked for oneDNN (~2× faster than MKL for tens of positions, same fp32 arithmetic).
"""
from __future__ import annotations

import os
import types
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

UNIT = 2.0 ** -8  # unit roundoff of bfloat16 (8 significant bits, round to nearest)
SMALL_ROWS = (1, 4)  # body Linear layers take the W @ xᵀ path for this many rows (measured faster)
MAX_CANDIDATES = 16384  # more tokens than this in a row's window: that row is computed in fp32
_heads: "weakref.WeakKeyDictionary[torch.nn.Module, ExactArgmaxHead]" = weakref.WeakKeyDictionary()
_packed: "weakref.WeakKeyDictionary[torch.nn.Module, PackedLinear]" = weakref.WeakKeyDictionary()


class PackedLinear:
    """x @ wᵀ through oneDNN with the weight reordered once into its blocked layout.

    Why: `F.linear` re-lays the weight out on every call (bf16) or takes MKL's sgemm (fp32),
    which on this AMD CPU is slow for few rows. Measured, 262,144 × 640, one thread: bf16
    1-8 rows 25-30 ms (F.linear 40-48), 48 rows 102 ms (122); fp32 33 rows 190 ms (369).
    Same arithmetic (fp32 accumulation); fp32 results differ from MKL's only in summation
    order (~1e-6 relative). Falls back to `F.linear` where the private op is missing.
    """

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight.detach().contiguous()
        try:
            self.packed: torch.Tensor | None = torch.ops.mkldnn._reorder_linear_weight(self.weight, 1)
            probe = torch.zeros(2, self.weight.shape[1], dtype=self.weight.dtype)
            self(probe)
        except (AttributeError, RuntimeError, NotImplementedError):
            self.packed = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is None or x.dtype != self.weight.dtype:
            return F.linear(x, self.weight)
        flat = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.ops.mkldnn._linear_pointwise(flat, self.packed, None, "none", [None], "")
        return out.view(*x.shape[:-1], out.shape[-1])


class ExactArgmaxHead:
    """An output layer whose logits have the fp32 argmax in every row (see module docstring)."""

    def __init__(self, weight: torch.Tensor) -> None:
        w = weight.detach()
        self.weight = w
        self.low = PackedLinear(w.to(torch.bfloat16))
        low32 = self.low.weight.float()
        self.w_max = float(w.norm(dim=1).max())
        self.low_max = float(low32.norm(dim=1).max())
        self.w_err_max = float((low32 - w).norm(dim=1).max())
        self.key = (w.data_ptr(), w._version)
        self.fallback_rows = 0  # rows computed fully in fp32 (for tests and curiosity)

    def bound(self, x: torch.Tensor, x_low: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
        """Per row: max over tokens of |bf16 logit − fp32 logit|, with a 5 % margin."""
        x_low32 = x_low.float()
        d = x.shape[-1]
        inputs = (x_low32 - x).norm(dim=1) * self.w_max
        weights = x_low32.norm(dim=1) * (self.w_err_max + 2 * d * 2.0 ** -24 * self.low_max)
        e0 = inputs + weights
        return 1.05 * (e0 + UNIT / (1 - UNIT) * (top.abs() + 2 * e0 + 1.0)) + 1e-3

    def __call__(self, hidden: torch.Tensor) -> torch.Tensor:
        x = hidden.reshape(-1, hidden.shape[-1])
        if x.dtype != torch.float32 or not bool(torch.isfinite(x).all()):
            return F.linear(hidden, self.weight)
        x_low = x.to(torch.bfloat16)
        logits = self.low(x_low).float()
        top = logits.amax(dim=1)
        window = top - 2 * self.bound(x, x_low, top)
        rows, cols = (logits >= window[:, None]).nonzero(as_tuple=True)
        counts = torch.bincount(rows, minlength=x.shape[0]).tolist()
        start = 0
        for row, count in enumerate(counts):
            if count > MAX_CANDIDATES:
                logits[row] = F.linear(x[row], self.weight)
                self.fallback_rows += 1
            elif count:
                ids = cols[start:start + count]
                logits[row, ids] = self.weight[ids] @ x[row]
            start += count
        return logits.view(*hidden.shape[:-1], logits.shape[-1])


def _small_rows_linear(self: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    flat = x.reshape(-1, x.shape[-1])
    if not SMALL_ROWS[0] <= flat.shape[0] <= SMALL_ROWS[1] or x.dtype != self.weight.dtype:
        return F.linear(x, self.weight, self.bias)
    out = torch.mm(self.weight, flat.t()).t().contiguous()
    if self.bias is not None:
        out = out + self.bias
    return out.view(*x.shape[:-1], out.shape[-1])


def head_for(module: torch.nn.Module) -> ExactArgmaxHead:
    """The bf16 copy of an output layer, made once per model (weights are frozen here)."""
    head = _heads.get(module)
    weight = module.weight
    if head is None or head.key != (weight.data_ptr(), weight._version):
        head = ExactArgmaxHead(weight)
        _heads[module] = head
    return head


def packed_for(module: torch.nn.Module) -> PackedLinear:
    """The fp32 packed copy of an output layer, made once per model."""
    packed = _packed.get(module)
    if packed is None or packed.weight.data_ptr() != module.weight.data_ptr():
        packed = PackedLinear(module.weight)
        _packed[module] = packed
    return packed


def applies(model: Any) -> bool:
    """Only fp32 models on the CPU whose output layer is a plain Linear (not a LoRA target).

    `LORA_LENS_FAST_DECODE=0` turns it off (to compare with the stock path).
    """
    if os.environ.get("LORA_LENS_FAST_DECODE", "1") == "0":
        return False
    head = model.get_output_embeddings()
    return (type(head) is torch.nn.Linear and head.bias is None and head.weight.device.type == "cpu"
            and head.weight.dtype == torch.float32)


@contextmanager
def _forwards(pairs: list[tuple[torch.nn.Module, Any]]) -> Iterator[None]:
    """Give each module an instance `forward` for the block; always removed on exit."""
    patched: list[torch.nn.Module] = []
    try:
        for module, forward in pairs:
            if "forward" not in module.__dict__:
                module.forward = forward
                patched.append(module)
        yield
    finally:
        for module in patched:
            module.__dict__.pop("forward", None)


@contextmanager
def packed_head(model: Any) -> Iterator[bool]:
    """Within the block, the output layer computes its fp32 logits through `PackedLinear`
    (teacher-forced passes: every logit shown, ~2× faster for tens of positions)."""
    if not applies(model):
        yield False
        return
    head = model.get_output_embeddings()
    with _forwards([(head, packed_for(head))]):
        yield True


@contextmanager
def fast_greedy(model: Any) -> Iterator[bool]:
    """Within the block, the model's output layer and small-batch Linear layers take the
    fast paths above (instance `forward`s, always removed on exit). Yields whether they do.

    Call with the model's lock held: the patch is visible to every caller of the model.
    """
    if not applies(model):
        yield False
        return
    head = model.get_output_embeddings()
    pairs = [(m, head_for(m) if m is head else types.MethodType(_small_rows_linear, m))
             for m in model.modules() if type(m) is torch.nn.Linear]
    with _forwards(pairs):
        yield True
