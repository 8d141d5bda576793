"""A catalog embedded under the base and under base + adapter at one strength.

Why base and tuned are kept apart: the base vectors do not depend on the adapter or the
strength, so moving the strength dial or picking another adapter re-embeds only the tuned
side (half the work), and a second search costs one query encode and two mat-vecs.

Speed: titles are sorted by length once for the whole catalog, so every batch is nearly free
of padding (the same trick as `tuning.model.embed`), and on CPUs with native bf16
(`basics.native_bf16`) the matmuls run under bf16 autocast like training does; vectors stay
float32, L2-normalised. Progress is reported per chunk and a cancel event is checked between
chunks, so a 100,000-title run stops within one chunk.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from comparison.basics import LensError, native_bf16, precision
from comparison.embeddings import DualEncoder

MAX_TITLES = 100_000
CHUNK = 256  # titles per progress/cancel step (8 encoder batches of 32)

IndexProgress = Callable[[int, int, float], None]
"""(titles done, titles total, seconds elapsed) after each chunk."""


class CatalogError(LensError):
    """A catalog request the user has to change (too many titles, nothing indexed yet…)."""


class IndexCancelled(LensError):
    """The user pressed Cancel; nothing was kept."""


@dataclass
class CatalogIndex:
    """Titles with their base and (optionally) tuned vectors, rows aligned with `titles`."""

    titles: list[str]
    base: np.ndarray
    tuned: np.ndarray | None = None
    adapter: str | None = None
    scale: float = 1.0
    prefix: str = "query: "
    bf16: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.titles)

    @property
    def nbytes(self) -> int:
        """Bytes held by the vectors (what "memory per 100,000 titles" counts)."""
        return int(self.base.nbytes + (0 if self.tuned is None else self.tuned.nbytes))

    def summary(self) -> dict[str, object]:
        """JSON-able facts for the API and the status line."""
        return {"n_titles": self.n, "seconds": round(sum(self.seconds.values()), 2),
                "seconds_base": round(self.seconds.get("base", 0.0), 2),
                "seconds_tuned": round(self.seconds.get("tuned", 0.0), 2),
                "adapter": self.adapter, "scale": self.scale, "dim": int(self.base.shape[1]),
                "memory_mb": round(self.nbytes / 2**20, 1), "bf16": self.bf16}


def check_titles(titles: list[str]) -> None:
    if not titles:
        raise CatalogError("The catalog has no titles.", "catalog_empty")
    if len(titles) > MAX_TITLES:
        raise CatalogError(f"The catalog has {len(titles):,} titles; the limit is {MAX_TITLES:,}.",
                           "catalog_too_big", n=len(titles), limit=MAX_TITLES)


def wants_bf16(encoder: DualEncoder, asked: bool | None = None) -> bool:
    """bf16 autocast for this encoder: as asked (None = where the CPU has it natively). Catalog
    passes are `bulk` (run in this thread, past the app's micro-batcher), so autocast applies."""
    return native_bf16() if asked is None else bool(asked)


def embed_sorted(
    encoder: DualEncoder, titles: list[str], prefix: str, adapter: str | None, scale: float,
    both: bool, bf16: bool, progress: IndexProgress | None = None,
    cancel: threading.Event | None = None, done0: int = 0, total: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(first, second) vectors of `titles`: base and tuned when `both`, else the one pass
    (`adapter` None = base). Chunks run in length order; rows return in input order."""
    n, total = len(titles), total or len(titles)
    order = sorted(range(n), key=lambda i: len(titles[i]))
    first = np.zeros((n, encoder.dim), dtype=np.float32)
    second = np.zeros((n, encoder.dim), dtype=np.float32) if both else None
    start_t = time.perf_counter()
    for start in range(0, n, CHUNK):
        if cancel is not None and cancel.is_set():
            raise IndexCancelled("Indexing was cancelled.", "catalog_cancelled")
        rows = order[start:start + CHUNK]
        chunk = [titles[i] for i in rows]
        with precision(bf16):
            if both:
                a, b = encoder.embed_both(chunk, prefix, adapter, scale, bulk=True)
                first[rows], second[rows] = a, b  # type: ignore[index]
            else:
                first[rows] = encoder.embed(chunk, prefix, adapter, scale, bulk=True)
        if progress is not None:
            progress(done0 + start + len(rows), total, time.perf_counter() - start_t)
    return first, second


def build_index(
    encoder: DualEncoder, titles: list[str], adapter: str | None, scale: float = 1.0,
    prefix: str = "query: ", progress: IndexProgress | None = None,
    cancel: threading.Event | None = None, base: np.ndarray | None = None,
    bf16: bool | None = None,
) -> CatalogIndex:
    """Embed `titles` under the base (unless `base` vectors are given) and under `adapter`.

    `bf16=None` follows the machine (`native_bf16`). Raises IndexCancelled when `cancel` is
    set; a partial index is never returned.
    """
    check_titles(titles)
    use_bf16 = wants_bf16(encoder, bf16)
    seconds: dict[str, float] = {}
    passes = (0 if base is not None else 1) + (1 if adapter is not None else 0)
    total = len(titles) * max(passes, 1)
    t0 = time.perf_counter()
    tuned = None
    if base is None and adapter is not None:
        # one tokenisation, two forwards per batch (DualEncoder.embed_both)
        wrapped = None if progress is None else (lambda d, _tot, s: progress(2 * d, total, s))
        base, tuned = embed_sorted(encoder, titles, prefix, adapter, scale, True, use_bf16,
                                   wrapped, cancel, 0, len(titles))
        seconds["base"] = seconds["tuned"] = (time.perf_counter() - t0) / 2
    elif base is None:
        base, _ = embed_sorted(encoder, titles, prefix, None, scale, False, use_bf16,
                               progress, cancel, 0, total)
        seconds["base"] = time.perf_counter() - t0
    elif adapter is not None:
        if base.shape != (len(titles), encoder.dim):
            raise ValueError("cached base vectors do not match the titles")
        tuned, _ = embed_sorted(encoder, titles, prefix, adapter, scale, False, use_bf16,
                                progress, cancel, 0, total)
        seconds["tuned"] = time.perf_counter() - t0
    return CatalogIndex(list(titles), base, tuned, adapter, float(scale), prefix, use_bf16, seconds)


def embed_query(encoder: DualEncoder, index: CatalogIndex, query: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The query's (base, tuned) vectors, made exactly like the catalog's (prefix, strength,
    precision), so a title searched for itself scores 1.0 under both."""
    with precision(index.bf16):
        if index.adapter is None:
            return encoder.embed([query], index.prefix, None, bulk=True)[0], None
        base, tuned = encoder.embed_both([query], index.prefix, index.adapter, index.scale, bulk=True)
    return base[0], tuned[0]
