"""The training loop: TSDAE on a (Q)LoRA encoder, with progress, cancel and a time budget.

Why our own loop rather than HF `Trainer`: TSDAE needs a two-input forward (noisy text for
the encoder, clean text for the decoder) with fresh noise every step, the UI needs cancel
within one step and an ETA, and the result must land atomically in `out_dir`. A `Trainer`
would need a custom collator, a custom loss and three callbacks for the same thing; this
loop is short, and `accelerate.Accelerator` still gives device placement and DDP
(`torchrun` / `accelerate launch -m tuning train ...`, see `tuning/cli.py`). What keeps the
ranks one job (even shards, agreed stops and errors, cleanup after a killed rank) is in
`tuning/distributed.py`.

Output (PEFT format, only LoRA weights): adapter_config.json, adapter_model.safetensors,
README.md (model card) and training_log.json. Everything is written into a hidden sibling
folder first and renamed into `out_dir` only when complete, so a crash never leaves a
half-written adapter where the app looks for one.
"""
from __future__ import annotations

import math
import os
import random
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from accelerate import Accelerator
from transformers import get_linear_schedule_with_warmup

from comparison.basics import busy_elsewhere
from tuning import distributed as dist
from tuning.card import write_card, write_log
from tuning.config import TrainConfig
from tuning.model import autocast, load_for_training
from tuning.objectives import build_objective, training_texts


@dataclass
class TrainProgress:
    """One progress report (sent after every step)."""

    step: int
    total_steps: int
    epoch: float
    loss: float | None
    elapsed_s: float
    eta_s: float | None
    message: str


@dataclass
class TrainResult:
    """What happened; `status` is 'completed', 'cancelled' or 'time_budget'."""

    status: str
    adapter_saved: bool
    adapter_dir: Path | None
    steps: int
    total_steps: int
    losses: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    mode_label: str = ""
    quantized: bool = False
    message: str = ""
    info: dict = field(default_factory=dict)  # the objective's own record (training_log.json)


def training_threads(sample_s: float = 0.3) -> int:
    """Torch threads for training: 1 when OTHER processes keep a core busy, else torch's default.

    Measured here: on 2 cores with a load average of ~5, OpenMP threads spin-wait for each
    other and a 2-thread forward is ~10x slower than a 1-thread one (3.6-5.7 s vs 0.53 s).
    The 1-minute load average is the wrong signal for that: it still counts the app's own
    previous training for a minute after it ended, so the next in-app run fell to 1 thread
    on an idle Space (the in-app vs CLI gap of issue #8). A short sample of the CPU time used
    by other processes (system-wide minus this process) sees only real contention.
    LORA_LENS_TRAIN_THREADS overrides the choice.
    """
    env = os.environ.get("LORA_LENS_TRAIN_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = os.cpu_count() or 1
    others = busy_elsewhere(sample_s)
    return 1 if others >= 0.75 * (cores - 1) and cores > 1 else torch.get_num_threads()


def _check_out_dir(out_dir: Path) -> None:
    """Refuse to replace a folder that is not an adapter (we must never delete user data)."""
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "adapter_config.json").exists():
        raise ValueError(f"out_dir {out_dir} exists and is not an adapter folder; choose another")


def train(cfg: TrainConfig, texts: list[str], base_path: str, out_dir: Path,
          on_progress: Callable[[TrainProgress], None] | None = None,
          stop: threading.Event | None = None) -> TrainResult:
    """Train a LoRA adapter with TSDAE on `texts` and save it to `out_dir` (see module doc)."""
    if not texts:
        raise ValueError("texts must not be empty")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    stop = stop or threading.Event()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(training_threads())
    try:
        with dist.exit_on_sigterm(dist.launched_world_size() > 1, out_dir):
            return _train(cfg, texts, base_path, out_dir, on_progress, stop)
    finally:
        torch.set_num_threads(threads_before)


def _train(cfg: TrainConfig, texts: list[str], base_path: str, out_dir: Path,
           on_progress: Callable[[TrainProgress], None] | None, stop: threading.Event) -> TrainResult:
    accelerator = dist.make_accelerator()
    torch.manual_seed(cfg.seed)
    loaded = load_for_training(base_path, cfg)
    texts = training_texts(texts, cfg)
    objective = build_objective(cfg, loaded, texts, accelerator.num_processes > 1)
    loss_fn = objective.module
    params = [p for p in loss_fn.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    world, rank = accelerator.num_processes, accelerator.process_index
    steps_per_epoch = math.ceil(len(texts) / (cfg.batch_size * world))
    variants = bool(objective.info.get("variant_catalog"))  # contrastive objectives only
    epochs = planned_epochs(cfg, len(texts), world, variants)
    total = planned_steps(cfg, len(texts), world, variants)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
    loss_fn, optimizer = accelerator.prepare(loss_fn, optimizer)
    loss_fn.train()

    if accelerator.is_main_process:
        dist.sweep_stale_partials(out_dir)
    tmp = dist.partial_dir(out_dir)  # created by the main process's first save only
    rng, order_rng = random.Random(cfg.seed * 1009 + rank), random.Random(cfg.seed)
    losses: list[float] = []
    status, step, start = "completed", 0, time.monotonic()

    def report(message: str) -> None:
        if on_progress is None or not accelerator.is_main_process:
            return
        elapsed = time.monotonic() - start
        eta = elapsed / step * (total - step) if step else None
        if eta is not None and cfg.time_budget_s:
            eta = min(eta, max(cfg.time_budget_s - elapsed, 0.0))
        on_progress(TrainProgress(step, total, step / steps_per_epoch, losses[-1] if losses else None,
                                  elapsed, eta, message))

    report(f"training started ({loaded.mode_label})")
    try:
        for epoch in range(epochs):
            order = objective.epoch_order(order_rng, cfg.batch_size * world)
            shard = dist.shard(order, rank, world)
            for i in range(0, len(shard), cfg.batch_size):
                if step >= total:
                    break
                elapsed = time.monotonic() - start
                over_budget = cfg.time_budget_s and step and elapsed + elapsed / step > cfg.time_budget_s
                local = "cancelled" if stop.is_set() else "time_budget" if over_budget else None
                if (agreed := dist.agree_stop(accelerator, local)) is not None:
                    status = agreed
                    break
                with dist.agree_errors(accelerator):
                    inputs = _to(objective.inputs(shard[i:i + cfg.batch_size], rng), accelerator.device)
                    with autocast(loaded, accelerator.device.type):
                        loss = loss_fn(**inputs)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                losses.append(dist.mean_loss(accelerator, loss))
                report(f"epoch {epoch + 1}/{epochs}, step {step}/{total}")
                if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and step < total:
                    _save_adapter(accelerator, loaded.model, tmp / f"checkpoint-{step}")
            if status != "completed" or step >= total:
                break
        elapsed = time.monotonic() - start
        rank_steps = dist.gather_steps(accelerator, step)
        saved = step > 0
        if saved and accelerator.is_main_process:
            for ckpt in tmp.glob("checkpoint-*"):
                shutil.rmtree(ckpt)
            _save_adapter(accelerator, loaded.model, tmp)
            log = {"base_model": loaded.model.peft_config["default"].base_model_name_or_path,
                   "mode_label": loaded.mode_label, "quantized": loaded.quantized,
                   "status": status, "steps": step, "total_steps": total, "elapsed_s": elapsed,
                   "n_texts": len(texts), "epochs": epochs, **objective.info,
                   "config": cfg.to_dict(), "loss_steps": list(range(1, step + 1)),
                   "losses": losses, "world_size": world, "rank_steps": rank_steps}
            write_log(tmp, log)
            write_card(tmp, log)
            if out_dir.exists():
                shutil.rmtree(out_dir)
            tmp.rename(out_dir)
        accelerator.wait_for_everyone()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    message = {"completed": "training finished",
               "cancelled": "cancelled by the user",
               "time_budget": "stopped at the time budget"}[status]
    message += "; adapter saved" if saved else "; nothing was trained, no adapter saved"
    report(message)
    return TrainResult(status, saved, out_dir if saved else None, step, total, losses, elapsed,
                       loaded.mode_label, loaded.quantized, message, dict(objective.info))


def step_target(cfg: TrainConfig, variants: bool = False) -> int:
    """Steps of a run with epochs empty: `cfg.variant_steps` for the contrastive objectives on
    a catalog of one-template variants (`tuning.variants.is_variant_catalog`), else
    `cfg.auto_steps`."""
    return cfg.variant_steps if variants and "contrastive" in cfg.objective else cfg.auto_steps


def planned_epochs(cfg: TrainConfig, n_texts: int, world: int = 1, variants: bool = False) -> int:
    """`cfg.epochs`, or (empty) enough passes for `step_target` steps, at most 1000.

    Why: a fixed epoch count gives a 200-title catalog 7 steps (nothing learnt) and a
    100k-title one hours; a step target gives both a comparable amount of training, and
    the time budget still stops a run early.
    """
    if cfg.epochs is not None:
        return cfg.epochs
    steps_per_epoch = max(1, math.ceil(n_texts / (cfg.batch_size * world)))
    return max(1, min(1000, math.ceil(step_target(cfg, variants) / steps_per_epoch)))


def planned_steps(cfg: TrainConfig, n_texts: int, world: int = 1, variants: bool = False) -> int:
    """Optimisation steps of a run: all `planned_epochs`, except that with epochs empty a run
    stops at `step_target` (part of a large catalog's last or only pass), and never past
    `cfg.max_steps`.

    Why the cap: one training runs at a time on a shared Space, so the default run's length
    is every visitor's wait; it should not grow with the catalog (issue #15: ≤ 120 s).
    """
    steps_per_epoch = max(1, math.ceil(n_texts / (cfg.batch_size * world)))
    total = steps_per_epoch * planned_epochs(cfg, n_texts, world, variants)
    if cfg.epochs is None:
        total = min(total, step_target(cfg, variants))
    return min(total, cfg.max_steps) if cfg.max_steps else total


def _to(value: object, device: torch.device) -> object:
    """Move a (nested dict of) tensors to the training device."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def _save_adapter(accelerator: Accelerator, model: torch.nn.Module, path: Path) -> None:
    """LoRA weights only, safetensors (the decoder's cross-attention is not part of `model`)."""
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(str(path), safe_serialization=True)
