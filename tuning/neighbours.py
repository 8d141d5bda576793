"""Each title's nearest neighbour under the base vectors that passes a rule.

One owner for the neighbour search that both mined title pairs use: the hard negatives
(`tuning.contrastive`: the nearest title whose identity conflicts) and the catalog twins
(`tuning.twins`: the nearest title that is the same product in other words). The rule is
checked on the `k` nearest titles only, nearest first, so its cost is `k` checks per title
rather than one per pair of titles.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def first_neighbour(base_emb: np.ndarray, k: int, accept: Callable[[int, int], bool],
                    chunk: int = 2048) -> list[int | None]:
    """For each row i, the first of its `k` nearest other rows j (cosine of normalised
    vectors) with `accept(i, j)`, or None."""
    emb = torch.from_numpy(np.ascontiguousarray(base_emb, dtype=np.float32))
    k = min(k, len(emb) - 1)
    out: list[int | None] = []
    for start in range(0, len(emb), chunk):
        sims = emb[start:start + chunk] @ emb.T
        rows = torch.arange(sims.shape[0])
        sims[rows, rows + start] = -2.0
        top = sims.topk(k, dim=1).indices.tolist() if k > 0 else [[] for _ in rows]
        for offset, neighbours in enumerate(top):
            out.append(next((j for j in neighbours if accept(start + offset, j)), None))
    return out
