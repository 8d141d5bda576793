"""What the adapter moved: each title's k nearest neighbours before and after.

The measure is the overlap of the two neighbour sets (|N_base ∩ N_tuned| / k): 1 = the title
kept its neighbourhood, 0 = every neighbour changed. It answers "which points travelled
furthest relative to their neighbours" (Latent Scope issue #27) without any 2-D projection,
which distorts distances; the map only shows the result.

Cost: exact kNN is an n × n matrix product per model, done in blocks with torch.topk. Up to
`MAX_ROWS` titles every title is analysed; above it a fixed random sample of titles is
(their neighbours still come from the whole catalog) and `Moved.sampled` says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

MAX_ROWS = 20_000
BLOCK = 2048


@dataclass
class Moved:
    """Neighbours of the analysed `rows` under both models (indices into the catalog)."""

    rows: np.ndarray
    base_idx: np.ndarray
    base_sim: np.ndarray
    tuned_idx: np.ndarray
    tuned_sim: np.ndarray
    overlap: np.ndarray
    k: int
    n_titles: int

    @property
    def sampled(self) -> bool:
        return len(self.rows) < self.n_titles

    @property
    def change(self) -> np.ndarray:
        """1 − overlap: the share of a title's neighbours that are new under the adapter."""
        return 1.0 - self.overlap


def knn(emb: np.ndarray, rows: np.ndarray, k: int, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosines) of the k nearest OTHER titles of each of `rows`, best first."""
    k = min(k, len(emb) - 1)
    full = torch.from_numpy(np.ascontiguousarray(emb))
    idx_out = np.empty((len(rows), k), dtype=np.int64)
    sim_out = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), block):
        part = torch.from_numpy(rows[start:start + block])
        sims = full[part] @ full.T
        sims[torch.arange(len(part)), part] = -float("inf")  # a title is not its own neighbour
        vals, idx = torch.topk(sims, k, dim=1)
        idx_out[start:start + len(part)] = idx.numpy()
        sim_out[start:start + len(part)] = vals.numpy()
    return idx_out, sim_out


def neighbourhoods(base: np.ndarray, tuned: np.ndarray, k: int = 10, max_rows: int = MAX_ROWS,
                   seed: int = 0) -> Moved:
    """kNN before and after for every title (or a seeded sample of `max_rows` of them)."""
    n = len(base)
    if n < 3:
        raise ValueError("need at least 3 titles to compare neighbourhoods")
    rows = np.arange(n) if n <= max_rows else np.sort(
        np.random.default_rng(seed).choice(n, max_rows, replace=False))
    b_idx, b_sim = knn(base, rows, k)
    t_idx, t_sim = knn(tuned, rows, k)
    kk = b_idx.shape[1]
    overlap = np.array([len(set(a) & set(b)) for a, b in zip(b_idx.tolist(), t_idx.tolist())],
                       dtype=np.float32) / kk
    return Moved(rows, b_idx, b_sim, t_idx, t_sim, overlap, kk, n)


def most_changed(moved: Moved, titles: list[str], top: int = 20, show: int = 5) -> pd.DataFrame:
    """The titles whose neighbourhoods changed most, with their first neighbours before/after.

    Ties (many titles lose all neighbours) are broken by how far the first neighbour's
    similarity moved, so the table is stable and the most striking come first.
    """
    drift = np.abs(moved.base_sim[:, 0] - moved.tuned_sim[:, 0])
    order = np.lexsort((-drift, moved.overlap))[:top]
    sep = " · "
    return pd.DataFrame({
        "title": [titles[moved.rows[i]] for i in order],
        "overlap": [float(moved.overlap[i]) for i in order],
        "before": [sep.join(titles[j] for j in moved.base_idx[i, :show]) for i in order],
        "after": [sep.join(titles[j] for j in moved.tuned_idx[i, :show]) for i in order],
    })


@dataclass
class Duplicates:
    """Likely duplicates only one model finds, with each model's threshold."""

    tuned_only: pd.DataFrame
    base_only: pd.DataFrame
    threshold_base: float
    threshold_tuned: float
    n_base: int
    n_tuned: int


def likely_duplicates(moved: Moved, titles: list[str], base: np.ndarray, tuned: np.ndarray,
                      share: float = 0.05, top: int = 20) -> Duplicates:
    """Nearest-neighbour pairs above each model's threshold that the other model leaves below its own.

    Why a threshold per model, set at the same share of each model's closest pairs: e5 cosines
    crowd into 0.7–1.0 and an adapter shifts the whole scale, so one cosine cut would simply
    favour whichever model runs hotter. Comparing the top `share` of each model's
    nearest-neighbour pairs asks which pairs each model considers MOST alike.
    """
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    thr_b = float(np.quantile(moved.base_sim[:, 0], 1.0 - share))
    thr_t = float(np.quantile(moved.tuned_sim[:, 0], 1.0 - share))

    def flagged(idx: np.ndarray, sim: np.ndarray, thr: float) -> set[tuple[int, int]]:
        keep = sim[:, 0] >= thr
        return {(min(a, b), max(a, b)) for a, b in zip(moved.rows[keep].tolist(), idx[keep, 0].tolist())}

    by_base, by_tuned = flagged(moved.base_idx, moved.base_sim, thr_b), flagged(moved.tuned_idx, moved.tuned_sim, thr_t)

    def table(pairs: set[tuple[int, int]], keep_emb: np.ndarray, keep_thr: float,
              other_emb: np.ndarray, other_thr: float) -> pd.DataFrame:
        rows = []
        for a, b in pairs:
            mine, other = float(keep_emb[a] @ keep_emb[b]), float(other_emb[a] @ other_emb[b])
            if other < other_thr:
                rows.append((titles[a], titles[b], mine, other, (mine - keep_thr) + (other_thr - other)))
        frame = pd.DataFrame(rows, columns=["title_a", "title_b", "cos_this", "cos_other", "margin"])
        return frame.sort_values("margin", ascending=False).head(top).drop(columns="margin").reset_index(drop=True)

    tuned_only = table(by_tuned, tuned, thr_t, base, thr_b).rename(
        columns={"cos_this": "tuned", "cos_other": "base"})[["title_a", "title_b", "base", "tuned"]]
    base_only = table(by_base, base, thr_b, tuned, thr_t).rename(
        columns={"cos_this": "base", "cos_other": "tuned"})[["title_a", "title_b", "base", "tuned"]]
    return Duplicates(tuned_only, base_only, thr_b, thr_t, len(by_base), len(by_tuned))


def map_points(tuned: np.ndarray, moved: Moved, titles: list[str], max_points: int = 20_000,
               seed: int = 0) -> pd.DataFrame:
    """2-D coordinates (PCA of the adapter's vectors) of the analysed titles, with their change.

    PCA, not UMAP/t-SNE: deterministic, seconds at 100,000 rows, no extra dependency; the
    colour (neighbourhood change) carries the finding, the layout only places it.
    """
    from sklearn.decomposition import PCA

    keep = np.arange(len(moved.rows))
    if len(keep) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(keep), max_points, replace=False))
    rows = moved.rows[keep]
    xy = PCA(n_components=2, random_state=seed).fit_transform(tuned[rows])
    return pd.DataFrame({"row": rows, "x": xy[:, 0], "y": xy[:, 1], "change": moved.change[keep],
                         "title": [titles[i] for i in rows]})
