"""Benchmark: cold start of the app to its first similarity answer (models already cached).

    python -m ui.bench_coldstart [--runs 2]

Starts ``python app.py`` as a user would, then asks ``/score_pair`` through
``gradio_client`` until it answers; the clock runs from process start to the answer, so
it includes Python imports, the Gradio launch, loading the cached base + default adapter
and the first forward. Baseline in the same run: a bare ``python -c "import torch,
transformers, gradio"`` (the floor no app on this stack can beat). Target: ≤ 15 s.
The last line printed is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _imports_floor() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, transformers, gradio, peft"], check=True,
                   capture_output=True)
    return time.perf_counter() - t0


@contextmanager
def running_app() -> Iterator[tuple[subprocess.Popen, int]]:
    """``python app.py`` on a free port, as a user starts it; stopped on exit."""
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _cold_start(timeout: float = 300.0) -> float:
    from gradio_client import Client

    t0 = time.perf_counter()
    with running_app() as (_, port):
        while time.perf_counter() - t0 < timeout:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                client.predict("Смартфон Apple iPhone", "Телефон Apple iPhone", "query: ",
                               api_name="/score_pair")
                return time.perf_counter() - t0
            except Exception:  # not up yet
                time.sleep(0.2)
        raise TimeoutError("no answer")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args(argv)
    _cold_start()  # the first run may convert and cache the models: not counted
    floor = min(_imports_floor() for _ in range(args.runs))
    starts = [_cold_start() for _ in range(args.runs)]
    result = {"benchmark": "cold_start_to_first_answer", "runs": args.runs,
              "baseline": "python -c 'import torch, transformers, gradio, peft'",
              "imports_floor_s": round(floor, 2), "cold_start_s": round(min(starts), 2),
              "all_s": [round(x, 2) for x in starts],
              "ratio_to_floor": round(min(starts) / floor, 2), "target_s": 15}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
