"""How long will a run take? Said before the start, from the corpus size and the settings.

A shop owner deciding whether to press "Train" needs "≈ 6 min, 315 steps", not a loss curve
that appears after the fact. Steps follow `tuning.train.planned_epochs`; seconds come from
per-step costs measured by `python -m tuning.bench` on a free 2-core machine (batch 32,
32 tokens), scaled linearly with batch size and length, plus model loading and (for the
contrastive objectives) embedding + mining the corpus once. The time budget caps it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from tuning.config import TrainConfig
from tuning.objectives import trained_count
from tuning.train import planned_epochs

STEP_S = {"tsdae": 1.2, "contrastive": 2.6, "tsdae+contrastive": 3.8}
"""Seconds per step at batch 32 × 32 tokens, plain LoRA, 2 free cores. contrastive: `python -m
tuning.bench --worker e2e` gave 100.8 s for 32 steps, of which ~2 s loading and ~16 s mining;
tsdae: 0.60 s at batch 16 (issue #8's `tuning.bench` figure), doubled; the sum: both."""
QLORA_SLOWDOWN = 1.25
"""4-bit NF4 matmuls on CPU are slower than fp32 ones (`<objective>@4bit_step_s` in the bench)."""
LOAD_S = 3.0
EMBED_S_PER_TEXT = 0.016
"""Base embedding of one title for mining (inference, batch 64): ~16 s per 1,000 titles."""


@dataclass(frozen=True)
class RunPlan:
    """What a run will do: passes, steps and an estimate of the wall time in seconds."""

    epochs: int
    steps: int
    seconds: float
    capped_by_budget: bool


def plan_run(cfg: TrainConfig, n_texts: int, world: int = 1) -> RunPlan:
    """The plan for `cfg` on `n_texts` titles (before any model is loaded)."""
    n_texts = trained_count(cfg, n_texts)
    epochs = planned_epochs(cfg, n_texts, world)
    steps = math.ceil(n_texts / (cfg.batch_size * world)) * epochs
    if cfg.max_steps:
        steps = min(steps, cfg.max_steps)
    per_step = STEP_S[cfg.objective] * (cfg.batch_size / 32) * (min(cfg.max_length, 48) / 32)
    if cfg.use_4bit:
        per_step *= QLORA_SLOWDOWN
    mining = EMBED_S_PER_TEXT * n_texts if "contrastive" in cfg.objective else 0.0
    seconds = LOAD_S + mining + steps * per_step
    capped = bool(cfg.time_budget_s and seconds > cfg.time_budget_s)
    if capped:
        seconds = float(cfg.time_budget_s)
        steps = max(1, int((seconds - LOAD_S - mining) / per_step))
    return RunPlan(epochs, steps, seconds, capped)
