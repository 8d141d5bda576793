"""Catalogs kept per session, and per (adapter, strength) within a session.

Why a store and not gr.State: a 100,000-title index is ~300 MB of vectors; gr.State would
deep-copy it on every event. The store keeps one catalog (titles + base vectors) per session
and a few tuned variants of it (LRU), so a second search, or going back to a strength tried
before, costs nothing. Sessions never see each other's catalogs; a closed session's catalog
is dropped with its files.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from comparison.catalog.index import CatalogError, CatalogIndex

MAX_VARIANTS = 3  # tuned vectors kept per session: (adapter, strength) pairs


def variant_key(adapter: str | None, scale: float) -> tuple[str | None, float]:
    return adapter, round(float(scale), 4)


@dataclass
class SessionCatalog:
    """One session's catalog: its titles, base vectors and tuned variants."""

    titles: list[str]
    base: np.ndarray
    prefix: str
    bf16: bool
    source: str = ""
    variants: OrderedDict[tuple[str | None, float], CatalogIndex] = field(default_factory=OrderedDict)


class CatalogStore:
    """Thread-safe per-session catalogs (module-level state is shared by all users: the key
    is the session, checked by the caller with `comparison.runtime.check_session`)."""

    def __init__(self, max_variants: int = MAX_VARIANTS) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionCatalog] = {}
        self._cancels: dict[str, threading.Event] = {}
        self.max_variants = max_variants

    def cancel_event(self, session: str) -> threading.Event:
        """The session's cancel flag (cleared by `start`, set by the Cancel button)."""
        with self._lock:
            return self._cancels.setdefault(session, threading.Event())

    def start(self, session: str) -> threading.Event:
        event = self.cancel_event(session)
        event.clear()
        return event

    def cancel(self, session: str) -> None:
        self.cancel_event(session).set()

    def base_for(self, session: str, titles: list[str], prefix: str, bf16: bool) -> np.ndarray | None:
        """Cached base vectors when the session already indexed exactly these titles."""
        with self._lock:
            cat = self._sessions.get(session)
        if cat is not None and cat.prefix == prefix and cat.bf16 == bf16 and cat.titles == titles:
            return cat.base
        return None

    def put(self, session: str, index: CatalogIndex, source: str = "") -> None:
        """Keep `index` as the session's current variant; a new title list replaces the old."""
        with self._lock:
            cat = self._sessions.get(session)
            if cat is None or cat.titles != index.titles or cat.prefix != index.prefix:
                cat = SessionCatalog(index.titles, index.base, index.prefix, index.bf16, source)
                self._sessions[session] = cat
            key = variant_key(index.adapter, index.scale)
            cat.variants[key] = index
            cat.variants.move_to_end(key)
            while len(cat.variants) > self.max_variants:
                cat.variants.popitem(last=False)

    def get(self, session: str, adapter: str | None = None, scale: float | None = None) -> CatalogIndex:
        """The variant for (adapter, strength), or the latest one when `scale` is None."""
        with self._lock:
            cat = self._sessions.get(session)
            if cat is None or not cat.variants:
                raise CatalogError("No catalog is indexed in this session yet.", "catalog_none")
            if scale is None:
                return next(reversed(cat.variants.values()))
            found = cat.variants.get(variant_key(adapter, scale))
            if found is None:
                raise CatalogError("The catalog is not indexed for this adapter and strength yet.",
                                   "catalog_stale")
            cat.variants.move_to_end(variant_key(adapter, scale))
            return found

    def has(self, session: str, adapter: str | None, scale: float) -> bool:
        with self._lock:
            cat = self._sessions.get(session)
            return cat is not None and variant_key(adapter, scale) in cat.variants

    def source(self, session: str) -> str:
        with self._lock:
            cat = self._sessions.get(session)
            return "" if cat is None else cat.source

    def drop_session(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
            self._cancels.pop(session, None)
