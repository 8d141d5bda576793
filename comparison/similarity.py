"""Cosine similarities under the base and the adapted encoder, as plain data.

These functions are what the Similarity tab shows: pair scores, the three similarity
matrices (base, tuned, difference), a 2-D map of how each text's vector moved, and the
seed report's summary numbers. Inputs are checked here (`InputError`: an English message
plus a code the UI words in the user's language).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from comparison.basics import DEFAULT_PREFIX, InputError, clean_text, parse_prefix
from comparison.embeddings import DualEncoder
from comparison.matching import PairTally, judge_pairs, list_retrieval, tally

MAX_LIST = 200
MAX_PAIRS = 100
MAX_CHARS = 1000


def check_texts(texts: list[str], max_texts: int = MAX_LIST, what: str = "text") -> list[str]:
    """Cleaned texts, or InputError if there are none, too many, or one is empty or too long."""
    if not texts:
        raise InputError("enter at least one text", "no_texts")
    if len(texts) > max_texts:
        raise InputError(f"at most {max_texts} texts, got {len(texts)}", "too_many", limit=max_texts,
                         n=len(texts))
    cleaned = []
    for i, text in enumerate(texts, 1):
        if not isinstance(text, str):
            raise InputError(f"{what} {i} is not text", "not_text", i=i)
        text = clean_text(text)
        if not text:
            raise InputError(f"{what} {i} is empty", "empty_text", i=i)
        if len(text) > MAX_CHARS:
            raise InputError(f"{what} {i} is longer than {MAX_CHARS} characters", "too_long", i=i,
                             limit=MAX_CHARS)
        cleaned.append(text)
    return cleaned


def score_pairs(
    enc: DualEncoder, pairs: list[tuple[str, str]], prefix: str = DEFAULT_PREFIX, adapter: str | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Cosine of each pair under base and tuned (adapter at strength `scale`);
    columns text_a, text_b, base, tuned, delta."""
    if not pairs:
        raise InputError("enter at least one pair of texts", "no_pairs")
    if len(pairs) > MAX_PAIRS:
        raise InputError(f"at most {MAX_PAIRS} pairs, got {len(pairs)}", "too_many_pairs",
                         limit=MAX_PAIRS, n=len(pairs))
    for i, pair in enumerate(pairs, 1):
        if len(pair) != 2:
            raise InputError(f"pair {i} must hold exactly two texts", "pair_shape", i=i)
    prefix = parse_prefix(prefix)
    a = check_texts([p[0] for p in pairs], MAX_PAIRS, "first text of pair")
    b = check_texts([p[1] for p in pairs], MAX_PAIRS, "second text of pair")
    base, tuned = enc.embed_both(a + b, prefix, adapter, scale)  # one request: both passes
    n = len(pairs)
    base_cos = np.sum(base[:n] * base[n:], axis=1)
    if adapter is None:
        tuned_cos = np.full(n, np.nan, dtype=np.float32)
    else:
        tuned_cos = np.sum(tuned[:n] * tuned[n:], axis=1)
    return pd.DataFrame({
        "text_a": a, "text_b": b, "base": base_cos.astype(float),
        "tuned": tuned_cos.astype(float), "delta": (tuned_cos - base_cos).astype(float),
    })


@dataclass
class PairReport:
    """The pairs view: scores plus `same` / `right_way` per row, and how many moved the right way."""

    frame: pd.DataFrame
    tally: PairTally


def compare_pairs(enc: DualEncoder, pairs: list[tuple[str, str]], same: list[object] | None = None,
                  prefix: str = DEFAULT_PREFIX, adapter: str | None = None,
                  scale: float = 1.0) -> PairReport:
    """The pairs view's one entry point: `score_pairs`, judged against optional "same product?"
    labels (a same-product pair should move up, a different-product pair down)."""
    judged = judge_pairs(score_pairs(enc, pairs, prefix, adapter, scale), list(same or []))
    return PairReport(judged, tally(judged))


@dataclass
class SimilarityMatrices:
    """Cosine matrices of a list of texts; tuned and delta are None without an adapter."""

    texts: list[str]
    categories: list[str] | None
    base: np.ndarray
    tuned: np.ndarray | None
    delta: np.ndarray | None
    emb_base: np.ndarray
    emb_tuned: np.ndarray | None

    def __post_init__(self) -> None:
        n = len(self.texts)
        if self.base.shape != (n, n):
            raise ValueError(f"base: expected shape {(n, n)}, got {self.base.shape}")
        if self.categories is not None and len(self.categories) != n:
            raise ValueError("categories: need one per text")
        if (self.tuned is None) != (self.emb_tuned is None) or (self.tuned is None) != (self.delta is None):
            raise ValueError("tuned: tuned, delta and emb_tuned must all be given or all be None")


def _cosine_matrix(emb: np.ndarray) -> np.ndarray:
    """Pairwise cosines of unit vectors, exactly symmetric with a unit diagonal."""
    sim = emb @ emb.T
    sim = (sim + sim.T) / 2
    np.fill_diagonal(sim, 1.0)
    return np.clip(sim, -1.0, 1.0).astype(np.float32)


def similarity_matrices(
    enc: DualEncoder, texts: list[str], prefix: str = DEFAULT_PREFIX, adapter: str | None = None,
    categories: list[str] | None = None, scale: float = 1.0,
) -> SimilarityMatrices:
    """Base, tuned and difference matrices for 2..MAX_LIST texts (optional categories)."""
    if len(texts) < 2:
        raise InputError("enter at least two texts, one per line", "few_texts")
    if len(texts) > MAX_LIST:
        raise InputError(f"at most {MAX_LIST} texts, got {len(texts)}", "too_many", limit=MAX_LIST,
                         n=len(texts))
    if categories is not None:
        if len(categories) != len(texts):
            raise InputError("give one category per text, or none at all", "categories")
        categories = [clean_text(c) if isinstance(c, str) else "" for c in categories]
    prefix = parse_prefix(prefix)
    cleaned = check_texts(list(texts), MAX_LIST, "text")
    emb_base, emb_tuned = enc.embed_both(cleaned, prefix, adapter, scale)
    base = _cosine_matrix(emb_base)
    tuned = delta = None
    if adapter is None:
        emb_tuned = None
    else:
        tuned = _cosine_matrix(emb_tuned)
        delta = (tuned - base).astype(np.float32)
    return SimilarityMatrices(cleaned, categories, base, tuned, delta, emb_base, emb_tuned)


def project_2d(m: SimilarityMatrices) -> pd.DataFrame:
    """Base and tuned vectors in ONE 2-D PCA frame, so a drawn arrow is a real move.

    Fitting PCA on the stacked base+tuned vectors (not on each set alone) keeps the two
    point clouds comparable; separate fits could flip or rotate one of them.
    """
    from sklearn.decomposition import PCA

    n = len(m.texts)
    stacked = m.emb_base if m.emb_tuned is None else np.vstack([m.emb_base, m.emb_tuned])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        coords = PCA(n_components=2, svd_solver="full").fit_transform(stacked.astype(np.float64))
    coords = np.nan_to_num(coords)
    tuned = coords[n:] if m.emb_tuned is not None else np.full((n, 2), np.nan)
    return pd.DataFrame({
        "text": m.texts,
        "category": m.categories if m.categories is not None else [""] * n,
        "x_base": coords[:n, 0], "y_base": coords[:n, 1],
        "x_tuned": tuned[:, 0], "y_tuned": tuned[:, 1],
    })


def _pair_means(sim: np.ndarray, categories: list[str] | None) -> dict[str, float]:
    """Mean cosine over distinct pairs: all, within a category, between categories."""
    iu = np.triu_indices(sim.shape[0], k=1)
    values = sim[iu].astype(np.float64)
    out = {"mean": float(values.mean()) if values.size else float("nan")}
    if categories is not None:
        cats = np.asarray(categories, dtype=object)
        labelled = (cats[iu[0]] != "") & (cats[iu[1]] != "")
        same = cats[iu[0]] == cats[iu[1]]
        within = values[labelled & same]
        between = values[labelled & ~same]
        out["within"] = float(within.mean()) if within.size else float("nan")
        out["between"] = float(between.mean()) if between.size else float("nan")
    return out


def summary(m: SimilarityMatrices) -> dict[str, float | int]:
    """The seed report's metric (mean cosine over all distinct pairs), base vs tuned.

    Keys: n_texts, n_pairs, mean_cosine_base, mean_cosine_tuned, mean_cosine_delta; with categories also
    within_base, within_tuned, between_base, between_tuned (texts with an empty
    category are left out of these two). Values are NaN where they cannot be computed.
    """
    n = len(m.texts)
    base = _pair_means(m.base, m.categories)
    nan = float("nan")
    tuned = _pair_means(m.tuned, m.categories) if m.tuned is not None else dict.fromkeys(base, nan)
    out: dict[str, float | int] = {"n_texts": n, "n_pairs": n * (n - 1) // 2}
    for key in base:
        name = "mean_cosine" if key == "mean" else key
        out[f"{name}_base"] = base[key]
        out[f"{name}_tuned"] = tuned[key]
        if key == "mean":
            out["mean_cosine_delta"] = tuned[key] - base[key]
    return out


@dataclass
class ListReport:
    """Everything the list view shows: matrices, the report's summary, the 2-D map."""

    matrices: SimilarityMatrices
    summary: dict[str, float | int]
    points: pd.DataFrame
    retrieval: pd.DataFrame | None = None
    """Base vs tuned Recall@1 / MRR / AUC of finding a same-category text (None: no groups)."""


def compare_list(enc: DualEncoder, texts: list[str], prefix: str = DEFAULT_PREFIX,
                 adapter: str | None = None, categories: list[str] | None = None,
                 scale: float = 1.0) -> ListReport:
    """The list view's one entry point: matrices, summary, map and (with categories)
    retrieval of 2..MAX_LIST texts, the adapter at strength `scale`."""
    m = similarity_matrices(enc, texts, prefix, adapter, categories, scale)
    return ListReport(m, summary(m), project_2d(m), list_retrieval(m.emb_base, m.emb_tuned, m.categories))
