"""The shared models of a running app (encoder, explorer LM), each loaded lazily, once.

Why a service object: a Space has 16 GB and two cores, so every user shares ONE model per
tab (with all adapters attached to it); loading must happen once even when the first
requests arrive together. Users' own adapters are attached to the shared model under
names the service makes up (``user1``, ``user2``…) and an ownership table says which
session owns which name: nothing is derived from the session id, so no two sessions can
collide or see each other's adapters, however alike their ids are.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from comparison.adapters import default_adapter
from comparison.base_encoder import BaseSource, resolve_base
from comparison.basics import LensError, Progress, served_bf16
from comparison.defaults import shared_adapters
from comparison.embeddings import DualEncoder
from comparison.memory import guard

DEFAULT_ADAPTER = "default"
# How many similarity requests the app lets run at once: with shared passes many may wait in
# the encoder together (that is what makes batches); otherwise today's queue of 2.
SHARED_CONCURRENCY = 256
BATCH_MODES = ("encoder", "gradio", "off")


def batch_mode() -> str:
    """LORA_LENS_BATCH: "encoder" (default; concurrent requests share passes in the encoder's
    micro-batcher), "gradio" (the API endpoints use gradio's batch=True instead) or "off"/"0"
    (one forward per request — the classroom benchmark's baseline)."""
    value = os.environ.get("LORA_LENS_BATCH", "encoder").strip().lower()
    value = {"1": "encoder", "": "encoder", "0": "off"}.get(value, value)
    if value not in BATCH_MODES:
        raise ValueError(f"LORA_LENS_BATCH: must be one of {BATCH_MODES}, got {value!r}")
    return value


def passes_shared() -> bool:
    """Whether the shared encoder gathers concurrent requests into common passes."""
    return batch_mode() == "encoder"


def similarity_concurrency() -> int:
    """The queue's limit for similarity events: 2 as before, SHARED_CONCURRENCY when batched."""
    return SHARED_CONCURRENCY if passes_shared() else 2


# Gradio's browser client sends 11 base-36 characters, gradio_client a uuid4; anything else
# ("..", "a/b", "") is a hand-made request and must never become part of a path or a name.
SESSION_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SessionError(LensError):
    """A session id that could escape its folder or impersonate another session's prefix."""


def check_session(session: str) -> str:
    """`session` unchanged if it is a plain id, else SessionError (it comes from the client)."""
    if not isinstance(session, str) or not SESSION_RE.fullmatch(session):
        raise SessionError("This session id is not valid; reload the page.", "bad_session")
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


class AdapterHost(Protocol):
    """What a shared model offers the service: named adapters added and removed."""

    def add_adapter(self, name: str, path: Any, label: str) -> Any: ...

    def remove_adapter(self, name: str) -> None: ...


M = TypeVar("M", bound=AdapterHost)


class SharedModel(Generic[M]):
    """ONE model for every user, loaded on first use; users' adapters owned per session."""

    def __init__(self, load: Callable[[Progress | None], M]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._model: M | None = None
        self._owner: dict[str, str] = {}  # adapter name -> owning session
        self._labels: dict[str, str] = {}  # adapter name -> label
        self._counter = itertools.count(1)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self, progress: Progress | None = None) -> M:
        """The shared model; the first caller loads it, concurrent first callers wait."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load(progress)
        return self._model

    def owned(self, session: str) -> list[str]:
        """Names of the adapters `session` attached, oldest first."""
        return [n for n, s in self._owner.items() if s == session]

    def owns(self, session: str, name: str | None) -> bool:
        return name is not None and self._owner.get(str(name)) == session

    def label(self, name: str) -> str:
        return self._labels[name]

    def add_session_adapter(self, session: str, label: str, path: Path,
                            replace: bool = False) -> tuple[str, Any]:
        """Attach an adapter only `session` sees; returns (name, what the model returned).

        The same session adding the same label again replaces that adapter (a re-upload);
        `replace=True` first removes every other adapter of the session (one per user).
        """
        check_session(session)
        model = self.get()
        with self._lock:
            same = [n for n in self.owned(session) if self._labels[n] == label]
            name = same[0] if same and not replace else f"user{next(self._counter)}"
        if replace:
            self.drop_session(session)
        added = model.add_adapter(name, path, label)
        with self._lock:
            self._owner[name], self._labels[name] = session, label
        return name, added

    def drop_session(self, session: str) -> None:
        """Forget every adapter of a session that ended (its files are deleted elsewhere)."""
        if self._model is None:
            return
        for name in self.owned(str(session)):
            self._model.remove_adapter(name)
            with self._lock:
                self._owner.pop(name, None)
                self._labels.pop(name, None)


def _adapter_from_env() -> tuple[str, str] | None:
    """LORA_LENS_ADAPTER=<dir or Hub id> picks the default adapter; "none" runs base only."""
    value = os.environ["LORA_LENS_ADAPTER"].strip()
    if value.lower() in ("", "none"):
        return None
    return value, f"{value} (LORA_LENS_ADAPTER)"


@dataclass(frozen=True)
class ModelStatus:
    """What the UI shows about the models in use: always say where the weights came from."""

    base_label: str
    adapter_label: str
    loaded: bool
    base_kind: str = ""  # "offline", "hub", "local" (BaseSource.kind) for a localised label


class EncoderService(SharedModel[DualEncoder]):
    """The shared :class:`DualEncoder` plus the app-wide default adapter."""

    def __init__(self, base_spec: str | None = None) -> None:
        super().__init__(self._build)
        self._base_spec = base_spec
        self._default_label = "none"

    def _build(self, progress: Progress | None) -> DualEncoder:
        base: BaseSource = resolve_base(self._base_spec, progress=progress)
        guard(base.path, "float32")  # a typed Hub id or folder too big for what is left: refused
        if progress:
            progress(0.9, f"loading {base.label}")
        encoder = DualEncoder(base)
        if passes_shared():
            encoder.share_passes(bf16=served_bf16())
        found = _adapter_from_env() if "LORA_LENS_ADAPTER" in os.environ else default_adapter()
        if found is not None:
            path, label = found
            encoder.add_adapter(DEFAULT_ADAPTER, path, label)
            self._default_label = label
        if "LORA_LENS_ADAPTER" not in os.environ:
            for name, path, label in shared_adapters():
                try:
                    encoder.add_adapter(name, path, label)
                except LensError:  # an extra that does not fit this base is not offered
                    continue
        return encoder

    def default_name(self) -> str | None:
        """The default adapter's name, or None when the app runs the base only."""
        enc = self._model
        return DEFAULT_ADAPTER if enc is not None and DEFAULT_ADAPTER in enc.adapters else None

    def resolve(self, session: str, name: str | None) -> str | None:
        """The adapter a session's request may use: its pick if allowed, else the default."""
        enc = self.get()
        if name and name in enc.adapters and self.can_use(session, name):
            return name
        return self.default_name()

    def status(self, session: str | None = None, picked: str | None = None) -> ModelStatus:
        """Labels for the header (the adapter the session picked), without forcing a load."""
        enc = self._model
        if enc is None:
            return ModelStatus("not loaded yet", "not loaded yet", False)
        name = self.resolve(session, picked) if session is not None else self.default_name()
        label = enc.adapters[name].label if name is not None else "none"
        return ModelStatus(enc.base.label, label, True, enc.base.kind)

    def adapter_choices(self, session: str) -> list[tuple[str, str]]:
        """(label, name) pairs this session may use: the default plus its own adapters."""
        enc = self._model
        if enc is None:
            return []
        default = [(enc.adapters[DEFAULT_ADAPTER].label, DEFAULT_ADAPTER)] if self.default_name() else []
        shared = [(enc.adapters[n].label, n) for n, _, _ in shared_adapters() if n in enc.adapters]
        return default + shared + [(enc.adapters[n].label, n) for n in self.owned(session) if n in enc.adapters]

    def can_use(self, session: str, name: str | None) -> bool:
        """True when `name` is the default adapter or one of the session's own."""
        shared = {n for n, _, _ in shared_adapters()}
        return name in (None, "", DEFAULT_ADAPTER) or name in shared or self.owns(session, name)


def _load_explorer(progress: Progress | None) -> Any:
    from comparison.explorer import load_explorer

    return load_explorer(os.environ.get("LORA_LENS_LM") or None,
                         os.environ.get("LORA_LENS_LM_ADAPTER") or None, progress=progress)


class ExplorerService(SharedModel[Any]):
    """The ONE explorer model (+ adapter) shared by all users; one own adapter per session.

    Model and adapter come from LORA_LENS_LM / LORA_LENS_LM_ADAPTER (Hub id or folder) or
    the default: the offline Gemma 3 270M with the demo adapter shipped in examples/ (the
    report's VLM is only offered, see `comparison.defaults.vlm_offer`).
    """

    def __init__(self) -> None:
        super().__init__(_load_explorer)

    def limits(self) -> Any | None:
        """Layers / heads / is_vlm of the loaded model, or before loading of the model that
        will load (its config.json only); None when that is not known without a download."""
        if self._model is not None:
            return self._model.limits
        from comparison.explorer.core import limits_of
        from comparison.explorer.loading import planned_folder

        folder = planned_folder(os.environ.get("LORA_LENS_LM") or None)
        return limits_of(str(folder)) if folder is not None else None

    def view(self, session: str, progress: Progress | None = None) -> Any:
        """The shared explorer, seen with the session's own adapter when it has one."""
        ex = self.get(progress)
        own = [n for n in self.owned(session) if n in ex.adapters()]
        return ex.view(own[-1]) if own else ex
