"""Bounded load test: 20 concurrent /score_pair calls while a small training runs.

Why: a Space has two cores and one shared encoder; the promise is that people scoring
pairs still get answers (queued, not failed) while somebody trains. This sends exactly
20 calls from 20 gradio_client sessions at once, plus one short /train, to an app on
this machine only, then prints latency percentiles and a JSON summary as the last line.

    python -m tests.load.score_pair_load                      # starts `python app.py` itself
    python -m tests.load.score_pair_load --url http://127.0.0.1:7860/
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before gradio_client: no Hub version checks
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CALLS = 20
PAIR = ("Смартфон Apple iPhone", "Телефон Apple iPhone")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise SystemExit(f"refusing to load-test {host!r}: only loopback addresses are allowed")


def start_app(extra_env: dict[str, str] | None = None, cmd: list[str] | None = None,
              timeout: float = 180.0) -> tuple[subprocess.Popen, str, Path]:
    """`python app.py` (or `cmd`) on a free loopback port (the e2e fixture's recipe), with
    `extra_env` on top (an empty value unsets the variable). An app that does not answer
    within `timeout` is killed, never left behind unmeasured."""
    from tests.e2e.conftest import _free_port, _wait_http

    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="lora-lens-load-")) / "app.log"
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"}
    for key, value in (extra_env or {}).items():
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd or [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=fh,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, timeout=timeout)
    except BaseException:
        proc.kill()
        raise
    return proc, url, log


def stop_app(proc: subprocess.Popen | None) -> None:
    """Stop an app `start_app` started (None: nothing to stop)."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def small_corpus() -> Path:
    lines = (ROOT / "examples" / "products_corpus.txt").read_text(encoding="utf-8").splitlines()[:64]
    path = Path(tempfile.mkdtemp(prefix="lora-lens-load-")) / "load_corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(url: str, train_steps: int = 6) -> dict:
    """Start a training, then fire CALLS /score_pair calls at once; returns the summary."""
    _check_loopback(url)
    Client(url, verbose=False).predict(*PAIR, "query: ", api_name="/score_pair")  # warm model
    trainer = Client(url, verbose=False, download_files=False)
    args = [handle_file(str(small_corpus())), None, "en", 8, 16.0, 0.0, 5e-4, 1, 8, 32, 0.6,
            False, None, train_steps, 42]
    t_train = time.perf_counter()
    job = trainer.submit(*args, api_name="/train")
    deadline = time.monotonic() + 120
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.1)  # progress is yielded only once the training was queued

    clients = [Client(url, verbose=False) for _ in range(CALLS)]
    barrier = threading.Barrier(CALLS)
    latencies: list[float] = [float("nan")] * CALLS
    errors: list[str] = []
    during_training = [False] * CALLS

    def one(i: int) -> None:
        barrier.wait()
        t0 = time.perf_counter()
        try:
            out = clients[i].predict(*PAIR, "query: ", api_name="/score_pair")
            if not np.isfinite(out["base"]):
                errors.append(f"call {i}: non-finite score")
        except Exception as exc:  # counted, not raised: the summary must still print
            errors.append(f"call {i}: {type(exc).__name__}: {exc}")
        latencies[i] = time.perf_counter() - t0
        during_training[i] = not job.done()

    threads = [threading.Thread(target=one, args=(i,), name=f"score-{i}") for i in range(CALLS)]
    t_calls = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    calls_wall = time.perf_counter() - t_calls
    metrics = job.result(timeout=600)[1]
    train_wall = time.perf_counter() - t_train
    lat = np.asarray([x for x in latencies if np.isfinite(x)])
    return {
        "calls": CALLS, "errors": len(errors), "error_samples": errors[:3],
        "p50_s": round(float(np.percentile(lat, 50)), 3), "p95_s": round(float(np.percentile(lat, 95)), 3),
        "max_s": round(float(lat.max()), 3), "calls_wall_s": round(calls_wall, 3),
        "finished_while_training": sum(during_training),
        "train_status": metrics["status"], "train_steps": metrics["steps"],
        "train_wall_s": round(train_wall, 2), "cores": os.cpu_count(),
        "load1": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app on this machine; started here when omitted")
    parser.add_argument("--train-steps", type=int, default=6, help="steps of the background training")
    opts = parser.parse_args(argv)
    proc = None
    url = opts.url
    if not url:
        proc, url, log = start_app()
        print(f"started app at {url} (log: {log})")
    try:
        summary = run(url, opts.train_steps)
    finally:
        stop_app(proc)
    print(f"{CALLS} concurrent /score_pair calls while training: p50 {summary['p50_s']} s, "
          f"p95 {summary['p95_s']} s, max {summary['max_s']} s, errors {summary['errors']}; "
          f"training {summary['train_status']} ({summary['train_steps']} steps, "
          f"{summary['train_wall_s']} s); {summary['cores']} cores, load {summary['load1']}")
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
