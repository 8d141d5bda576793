"""Cost of one full explorer comparison on the offline LM vs one plain forward.

A full compare is two forwards (base, LoRA) with attention captured on every layer;
the target is ≤ 2 s on a free Space's 2 CPU cores. Run:

    python -m comparison.explorer_bench

Prints a few human lines, then one JSON line (last) for CI and reports.
"""
from __future__ import annotations

import json
import os
import statistics
import time

import psutil

PROMPT = "Кто такой Чебурашка?"


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repeats: int = 3) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from comparison.explorer import load_explorer

    start = time.perf_counter()
    explorer = load_explorer("offline")
    load = time.perf_counter() - start
    enc = explorer.encode(PROMPT)
    explorer.explore(PROMPT)  # warm-up
    plain = _median_seconds(lambda: explorer.pass_on(enc, lora=False), repeats)
    full = _median_seconds(lambda: explorer.explore(PROMPT, top_k=10), repeats)
    result = {
        "model": explorer.model_label, "adapter": explorer.adapter_label, "tokens": enc.length,
        "load_s": round(load, 2), "plain_forward_s": round(plain, 3), "full_compare_s": round(full, 3),
        "ratio": round(full / plain, 2), "target_s": 2.0, "within_target": full <= 2.0,
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
    }
    print(f"model {result['model']}, adapter {result['adapter']}")
    print(f"plain forward {plain:.3f} s; full compare (2 passes + attention) {full:.3f} s")
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
