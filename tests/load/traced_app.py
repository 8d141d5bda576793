"""`python app.py` with a memory log: where does a long-running app's memory go?

Why: RSS alone cannot tell Python objects that pile up (a growing dict, a cache) from the
C allocator keeping freed memory (glibc arenas under many threads). This runs app.py
unchanged; from SIGUSR1 on (the soak sends it after its warm-up calls) it traces Python
allocations with tracemalloc and every ``LORA_LENS_MEMTRACE_EVERY`` seconds, it appends one
JSON line to ``LORA_LENS_MEMTRACE``: RSS, memory traced by Python, glibc's own count
(mallinfo2: in use vs. kept free in its arenas) and the 12 allocation sites that grew most
since the first sample. Used by ``python -m tests.load.soak --trace FILE``.
"""
from __future__ import annotations

import ctypes
import json
import os
import runpy
import signal
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def glibc_heap() -> dict[str, float] | None:
    """glibc's heap in MB: `in_use` by malloc callers, `free_kept` in its arenas, `mmapped`."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    m = libc.mallinfo2()
    mb = 2**20
    return {"arena_mb": round(m.arena / mb, 1), "in_use_mb": round(m.uordblks / mb, 1),
            "free_kept_mb": round(m.fordblks / mb, 1), "mmapped_mb": round(m.hblkhd / mb, 1)}


def _watch(path: Path, every: float, warm: threading.Event) -> None:
    warm.wait()
    # Tracing only from here: what was allocated after warm-up and is still alive is the leak,
    # and tracing the imports and model loading would slow the start-up several times.
    tracemalloc.start(int(os.environ.get("LORA_LENS_MEMTRACE_FRAMES", "12")))
    first = tracemalloc.take_snapshot()
    proc = psutil.Process()
    t0 = time.monotonic()
    while True:
        snap = tracemalloc.take_snapshot()
        top = snap.compare_to(first, "traceback")[:12]
        line = {
            "t": round(time.monotonic() - t0, 1), "rss_mb": round(proc.memory_info().rss / 2**20, 1),
            "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 2),
            "threads": proc.num_threads(), "glibc": glibc_heap(),
            "top": [{"kb": round(s.size_diff / 1024, 1), "count": s.count_diff,
                     "where": [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}"
                               for f in s.traceback[-6:]]} for s in top],
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        del snap, top
        time.sleep(every)


def main() -> None:
    out = Path(os.environ["LORA_LENS_MEMTRACE"])
    warm = threading.Event()  # set by SIGUSR1: the soak sends it when warm-up is over
    signal.signal(signal.SIGUSR1, lambda *_: warm.set())
    threading.Thread(target=_watch, daemon=True, name="memtrace", args=(
        out, float(os.environ.get("LORA_LENS_MEMTRACE_EVERY", "60")), warm)).start()
    sys.path.insert(0, str(ROOT))
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
