"""Benchmark of the catalog: indexing, search and memory, against one sentence-transformers encode.

    flock /tmp/lora-lens-cpu.lock python -m comparison.catalog.bench [--n 10000] [--search-n 100000]

Baseline (same run, same titles, same offline e5-small): ONE `SentenceTransformer.encode` pass
of the titles with the `query: ` prompt, batch 32, fp32. Reported: `index_s` (base + adapter
vectors of the n titles, as the app builds them; budget 60 s for 10,000 on 2 cores) and
`index_ratio` = index_s / st_encode_s; `search_ms` (median of one query: encode under both
models + exact top-5 over `search_n` titles with ranks in the other list; budget 200 ms at
100,000) and `matvec_ms` (the search without the query encode); `memory_mb_per_100k` (the
vectors an index of 100,000 titles holds) with the measured RSS growth; `moved_s` (kNN before
and after for every title). The catalog at 100,000 is the n real embeddings tiled with small
noise (search cost does not depend on the values). The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "examples" / "products_corpus.txt"
EXTRAS = ["", ", чёрный", ", белый", " (новинка)", ", 2 шт.", ", уценка", " — оригинал", ", серый", ", в подарочной упаковке",
          " (ростест)"]
QUERIES = ["Телефон Apple iPhone 15 128 ГБ", "шампунь для волос 500 мл", "перфоратор в кейсе",
           "кроссовки мужские 42", "кофемашина капсульная", "наушники беспроводные Xiaomi"]


def titles(n: int) -> list[str]:
    """n distinct shop titles: the example corpus, then its titles with seller-style additions."""
    base = [x for x in CORPUS.read_text(encoding="utf-8").splitlines() if x.strip()]
    out = list(dict.fromkeys(f"{t}{e}" for e in EXTRAS for t in base))
    if len(out) < n:
        raise SystemExit(f"only {len(out)} distinct titles can be made; ask for fewer")
    return out[:n]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _partial(out: dict) -> None:
    """Results so far on stderr, so a run cut short by a time limit still tells something."""
    import sys

    print("partial:", json.dumps(out, ensure_ascii=False), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--search-n", type=int, default=100_000)
    ap.add_argument("--skip-precision", action="store_true", help="skip the fp32 vs bf16 1,000-title check")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from comparison.allocator import tune_malloc

    tune_malloc()  # the app's malloc settings (app.py does the same before torch starts threads)

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    from comparison.adapters import default_adapter
    from comparison.base_encoder import resolve_base
    from comparison.catalog.index import CatalogIndex, build_index, embed_query
    from comparison.catalog.moved import neighbourhoods
    from comparison.catalog.search import search
    from comparison.embeddings import DualEncoder

    items = titles(args.n)
    base = resolve_base(None)
    enc = DualEncoder(base)
    path, label = default_adapter()
    enc.add_adapter("default", path, label)
    out: dict[str, object] = {"n": args.n, "threads": torch.get_num_threads(), "load_1min": os.getloadavg()[0],
                              "adapter": label}

    tr = Transformer(base.path, max_seq_length=512)
    st = SentenceTransformer(modules=[tr, Pooling(384, pooling_mode="mean"), Normalize()], device="cpu")
    st.encode(items[:64], prompt="query: ", batch_size=32)  # warm-up
    t0 = time.perf_counter()
    st.encode(items, prompt="query: ", batch_size=32)
    out["st_encode_s"] = round(time.perf_counter() - t0, 2)
    _partial(out)
    del st, tr

    enc.embed_both(items[:64], "query: ", "default")  # warm-up
    t0 = time.perf_counter()
    index = build_index(enc, items, "default", 1.0)
    out["index_s"] = round(time.perf_counter() - t0, 2)
    out["index_bf16"] = index.bf16
    out["index_ratio"] = round(out["index_s"] / out["st_encode_s"], 3)
    _partial(out)
    if index.bf16 and not args.skip_precision:
        t0 = time.perf_counter()
        build_index(enc, items[:1000], "default", 1.0, bf16=False)
        out["index_fp32_1000_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        build_index(enc, items[:1000], "default", 1.0, bf16=True)
        out["index_bf16_1000_s"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    moved = neighbourhoods(index.base, index.tuned, k=10)
    out["moved_s"] = round(time.perf_counter() - t0, 2)
    out["mean_neighbours_kept"] = round(float(moved.overlap.mean()), 3)

    rss0 = rss_mb()
    reps = -(-args.search_n // args.n)
    rng = np.random.default_rng(0)

    def tile(v: np.ndarray) -> np.ndarray:
        big = np.concatenate([v + rng.normal(0, 0.01, v.shape).astype(np.float32) if i else v for i in range(reps)])
        big = big[:args.search_n]
        return big / np.linalg.norm(big, axis=1, keepdims=True)

    big = CatalogIndex([f"{t} #{i}" for i in range(reps) for t in items][:args.search_n], tile(index.base),
                       tile(index.tuned), "default", 1.0, index.prefix, index.bf16)
    out["memory_mb_per_100k"] = round(big.nbytes / 2**20 * 100_000 / big.n, 1)
    out["rss_growth_mb_at_search_n"] = round(rss_mb() - rss0, 1)
    full, matvec = [], []
    for q in QUERIES * 4:
        t0 = time.perf_counter()
        qb, qt = embed_query(enc, big, q)
        t1 = time.perf_counter()
        search(big.titles, big.base, big.tuned, qb, qt, k=5)
        t2 = time.perf_counter()
        full.append(t2 - t0)
        matvec.append(t2 - t1)
    out["search_n"] = big.n
    out["search_ms"] = round(statistics.median(full) * 1000, 1)
    out["matvec_ms"] = round(statistics.median(matvec) * 1000, 1)
    out["search_ratio_per_title"] = round(statistics.median(full) / (out["st_encode_s"] / args.n), 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["budget_index_60s"] = out["index_s"] <= 60.0
    out["budget_search_200ms"] = out["search_ms"] <= 200.0
    print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
