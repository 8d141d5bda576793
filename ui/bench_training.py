"""Benchmark: one training epoch in the running app vs the same epoch from the CLI.

    python -m ui.bench_training [--titles 5600]

What the user waits for in the Training tab is the loop's seconds per step; the baseline,
measured in the same run, is `python -m tuning train` with the same corpus and settings
(default settings, 1 epoch). The app side starts ``python app.py`` and calls ``/train``
through ``gradio_client``, so the web server, the queue, the progress stream and the
training thread are all in the measurement. Target (issue #8): app / CLI ≤ 1.3.
The last line printed is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ui.bench_coldstart import ROOT, running_app

CORPUS = ROOT / "examples" / "products_corpus.txt"


def _corpus(n: int, folder: Path) -> Path:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[:n]
    path = folder / f"corpus_{n}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(corpus: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tuning", "train", "--corpus", str(corpus),
                           "--out", str(out), "--epochs", "1"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True)
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("{"))
    result = json.loads(line)
    return {"steps": result["steps"], "elapsed_s": result["elapsed_s"]}


def _app(corpus: Path, timeout: float = 1800.0) -> dict:
    from gradio_client import Client, handle_file

    from tuning.config import TrainConfig
    from ui.training import api_settings

    with running_app() as (_, port):
        deadline = time.time() + 300
        while True:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:  # not up yet
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        cfg = TrainConfig(epochs=1)
        _, metrics, *_ = client.predict(handle_file(str(corpus)), None, "en", *api_settings(cfg),
                                        api_name="/train")
        return {"steps": metrics["steps"], "elapsed_s": metrics["elapsed_s"]}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--titles", type=int, default=5600)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = _corpus(args.titles, Path(tmp))
        cli = _cli(corpus, Path(tmp) / "cli")
        app = _app(corpus)
    cli_step, app_step = cli["elapsed_s"] / cli["steps"], app["elapsed_s"] / app["steps"]
    result = {"benchmark": "training_epoch_app_vs_cli", "titles": args.titles,
              "baseline": "python -m tuning train --epochs 1 (same corpus, default settings)",
              "cli_steps": cli["steps"], "cli_s": cli["elapsed_s"], "app_steps": app["steps"],
              "app_s": app["elapsed_s"], "cli_step_s": round(cli_step, 3),
              "app_step_s": round(app_step, 3), "ratio_app_to_cli": round(app_step / cli_step, 3),
              "target_ratio": 1.3, "load_avg_1m": round(os.getloadavg()[0], 2)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
