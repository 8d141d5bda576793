"""Benchmark: base + tuned scoring of 1,000 product titles vs sentence-transformers.

    python -m comparison.bench_similarity [--n 1000] [--threads 2]

Baseline, measured in the same run on the same base weights: sentence-transformers
``encode`` of the same titles (one pass). Ours does TWO passes (base with the adapter
disabled, then base + adapter) from one model, so ``time_ratio`` ≈ 2 means each of our
passes is as fast as the stock encoder; ``rss_ratio`` compares peak resident memory of two
fresh processes (each loads its model and encodes), so one model holding the adapter
must cost no more than a plain encoder. Targets: time_ratio ≤ 2.1, rss_ratio ≤ 1.1.
The last line printed is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _titles(n: int) -> list[str]:
    """Real example titles when present, else deterministic synthetic ones."""
    corpus = EXAMPLES / "products_corpus.txt"
    lines = corpus.read_text(encoding="utf-8").splitlines() if corpus.exists() else []
    lines = [x for x in lines if x.strip()]
    while len(lines) < n:
        i = len(lines)
        lines.append(f"Товар {i} модель X{i % 97} цвет {['черный', 'белый', 'синий'][i % 3]}")
    return lines[:n]


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(kind: str, n: int, threads: int, reps: int) -> None:
    """Run in a fresh process: load, warm up, time the encode, print JSON. Ours runs with the
    app's malloc settings (`comparison.allocator`, LORA_LENS_MALLOC), as `python app.py` does."""
    if kind == "ours":
        from comparison.allocator import tune_malloc

        tune_malloc()
    import torch

    torch.set_num_threads(threads)
    from comparison.base_encoder import resolve_base

    base = resolve_base(os.environ.get("LORA_LENS_BASE") or None)
    titles = _titles(n)
    if kind == "st":
        from sentence_transformers import SentenceTransformer, models

        word = models.Transformer(base.path, max_seq_length=512)
        model = SentenceTransformer(modules=[word, models.Pooling(
            word.get_word_embedding_dimension(), pooling_mode="mean"), models.Normalize()],
            device="cpu")
        enc = lambda: model.encode(["query: " + t for t in titles], batch_size=32)  # noqa: E731
    else:
        from comparison.adapters import default_adapter
        from comparison.embeddings import DualEncoder

        model = DualEncoder(base)
        found = default_adapter()
        if found is None:
            raise SystemExit("no default adapter to benchmark with (train examples/adapters first)")
        model.add_adapter("default", found[0], found[1])
        enc = lambda: model.embed_both(titles, "query: ", "default")  # noqa: E731
    enc()  # warm-up: allocator, thread pool
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        enc()
        times.append(time.perf_counter() - t0)
    # The minimum is the least disturbed run: other processes only ever add time.
    print(json.dumps({"kind": kind, "seconds": min(times), "all_s": times,
                      "peak_rss_mb": _peak_rss_mb()}))


def _run(kind: str, n: int, threads: int, reps: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "comparison.bench_similarity", "--worker", kind, "--n", str(n),
         "--threads", str(threads), "--reps", str(reps)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions (minimum is kept)")
    ap.add_argument("--worker", choices=["st", "ours"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.n, args.threads, args.reps)
        return {}
    st = _run("st", args.n, args.threads, args.reps)
    ours = _run("ours", args.n, args.threads, args.reps)
    result = {
        "benchmark": "similarity_scoring", "n_titles": args.n, "threads": args.threads,
        "baseline": "sentence-transformers encode (1 pass, same base)",
        "ours": "DualEncoder base + tuned (2 passes, one model)",
        "reps": args.reps, "st_s": round(st["seconds"], 3), "ours_s": round(ours["seconds"], 3),
        "st_peak_rss_mb": round(st["peak_rss_mb"], 1),
        "ours_peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "time_ratio": round(ours["seconds"] / st["seconds"], 3),
        "rss_ratio": round(ours["peak_rss_mb"] / st["peak_rss_mb"], 3),
        "targets": {"time_ratio": 2.1, "rss_ratio": 1.1},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
