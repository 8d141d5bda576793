"""Benchmark: 2-process (torchrun, gloo on CPU) vs 1-process training throughput.

    python -m tuning.bench_distributed [--base DIR] [--texts 512] [--batch 16] [--nproc 2]

Both runs train the same corpus with the same settings, each in its own subprocess, one
after the other; throughput is texts per second of the training loop (the log's elapsed_s,
model loading excluded). A step of the 2-process run takes batch x 2 texts. Without --base a
small local encoder (4 layers, hidden 256, built like tests/tiny_models.py) is used, so
nothing is downloaded. The last stdout line is one JSON object with `ratio` (2-process
texts/s over 1-process texts/s; ideal = nproc, and on a 2-core machine shared with other
work it is bounded by the free cores).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(nproc: int, corpus: Path, base: str, out: Path, batch: int) -> dict:
    launch = ([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", str(nproc), "-m"]
              if nproc > 1 else [sys.executable, "-m"])
    cmd = launch + ["tuning", "train", "--corpus", str(corpus), "--out", str(out), "--base", base,
                    "--no-use-4bit", "--batch-size", str(batch), "--max-length", "32", "--epochs", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LORA_LENS_TRAIN_THREADS": "1",
           "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{nproc}-process run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    log = json.loads((out / "training_log.json").read_text(encoding="utf-8"))
    texts = log["steps"] * batch * nproc
    return {"processes": nproc, "steps": log["steps"], "elapsed_s": round(log["elapsed_s"], 2),
            "steps_per_s": round(log["steps"] / log["elapsed_s"], 3),
            "texts_per_s": round(texts / log["elapsed_s"], 2), "rank_steps": log["rank_steps"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="encoder folder (default: a small local one)")
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--nproc", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = args.base
        if base is None:
            sys.path.insert(0, str(ROOT))
            from tests.tiny_models import tiny_encoder_dir

            base = str(tiny_encoder_dir(tmp / "encoder", hidden=256, layers=4))
        words = "смартфон телефон apple iphone кофемашина наушники xiaomi часы samsung ноутбук".split()
        corpus = tmp / "corpus.txt"
        corpus.write_text("\n".join(f"{words[i % 10]} {words[(i * 7 + 3) % 10]} {words[(i * 3) % 10]} {i}"
                                    for i in range(args.texts)) + "\n", encoding="utf-8")
        one = _run(1, corpus, base, tmp / "one", args.batch)
        print(f"1 process : {one}", flush=True)
        many = _run(args.nproc, corpus, base, tmp / "many", args.batch)
        print(f"{args.nproc} processes: {many}", flush=True)
    result = {"cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
              "texts": args.texts, "batch": args.batch, "one_process": one, "n_processes": many,
              "ratio": round(many["texts_per_s"] / one["texts_per_s"], 3),
              "step_time_ratio": round(one["steps_per_s"] / many["steps_per_s"], 3)}
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
