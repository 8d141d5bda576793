"""Where the adapter writes: the size and shape of each LoRA update ΔW = scale·B·A.

A LoRA layer adds ΔW = s·B·A (B: out×r, A: r×in) to a frozen weight. Its Frobenius norm
says how hard the adapter pushes that module; its singular values say whether it uses
all r directions or effectively one. ΔW is never formed: with B = Q_b R_b and
Aᵀ = Q_a R_a (thin QR), ΔW = Q_b (s R_b R_aᵀ) Q_aᵀ, so the singular values of ΔW are
those of the r × r matrix s·R_b·R_aᵀ — cheap even for a 3B model's MLP.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import torch

_LAYER_RE = re.compile(r"layers\.(\d+)\.")


def lora_singular_values(lora_a: torch.Tensor, lora_b: torch.Tensor, scaling: float) -> np.ndarray:
    """Singular values (descending) of scaling·B·A without building the full matrix."""
    _, r_b = torch.linalg.qr(lora_b.detach().double())
    _, r_a = torch.linalg.qr(lora_a.detach().double().T)
    core = scaling * (r_b @ r_a.T)
    return torch.linalg.svdvals(core).numpy()


def adapter_anatomy(model: Any, adapter_name: str, scale: float = 1.0) -> pd.DataFrame:
    """One row per LoRA module: part (text/vision), layer, module, rank, norm, singular values.

    `scale` is the strength dial, so the table matches what the other views run with.
    """
    from peft.tuners.lora import LoraLayer

    rows = []
    for name, module in model.named_modules():
        if not isinstance(module, LoraLayer) or adapter_name not in module.lora_A:
            continue
        a = module.lora_A[adapter_name].weight
        b = module.lora_B[adapter_name].weight
        s = float(module.scaling[adapter_name]) * scale
        values = lora_singular_values(a, b, s)
        match = _LAYER_RE.search(name + ".")
        rows.append({
            "part": "vision" if "visual" in name else "text",
            "layer": int(match.group(1)) if match else -1,
            "module": name.rsplit(".", 1)[-1],
            "name": name,
            "rank": int(a.shape[0]),
            "norm": float(np.sqrt((values ** 2).sum())),
            "singular_values": values,
        })
    if not rows:
        raise ValueError("model: no LoRA layers found for this adapter")
    return pd.DataFrame(rows).sort_values(["part", "layer", "module"]).reset_index(drop=True)


def norm_grid(anatomy: pd.DataFrame, part: str = "text") -> pd.DataFrame:
    """Layer × module table of ΔW norms (the heatmap's data)."""
    sub = anatomy[anatomy["part"] == part]
    return sub.pivot_table(index="layer", columns="module", values="norm", aggfunc="sum")
