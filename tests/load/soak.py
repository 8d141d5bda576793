"""Soak benchmark: does the app's memory creep under a long mix of API calls?

Why: a Space process lives for weeks; memory that grows a little per call ends in an
OOM kill. This starts `python app.py` offline on loopback (or uses ``--url``), runs
``--sessions`` gradio_client sessions calling /score_pair (9 calls of 10) and /embed of
50 titles (1 of 10), optionally /explore, samples the resident memory of the app process
and its children every ``--every`` seconds, and prints the growth slope after warm-up
(least squares of RSS against calls done, over samples after ``--warmup`` calls, in MB
per 1,000 calls), the peak and the errors. Bounded by ``--minutes`` and ``--max-calls``.

    python -m tests.load.soak --minutes 10 --sessions 4          # the issue-19 acceptance run
    python -m tests.load.soak --minutes 2 --env MALLOC_ARENA_MAX=  # extra env for the app

The last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before gradio_client: no Hub version checks
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from gradio_client import Client  # noqa: E402

from tests.load.score_pair_load import ROOT, _check_loopback, stop_app  # noqa: E402
from tests.load.score_pair_load import start_app as start_score_app  # noqa: E402

EMBED_TITLES = 50


def start_app(extra_env: dict[str, str], trace: Path | None = None) -> tuple[subprocess.Popen, str, Path]:
    """`python app.py` offline on a free loopback port; `extra_env` on top (empty value = unset).

    With `trace`, app.py runs under tests.load.traced_app, which logs where memory goes.
    """
    env = {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **extra_env}
    cmd = None
    if trace is not None:
        env["LORA_LENS_MEMTRACE"] = str(trace)
        cmd = [sys.executable, "-m", "tests.load.traced_app"]
    return start_score_app(env, cmd, timeout=600)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, MB (0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


@dataclass
class Tally:
    """Calls done and errors, shared by the session threads."""

    calls: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, endpoint: str, error: str | None) -> None:
        with self.lock:
            self.calls += 1
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1
            if error:
                self.errors.append(error)


def slope_per_1000(samples: list[tuple[float, int, float]], warmup: int) -> float | None:
    """Least-squares MB per 1,000 calls over samples taken after `warmup` calls."""
    pts = [(c, r) for _, c, r in samples if c >= warmup]
    if len(pts) < 3 or pts[-1][0] - pts[0][0] < 50:
        return None
    calls, rss = np.array(pts, dtype=float).T
    return float(np.polyfit(calls, rss, 1)[0] * 1000.0)


def session(i: int, url: str, titles: list[str], tally: Tally, stop: threading.Event,
            max_calls: int, explore_every: int, fresh_every: int = 0) -> None:
    """One client session: 9 /score_pair calls, then one /embed of 50 titles, repeated.

    With `fresh_every`, a new client (a new gradio session, as a new visitor or script
    brings) replaces the old one every that many calls, and the old one is never closed.
    """
    rng = random.Random(i)
    client = Client(url, verbose=False)
    k = 0
    while not stop.is_set():
        with tally.lock:
            if tally.calls >= max_calls:
                return
        if fresh_every and k and k % fresh_every == 0:
            client = Client(url, verbose=False)
        k += 1
        try:
            if explore_every and k % explore_every == 0:
                endpoint = "/explore"
                client.predict(rng.choice(titles), 5, 1.0, 4, api_name=endpoint)
            elif k % 10 == 0:
                endpoint = "/embed"
                out = client.predict("\n".join(rng.sample(titles, EMBED_TITLES)), "query: ", 1.0,
                                     api_name=endpoint)
                if len(out["base"]) != EMBED_TITLES:
                    raise ValueError(f"{len(out['base'])} vectors for {EMBED_TITLES} titles")
            else:
                endpoint = "/score_pair"
                out = client.predict(rng.choice(titles), rng.choice(titles), "query: ", 1.0,
                                     api_name=endpoint)
                if not np.isfinite(out["base"]):
                    raise ValueError("non-finite score")
            tally.add(endpoint, None)
        except Exception as exc:  # counted, not raised: the summary must still print
            tally.add(endpoint, f"session {i} {endpoint}: {type(exc).__name__}: {exc}"[:300])


def run(url: str, pid: int | None, minutes: float, sessions: int, max_calls: int, warmup: int,
        every: float, explore_every: int, trace: Path | None = None, fresh_every: int = 0) -> dict:
    _check_loopback(url)
    titles = [t for t in (ROOT / "examples" / "products_corpus.txt").read_text(
        encoding="utf-8").splitlines() if t.strip()]
    Client(url, verbose=False).predict(titles[0], titles[1], "query: ", api_name="/score_pair")
    tally, stop = Tally(), threading.Event()
    samples: list[tuple[float, int, float]] = []  # (seconds, calls done, RSS MB)
    t0 = time.monotonic()
    threads = [threading.Thread(target=session, name=f"soak-{i}", daemon=True,
                                args=(i, url, titles, tally, stop, max_calls, explore_every, fresh_every))
               for i in range(sessions)]
    for t in threads:
        t.start()
    deadline = t0 + minutes * 60
    signalled = trace is None
    while time.monotonic() < deadline and any(t.is_alive() for t in threads):
        if not signalled and tally.calls >= warmup and pid is not None:
            os.kill(pid, signal.SIGUSR1)  # traced_app: take the baseline snapshot now
            signalled = True
        if pid is not None:
            samples.append((time.monotonic() - t0, tally.calls, tree_rss_mb(pid)))
        time.sleep(every)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    wall = time.monotonic() - t0
    if pid is not None:
        samples.append((wall, tally.calls, tree_rss_mb(pid)))
    rss = [r for _, _, r in samples]
    after = [r for _, c, r in samples if c >= warmup]
    slope = slope_per_1000(samples, warmup)
    return {
        "benchmark": "soak", "minutes": round(wall / 60, 2), "sessions": sessions,
        "calls": tally.calls, "by_endpoint": tally.by_endpoint, "errors": len(tally.errors),
        "error_samples": tally.errors[:3], "calls_per_s": round(tally.calls / wall, 2),
        "warmup_calls": warmup, "fresh_every": fresh_every,
        "rss_start_mb": round(rss[0], 1) if rss else None,
        "rss_at_warmup_mb": round(after[0], 1) if after else None,
        "rss_end_mb": round(rss[-1], 1) if rss else None,
        "rss_peak_mb": round(max(rss), 1) if rss else None,
        "slope_mb_per_1000_calls": None if slope is None else round(slope, 2),
        "slopes_by_warmup": {w: None if (v := slope_per_1000(samples, w)) is None else round(v, 2)
                             for w in (250, 500, 1000, 2000)},
        "target_mb_per_1000_calls": 5.0,
        "samples": [(round(s, 1), c, round(r, 1)) for s, c, r in samples[:: max(1, len(samples) // 40)]],
        "cores": os.cpu_count(), "load1": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running app on this machine (RSS then needs --pid)")
    ap.add_argument("--pid", type=int, help="the app's process id when --url is given")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--max-calls", type=int, default=100_000)
    ap.add_argument("--warmup", type=int, default=1000, help="calls before the slope is fitted")
    ap.add_argument("--every", type=float, default=2.0, help="seconds between RSS samples")
    ap.add_argument("--explore-every", type=int, default=0,
                    help="every Nth call of a session is /explore (0: never)")
    ap.add_argument("--fresh-every", type=int, default=0,
                    help="each session opens a new client (new gradio session) every N calls")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the started app (KEY= unsets it)")
    ap.add_argument("--trace", type=Path, help="log where memory goes to this file (JSON lines; "
                    "tracemalloc slows the app, so its slope is not the acceptance number)")
    opts = ap.parse_args(argv)
    proc, url, pid = None, opts.url, opts.pid
    if not url:
        proc, url, log = start_app(dict(e.split("=", 1) for e in opts.env), opts.trace)
        pid = proc.pid
        print(f"started app at {url} (pid {pid}, log: {log})", flush=True)
    try:
        summary = run(url, pid, opts.minutes, opts.sessions, opts.max_calls, opts.warmup,
                      opts.every, opts.explore_every, opts.trace, opts.fresh_every)
    finally:
        stop_app(proc)
    summary["app_env"] = opts.env
    print(f"{summary['calls']} calls in {summary['minutes']} min from {opts.sessions} sessions, "
          f"{summary['errors']} errors; RSS {summary['rss_start_mb']} → {summary['rss_end_mb']} MB "
          f"(peak {summary['rss_peak_mb']}); slope after {opts.warmup} calls: "
          f"{summary['slope_mb_per_1000_calls']} MB per 1,000 calls (target ≤ 5)")
    print(json.dumps(summary, ensure_ascii=False))
    ok = summary["errors"] == 0 and (summary["slope_mb_per_1000_calls"] or 0) <= 5.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
