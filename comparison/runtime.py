"""The one shared similarity model of a running app, loaded lazily and exactly once.

Why a service object: a Space has 16 GB and two cores, so every user shares ONE base
encoder (with all adapters attached to it); loading must happen once even when the first
requests arrive together, and a failed load must be reported to every caller instead of
being retried by each of them in a loop. Session-owned adapters are named
``"<session>/<label>"`` so that one user's list never shows another user's adapters.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from comparison.adapters import AdapterInfo, default_adapter
from comparison.base_encoder import BaseSource, resolve_base
from comparison.basics import Progress, parse_prefix
from comparison.embeddings import DualEncoder

DEFAULT_ADAPTER = "default"
# Gradio's browser client sends 11 base-36 characters, gradio_client a uuid4; anything else
# ("..", "a/b", "") is a hand-made request and must never become part of a path or a name.
SESSION_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SessionError(ValueError):
    """A session id that could escape its folder or impersonate another session's prefix."""


def check_session(session: str) -> str:
    """`session` unchanged if it is a plain id, else SessionError (it comes from the client)."""
    if not isinstance(session, str) or not SESSION_RE.fullmatch(session):
        raise SessionError("This session id is not valid; reload the page.")
    return session


def session_dir(root: Path, session: str) -> Path:
    """The session's private folder under `root` (created), never a path outside it."""
    d = Path(root) / check_session(session)
    d.mkdir(parents=True, exist_ok=True)
    return d


def sweep_sessions(root: Path, max_age_s: float = 86_400.0) -> int:
    """Delete session folders untouched for `max_age_s` (API clients never send 'unload').

    Returns how many were removed; a folder in use is touched on every request, so only
    abandoned ones go.
    """
    import shutil
    import time

    if not Path(root).is_dir():
        return 0
    cutoff, removed = time.time() - max_age_s, 0
    for d in Path(root).iterdir():
        if d.is_dir() and not d.is_symlink() and d.stat().st_mtime < cutoff:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    return removed


@dataclass(frozen=True)
class ModelStatus:
    """What the UI shows about the models in use: always say where the weights came from."""

    base_label: str
    adapter_label: str
    loaded: bool


def _adapter_from_env() -> tuple[str, str] | None:
    """LORA_LENS_ADAPTER=<dir or Hub id> picks the default adapter; "none" runs base only."""
    value = os.environ["LORA_LENS_ADAPTER"].strip()
    if value.lower() in ("", "none"):
        return None
    return value, f"{value} (LORA_LENS_ADAPTER)"


class EncoderService:
    """Lazily builds the shared :class:`DualEncoder` plus the default adapter."""

    def __init__(self, base_spec: str | None = None) -> None:
        self._base_spec = base_spec
        self._lock = threading.Lock()
        self._encoder: DualEncoder | None = None
        self._default_label = "none"

    def get(self, progress: Progress | None = None) -> DualEncoder:
        """Return the shared encoder, loading base and default adapter on first call."""
        if self._encoder is not None:
            return self._encoder
        with self._lock:
            if self._encoder is None:
                base: BaseSource = resolve_base(self._base_spec, progress=progress)
                if progress:
                    progress(0.9, f"loading {base.label}")
                encoder = DualEncoder(base)
                found = _adapter_from_env() if "LORA_LENS_ADAPTER" in os.environ else default_adapter()
                if found is not None:
                    path, label = found
                    encoder.add_adapter(DEFAULT_ADAPTER, path, label)
                    self._default_label = label
                self._encoder = encoder
        return self._encoder

    def status(self) -> ModelStatus:
        """Labels for the header, without forcing a load."""
        enc = self._encoder
        if enc is None:
            return ModelStatus("not loaded yet", "not loaded yet", False)
        return ModelStatus(enc.base.label, self._default_label, True)

    def adapter_choices(self, session: str) -> list[tuple[str, str]]:
        """(label, name) pairs this session may use: the default plus its own adapters."""
        enc = self._encoder
        if enc is None:
            return []
        own = f"{session}/"
        return [
            (info.label, name)
            for name, info in enc.adapters.items()
            if name == DEFAULT_ADAPTER or name.startswith(own)
        ]

    def add_session_adapter(self, session: str, label: str, path: Path) -> tuple[str, AdapterInfo]:
        """Attach an adapter that only `session` will see; returns its internal name."""
        enc = self.get()
        name = f"{check_session(session)}/{label}"
        return name, enc.add_adapter(name, str(path), label)

    def drop_session(self, session: str) -> None:
        """Forget every adapter of a session that ended (its files are deleted elsewhere)."""
        enc = self._encoder
        if enc is None or not SESSION_RE.fullmatch(str(session)):
            return
        for name in [n for n in enc.adapters if n.startswith(f"{session}/")]:
            enc.remove_adapter(name)

    def can_use(self, session: str, name: str | None) -> bool:
        """True when `name` is the default adapter or one of the session's own."""
        return name in (None, "", DEFAULT_ADAPTER) or str(name).startswith(f"{session}/")


class ExplorerService:
    """Lazily loads the ONE explorer model (+ adapter) shared by all users of the app.

    Model and adapter come from LORA_LENS_LM / LORA_LENS_LM_ADAPTER (Hub id or folder) or
    the defaults: Qwen2.5-VL-3B-Instruct when the Hub is reachable, else the offline
    Gemma 3 270M with the demo adapter shipped in examples/.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._explorer = None

    def get(self, progress: Progress | None = None):
        """The shared :class:`comparison.explorer.Explorer`, loaded on first use."""
        if self._explorer is not None:
            return self._explorer
        with self._lock:
            if self._explorer is None:
                from comparison.explorer import load_explorer

                self._explorer = load_explorer(os.environ.get("LORA_LENS_LM") or None,
                                               os.environ.get("LORA_LENS_LM_ADAPTER") or None,
                                               progress=progress)
        return self._explorer

    @property
    def loaded(self) -> bool:
        return self._explorer is not None
