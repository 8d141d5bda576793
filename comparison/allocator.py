"""glibc malloc settings that keep a long-running app's resident memory flat.

Why: the app's Python objects do not grow per call (tests/test_memory_soak.py checks), yet
its RSS crept ~0.1 MB per call under a soak (tests/load/soak.py). The memory was glibc's:
every worker thread that runs a forward pass gets its own malloc arena (up to 8 per core),
freed tensor buffers stay in those arenas, and glibc's dynamic mmap threshold climbs after
the first large free, so later large buffers come from the arenas and fragment them instead
of being mmapped and returned. Bounding the arenas, fixing the mmap threshold and trimming
the arenas now and then gives the memory back to the system. The thresholds sit above the
size of a forward pass's buffers: glibc's own 128 kB default (which any explicit setting
brings back) and a 1 MB threshold both mmapped every activation and slowed passes by 40%.

All of this is done from the running process (`mallopt` / `malloc_trim` through ctypes), so
`python app.py` on a Space gets it without an environment variable set before start-up:
`mallopt(M_ARENA_MAX)` applies to arenas created after the call, which is why app.py calls
:func:`tune_malloc` before importing torch or gradio (no worker thread exists yet).
``LORA_LENS_MALLOC=off`` leaves glibc alone (to measure the difference); anything but glibc
(musl, macOS) is left alone too.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
import time
from dataclasses import dataclass

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


@dataclass(frozen=True)
class MallocSettings:
    """What :func:`tune_malloc` applies; 0 leaves that knob at glibc's default."""

    arena_max: int = 2  # arenas in all; glibc's default is 8 per core
    # Fixed (so it does not climb), but above a forward pass's activations: with 1 MB / 4 MB
    # here every activation buffer was mmapped and faulted in anew and e5 passes ran ~40%
    # slower (`LORA_LENS_MALLOC=mmap_threshold=1048576,trim_threshold=4194304 python -m
    # comparison.bench_similarity` against the defaults); 32 MB / 64 MB cost nothing there.
    mmap_threshold: int = 32 << 20  # blocks of 32 MB and more are mmapped, freed at once
    trim_threshold: int = 64 << 20  # free memory above this at a heap's top goes back at free()
    trim_every_s: float = 30.0  # malloc_trim(0) this often (0: never)

    def __post_init__(self) -> None:
        for name in ("arena_max", "mmap_threshold", "trim_threshold", "trim_every_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None where there is no glibc `mallopt` (musl, macOS, Windows).

    Looked up once: `find_library` runs ``ldconfig -p`` and reads its ~45 KB listing, which
    the trimmer thread did every 30 s (a fork of a multi-GB process each time, and a CI leak
    check once caught that listing in flight as 45.6 KB held "per session")."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # only glibc has it; other libcs' mallopt differ
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):
        return None


_trimmer: threading.Thread | None = None


def trim() -> bool:
    """Give glibc's free arena memory back to the system now; True if some was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def _trim_forever(every_s: float) -> None:
    while True:
        time.sleep(every_s)
        trim()


def settings_from_env(value: str | None = None) -> MallocSettings | None:
    """``LORA_LENS_MALLOC``: empty = the defaults, ``off`` = None, or ``key=value,...`` over
    the defaults (e.g. ``arena_max=0,trim_every_s=0`` to measure one knob alone)."""
    value = (os.environ.get("LORA_LENS_MALLOC", "") if value is None else value).strip()
    if value.lower() == "off":
        return None
    fields: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        key, _, num = item.partition("=")
        if key not in MallocSettings.__dataclass_fields__:
            raise ValueError(f"LORA_LENS_MALLOC: unknown setting {key!r}")
        fields[key] = float(num) if key == "trim_every_s" else int(num)
    return MallocSettings(**fields)  # type: ignore[arg-type]


def tune_malloc(settings: MallocSettings | None = None) -> dict[str, object]:
    """Apply `settings` (else those of ``LORA_LENS_MALLOC``) once; returns what was done.

    Call it before torch and gradio start threads: arenas already handed to a thread keep
    their place, and ``M_ARENA_MAX`` only bounds the arenas created afterwards.
    """
    global _trimmer
    s = settings or settings_from_env()
    if s is None:
        return {"applied": False, "why": "LORA_LENS_MALLOC=off"}
    libc = _libc()
    if libc is None:
        return {"applied": False, "why": "not glibc"}
    done: dict[str, object] = {"applied": True}
    for key, param, value in (("arena_max", M_ARENA_MAX, s.arena_max),
                              ("mmap_threshold", M_MMAP_THRESHOLD, s.mmap_threshold),
                              ("trim_threshold", M_TRIM_THRESHOLD, s.trim_threshold)):
        if value:
            done[key] = value if libc.mallopt(param, int(value)) == 1 else "refused"
    if s.trim_every_s and _trimmer is None:
        _trimmer = threading.Thread(target=_trim_forever, args=(s.trim_every_s,), daemon=True,
                                    name="malloc-trim")
        _trimmer.start()
        done["trim_every_s"] = s.trim_every_s
    return done
