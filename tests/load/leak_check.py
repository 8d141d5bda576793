"""CI-sized leak check: Python memory the app keeps per call and per new session.

Why: the soak (tests/load/soak.py) needs real models and ten minutes; this runs the real
app.py Blocks in-process with the tiny local models, makes calls through gradio_client after
a warm-up, and measures with tracemalloc what the server side still holds afterwards:
- per call: three windows of ``--calls`` calls of the soak's mix (9 × /score_pair, 1 ×
  /embed) from 2 sessions, each snapshot taken once the server has settled; the growth
  counted is what grew at the same source line in every window, so a cache or per-event
  record that grows with every call shows up;
- per session: ``--sessions`` new client sessions of one call each (closed afterwards, as a
  tab is), then the app's sweep of idle gradio sessions (ui/sessions.py) with a zero TTL; a
  session that is never given back (~20 kB with lazy component configs) shows up here.
Allocations of the clients themselves (gradio_client, httpx) are left out. The JSON line
last holds KB per call and per session; tests/test_memory_leak.py bounds them (~2 minutes).

    python -m tests.load.leak_check --calls 100 --sessions 4 --warmup 60   # what CI runs
"""
from __future__ import annotations

import argparse
import fnmatch
import gc
import json
import os
import sys
import tempfile
import threading
import time
import traceback
import tracemalloc
from pathlib import Path

WINDOWS = 3
"""Per-call growth counts only what grew at one source line in every window: with two, a CI
run still failed at 0.24 KB per call on lines in flight (as shipped: ~0.1; a real leak: 0.44)."""
CLIENT_SIDE = ("*gradio_client*", "*httpx*", "*httpcore*", "*tracemalloc*", "*leak_check*")


def _server_only(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    """The traces with no client frame (gradio_client, httpx, …) anywhere in their stack.

    Done on the raw traces with one fnmatch per distinct file name: `Snapshot.filter_traces`
    with `all_frames=True` matches every frame of every trace in Python and took minutes."""
    memo: dict[str, bool] = {}

    def client(filename: str) -> bool:
        hit = memo.get(filename)
        if hit is None:
            hit = memo[filename] = any(fnmatch.fnmatch(filename, p) for p in CLIENT_SIDE)
        return hit

    raw = snapshot.traces._traces  # (domain, size, ((filename, lineno), ...), nframe)
    return tracemalloc.Snapshot([t for t in raw if not any(client(f[0]) for f in t[2])], snapshot.traceback_limit)


SETTLE_S = 1.0
"""Wait this long after the last call before a snapshot: a client has its answer before the
server has finished with the event (its history timestamp, the stream's exit stack), and a
CI run caught such lines in flight as 0.24 KB per call."""


def _snapshot() -> tracemalloc.Snapshot:
    time.sleep(SETTLE_S)
    gc.collect()
    return _server_only(tracemalloc.take_snapshot())


def _measure(run) -> tuple[int, tracemalloc.Snapshot, tracemalloc.Snapshot]:
    """Server-side bytes `run` left behind, and the two (server-only) snapshots."""
    before = _snapshot()
    run()
    after = _snapshot()
    size = lambda snap: sum(t[1] for t in snap.traces._traces)  # noqa: E731
    return size(after) - size(before), before, after


def _where(frame: tracemalloc.Frame) -> str:
    return f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"


def _top(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int = 5) -> list[str]:
    stats = after.compare_to(before, "lineno")[:n]
    return [f"{s.size_diff / 1024:+.1f} KB {_where(s.traceback[0])}" for s in stats]


Window = tuple[int, tracemalloc.Snapshot, tracemalloc.Snapshot]  # bytes grown, before, after


def _steady_growth(windows: list[Window]) -> tuple[int, list[str]]:
    """Bytes that grew at the same source line in every window (the least of them), summed.

    Why: a leak grows at its own line in every window, while what is in flight at a snapshot
    (an asyncio handle, a pooled vector, ABC caches) lands on some line in one window and off
    it in the next. Whole-window totals moved by up to ±30 KB per 100 calls that way, and the
    smaller of two totals still failed a CI run at 0.24 KB per call (a real leak here was 0.53)."""
    per_line = [{s.traceback[0]: s.size_diff for s in after.compare_to(before, "lineno")}
                for _, before, after in windows]
    steady = {line: min(w.get(line, 0) for w in per_line) for line in per_line[0]}
    steady = {line: size for line, size in steady.items() if size > 0}
    top = sorted(steady.items(), key=lambda item: -item[1])[:5]
    return sum(steady.values()), [f"{size / 1024:+.1f} KB {_where(line)}" for line, size in top]


def run(calls: int, sessions: int, warmup: int) -> dict:
    from tests.lora_helpers import make_adapter
    from tests.tiny_models import tiny_encoder_dir

    tmp = Path(tempfile.mkdtemp(prefix="lora-lens-leak-"))
    base = tiny_encoder_dir(tmp / "encoder")
    os.environ.update(LORA_LENS_BASE=str(base), LORA_LENS_ADAPTER=str(make_adapter(base, tmp / "adapter")),
                      LORA_LENS_CACHE=str(tmp / "cache"))
    # gradio's record of recent events is bounded (app.py: 500); a smaller bound here lets a
    # short warm-up fill it, so what still grows after it is a leak, not that record filling.
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "20")
    os.environ.setdefault("LORA_LENS_VECTOR_CACHE", "32")  # the encoder's vector LRU: full after warm-up
    # A closed client's heartbeat ends its session (gradio runs the app's unload then, which
    # re-creates a state the sweep already dropped); at the default 15 s that lands inside the
    # next measurement and passes for per-call growth.
    os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "0.5")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import app  # noqa: PLC0415 - the app is built with the environment above
    from gradio_client import Client
    from ui import sessions as ui_sessions
    from ui.sessions import forget_idle_sessions

    _, url, _ = app.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True,
                                state_session_capacity=app.sessions.CAPACITY)
    titles = [t for t in (Path(app.__file__).parent / "examples" / "products_corpus.txt").read_text(
        encoding="utf-8").splitlines() if t.strip()]
    slow = {"timeout": 300}  # a loaded CI machine must not turn into a false failure
    clients = [Client(url, verbose=False, httpx_kwargs=slow) for _ in range(2)]

    def mix(n: int, offset: int) -> None:
        errors: list[BaseException] = []

        def one(c: Client, start: int) -> None:
            try:
                calls_of(c, start)
            except BaseException as exc:  # a failed call must fail the check, not vanish
                errors.append(exc)

        def calls_of(c: Client, start: int) -> None:
            for k in range(n // len(clients)):
                i = start + k
                if k % 10 == 9:
                    batch = [titles[(i + m) % len(titles)] for m in range(50)]
                    c.predict("\n".join(batch), "query: ", 1.0, api_name="/embed")
                else:
                    c.predict(titles[i % len(titles)], titles[(7 * i) % len(titles)], "query: ", 1.0,
                              api_name="/score_pair")
        threads = [threading.Thread(target=one, args=(c, offset + 1000 * j)) for j, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"{len(errors)} session(s) failed") from errors[0]

    def new_sessions() -> None:
        """One call each from new clients that then go away (their heartbeat closes, as a
        closed tab's does: gradio runs the app's unload for it), then the idle sweep."""
        for j in range(sessions):
            one_shot = Client(url, verbose=False, httpx_kwargs=slow)
            one_shot.predict(titles[j], titles[j + 1], "query: ", 1.0, api_name="/score_pair")
            one_shot.close()
        time.sleep(3)  # the server sees the heartbeats end (0.5 s interval) and runs the unloads
        forget_idle_sessions(app.demo, closed_ttl_s=0, idle_ttl_s=0)

    # The two long-lived clients stand for open pages: the zero-TTL sweep below must only
    # drop the one-call sessions, or their recreated state would count as per-call growth.
    for c in clients:
        ui_sessions._open_pages.add(str(c.session_hash))
    tracemalloc.start(25)
    mix(warmup, 0)
    new_sessions()  # the first sessions warm gradio's own caches
    mix(20, 3_000)  # both snapshots then follow the same kind of calls (same objects in flight)
    # Three windows of `calls` each: a leak grows at its line in all (see _steady_growth).
    windows = [_measure(lambda k=k: mix(calls, 5_000 + 2_000 * k)) for k in range(WINDOWS)]
    per_call, top_calls = _steady_growth(windows)
    per_session, b2, a2 = _measure(new_sessions)
    done = calls // len(clients) * len(clients)
    return {"check": "leak", "calls": done, "sessions": sessions, "warmup_calls": warmup,
            "kb_per_call": round(per_call / 1024 / done, 3),
            "kb_per_call_windows": [round(w[0] / 1024 / done, 3) for w in windows],
            "kb_per_session": round(per_session / 1024 / sessions, 2),
            "gradio_sessions_held": len(app.demo.state_holder.session_data),
            "top_calls": top_calls, "top_sessions": _top(b2, a2)}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=150, help="calls first (fills gradio's bounded records)")
    opts = ap.parse_args(argv)
    code = 0
    try:
        print(json.dumps(run(opts.calls, opts.sessions, opts.warmup)), flush=True)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the launched server threads would keep the interpreter alive


if __name__ == "__main__":
    main()
