"""How long will a run take? Said before the start, from the corpus size and the settings.

A shop owner deciding whether to press "Train" needs "≈ 6 min, 315 steps", not a loss curve
that appears after the fact. Steps follow `tuning.train.planned_steps`; seconds come from
per-step costs measured by `python -m tuning.bench` on a free 2-core machine (batch 32,
32 tokens), scaled linearly with batch size and length, plus model loading and (for the
contrastive objectives) embedding + mining the corpus once. The time budget caps it.
"""
from __future__ import annotations

from dataclasses import dataclass

from tuning.config import TrainConfig
from tuning.model import wants_bf16
from tuning.objectives import trained_count
from tuning.train import planned_epochs, planned_steps, step_target
from tuning.variants import is_variant_catalog

STEP_S = {"tsdae": 1.15, "contrastive": 1.2, "tsdae+contrastive": 2.6}
"""Seconds per step at batch 32 × 32 tokens, plain LoRA with bf16 matmuls, 2 free cores with
native bf16, from `python -m tuning.bench` (load 1.7): `tsdae_step_s` 1.14, `contrastive_step_s`
1.23, `tsdae+contrastive_step_s` 2.62; its `e2e_1000_s` 45.4 s = ~2 s loading + ~6 s mining
+ 32 steps of ~1.2 s."""
FP32_SLOWDOWN = 1.8
"""Where the CPU has no native bf16, `precision='fp32'`, or a 4-bit base (its NF4 matmuls run in
fp32): the same bench's `e2e_baseline_1000_s` / `e2e_1000_s` = 82.4 / 45.4, and
`contrastive@4bit_step_s` 2.16 ≈ 1.8 × 1.23 (NF4 costs about what fp32 does here)."""
LOAD_S = 3.0
EMBED_S_PER_TEXT = 0.0065
"""Base embedding of one title for mining (inference, length-sorted batches of 64, bf16):
~6 s per 1,000 titles."""


@dataclass(frozen=True)
class RunPlan:
    """What a run will do: passes, steps and an estimate of the wall time in seconds."""

    epochs: int
    steps: int
    seconds: float
    capped_by_budget: bool
    target: int | None = None
    """With epochs empty, the steps the run aims at (`step_target`: longer for a catalog of
    variants) before `max_steps` or the time budget cut it; None when epochs are set."""


def plan_run(cfg: TrainConfig, n_texts: int, world: int = 1, share: float = 0.0) -> RunPlan:
    """The plan for `cfg` on `n_texts` titles (before any model is loaded) whose share of
    one-word siblings is `share` (a catalog of template variants trains longer)."""
    n_texts = trained_count(cfg, n_texts)
    variants = is_variant_catalog(share)
    epochs = planned_epochs(cfg, n_texts, world, variants)
    steps = planned_steps(cfg, n_texts, world, variants)
    per_step = STEP_S[cfg.objective] * (cfg.batch_size / 32) * (min(cfg.max_length, 48) / 32)
    slow = 1.0 if wants_bf16(cfg, quantized=cfg.use_4bit) else FP32_SLOWDOWN
    per_step *= slow
    mining = EMBED_S_PER_TEXT * slow * n_texts if "contrastive" in cfg.objective else 0.0
    seconds = LOAD_S + mining + steps * per_step
    capped = bool(cfg.time_budget_s and seconds > cfg.time_budget_s)
    if capped:
        seconds = float(cfg.time_budget_s)
        steps = max(1, int((seconds - LOAD_S - mining) / per_step))
    return RunPlan(epochs, steps, seconds, capped,
                   step_target(cfg, variants) if cfg.epochs is None else None)
