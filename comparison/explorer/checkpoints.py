"""Watch a LoRA learn: replay its training checkpoints on one question.

`examples/train_lm_demo.py --checkpoints 5,22,…` keeps small fp16 copies of the LoRA after
chosen steps in `<adapter>/checkpoints/step-NNNN/` (each a normal adapter folder, loaded
strictly like any other). Every checkpoint becomes one more named adapter on the ONE shared
model (a few MB each, attached once), so the replay is one mixed-adapter greedy batch
(base, each checkpoint, the final adapter: one row each) and one mixed-adapter forward for
the next-token distributions — not one model per step.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from comparison.explorer.capture import run_batch
from comparison.explorer.limits import BASE
from comparison.explorer.metrics import kl_divergence, top_k_table

if TYPE_CHECKING:
    from comparison.explorer.core import Explorer

_STEP_RE = re.compile(r"^step-(\d+)$")
_attach_lock = threading.Lock()


def checkpoint_folders(adapter_dir: Path) -> list[tuple[int, Path]]:
    """(step, folder) of the checkpoints shipped beside an adapter, by step."""
    root = Path(adapter_dir) / "checkpoints"
    found = []
    for folder in root.iterdir() if root.is_dir() else []:
        match = _STEP_RE.match(folder.name)
        if match and (folder / "adapter_config.json").is_file() and (folder / "adapter_model.safetensors").is_file():
            found.append((int(match.group(1)), folder))
    return sorted(found)


def _loss(folder: Path) -> float | None:
    info = folder / "checkpoint.json"
    return float(json.loads(info.read_text(encoding="utf-8"))["loss"]) if info.is_file() else None


def attach_checkpoints(explorer: "Explorer", adapter_dir: Path) -> list[tuple[int, str, float | None]]:
    """Attach every checkpoint of `adapter_dir` to the shared model once; (step, name, loss)."""
    out = []
    with _attach_lock:
        for step, folder in checkpoint_folders(adapter_dir):
            name = f"ckpt-{Path(adapter_dir).name}-{step}"
            if name not in explorer.adapters():
                explorer.add_adapter(name, folder, f"checkpoint: step {step} of {Path(adapter_dir).name}")
            out.append((step, name, _loss(folder)))
    return out


@dataclass
class Replay:
    """Answer, next-token table and KL at every step: 0 (the base), each checkpoint, the final."""

    steps: list[int]
    losses: list[float | None]
    answers: list[str]
    top_k: list[pd.DataFrame]  # per step: token, token_id, base, step, final probabilities
    kl_to_base: list[float]  # KL(step ‖ base) at the next token, nats
    kl_to_final: list[float]  # KL(final ‖ step)

    def __post_init__(self) -> None:
        n = len(self.steps)
        if not all(len(x) == n for x in (self.losses, self.answers, self.top_k, self.kl_to_base, self.kl_to_final)):
            raise ValueError("steps: one answer, table and KL per step")

    def to_json(self) -> dict[str, Any]:
        return {"steps": self.steps, "losses": self.losses, "answers": self.answers,
                "kl_to_base": self.kl_to_base, "kl_to_final": self.kl_to_final,
                "top_k": [t.drop(columns="token_id").round(6).values.tolist() for t in self.top_k]}


@torch.no_grad()
def replay(explorer: "Explorer", prompt: str, adapter_dir: Path, top_k: int = 8, max_new_tokens: int = 24) -> Replay:
    """Replay the training of the explorer's active adapter (whose checkpoints are in `adapter_dir`)."""
    adapter = explorer.active_adapter
    if adapter is None:
        raise ValueError("adapter: no LoRA adapter is loaded")
    ckpts = attach_checkpoints(explorer, adapter_dir)
    if not ckpts:
        raise ValueError(f"adapter: no training checkpoints next to {Path(adapter_dir).name}")
    enc = explorer.encode(prompt)
    names = [BASE, *(n for _, n, _ in ckpts), adapter]
    ids = explorer.generate_rows(enc, names, max_new_tokens=int(max_new_tokens))
    answers = [explorer.tokenizer.decode(row, skip_special_tokens=True).strip() for row in ids]
    inputs = {k: v.repeat(len(names), *([1] * (v.ndim - 1))) for k, v in enc.inputs.items()}
    with explorer._lock:
        explorer._select()
        rows = run_batch(explorer.model, inputs, adapter_names=names, positions=[-1])
    logps = [r.logprobs[-1] for r in rows]
    base, final = logps[0], logps[-1]
    tables = [top_k_table({"base": base, "step": lp, "final": final}, explorer.tokenizer, int(top_k)) for lp in logps]
    final_info = Path(adapter_dir) / "checkpoints" / "final.json"
    last, last_loss = ckpts[-1][0] + 1, None
    if final_info.is_file():
        info = json.loads(final_info.read_text(encoding="utf-8"))
        last, last_loss = int(info["step"]), float(info["loss"])
    return Replay(steps=[0, *(s for s, _, _ in ckpts), last], losses=[None, *(l for _, _, l in ckpts), last_loss],
                  answers=answers, top_k=tables, kl_to_base=[kl_divergence(lp, base) for lp in logps],
                  kl_to_final=[kl_divergence(final, lp) for lp in logps])
