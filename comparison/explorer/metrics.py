"""Numbers that say how far the LoRA moved the model: divergences, top-k tables, maps.

KL is reported as KL(LoRA ‖ base): the extra surprise, in nats, that the base model
feels when reading text the adapted model would write. It is asymmetric and unbounded,
so the symmetric, bounded (≤ ln 2) Jensen-Shannon divergence is given next to it and
used for attention maps, where zeros (causal masking) would make KL infinite.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

_EPS = 1e-12


def kl_divergence(logp: torch.Tensor, logq: torch.Tensor) -> float:
    """KL(p ‖ q) in nats from log-probabilities over the same support."""
    p = logp.exp()
    return float(torch.clamp((p * (logp - logq)).sum(-1), min=0.0).mean())


def js_divergence(logp: torch.Tensor, logq: torch.Tensor) -> float:
    """Jensen-Shannon divergence in nats (symmetric, 0 … ln 2)."""
    m = torch.logaddexp(logp, logq) - np.log(2.0)
    return 0.5 * kl_divergence(logp, m) + 0.5 * kl_divergence(logq, m)


def js_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """JS divergence of probability rows along the last axis (nats), zeros allowed."""
    p = np.clip(p.astype(np.float64), 0.0, None)
    q = np.clip(q.astype(np.float64), 0.0, None)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(a > 0, a * (np.log(a + _EPS) - np.log(m + _EPS)), 0.0)
        return terms.sum(-1)

    return np.clip(0.5 * kl(p) + 0.5 * kl(q), 0.0, None)


def top_k_table(logps: dict[str, torch.Tensor], tokenizer: Any, k: int) -> pd.DataFrame:
    """Tokens in any model's top-k with every model's probability (one column per name).

    Sorted by the largest of the probabilities, so a chart reads top-down.
    """
    if not 1 <= k <= 100:
        raise ValueError(f"top_k: must be 1 … 100, got {k}")
    ids = torch.unique(torch.cat([lp.topk(k).indices for lp in logps.values()]))
    frame = pd.DataFrame({"token": [tokenizer.decode([int(i)]) for i in ids], "token_id": ids.numpy()})
    for name, lp in logps.items():
        frame[name] = lp[ids].exp().numpy()
    key = frame[list(logps)].max(axis=1)
    return frame.iloc[np.argsort(-key.values, kind="stable")].reset_index(drop=True)


def top_k_union(logp_base: torch.Tensor, logp_lora: torch.Tensor, tokenizer: Any,
                k: int) -> pd.DataFrame:
    """Tokens in either model's top-k with both probabilities and their difference."""
    frame = top_k_table({"base": logp_base, "lora": logp_lora}, tokenizer, k)
    frame["delta"] = frame["lora"] - frame["base"]
    return frame


def top_k_pairs(logp: torch.Tensor, tokenizer: Any, k: int) -> list[list[Any]]:
    """[[token, prob], …] for the JSON API, most likely first."""
    values, ids = logp.topk(k)
    return [[tokenizer.decode([int(i)]), round(float(v.exp()), 6)] for v, i in zip(values, ids)]


def layer_shift(att_base: np.ndarray, att_lora: np.ndarray) -> np.ndarray:
    """Per layer: JS divergence of base vs LoRA attention rows, mean over heads and queries."""
    if att_base.shape != att_lora.shape:
        raise ValueError("attention: base and LoRA captures differ in shape")
    return js_rows(att_base, att_lora).mean(axis=(1, 2))


def attention_row(att: np.ndarray, layer: int, head: int | None, query_index: int) -> np.ndarray:
    """One query's attention over the keys at a layer, for one head or the head mean."""
    if not 0 <= layer < att.shape[0]:
        raise ValueError(f"layer: must be 0 … {att.shape[0] - 1}, got {layer}")
    if head is not None and not 0 <= head < att.shape[1]:
        raise ValueError(f"head: must be 0 … {att.shape[1] - 1} or None for the mean, got {head}")
    per_layer = att[layer]
    heads = per_layer.mean(axis=0) if head is None else per_layer[head]
    return heads[query_index]


def attention_matrix(att: np.ndarray, layer: int, head: int | None) -> np.ndarray:
    """Queries × keys at a layer (one head or the mean over heads)."""
    if not 0 <= layer < att.shape[0]:
        raise ValueError(f"layer: must be 0 … {att.shape[0] - 1}, got {layer}")
    if head is not None and not 0 <= head < att.shape[1]:
        raise ValueError(f"head: must be 0 … {att.shape[1] - 1} or None for the mean, got {head}")
    return att[layer].mean(axis=0) if head is None else att[layer, head]


def image_map(row: np.ndarray, positions: list[int], grid: tuple[int, int]) -> np.ndarray:
    """Attention over image-token keys folded back onto the (rows, cols) patch grid."""
    if len(positions) != grid[0] * grid[1]:
        raise ValueError("image: patch positions do not fill the grid")
    return np.asarray(row)[positions].reshape(grid)
