"""What the user waits for: the explorer's default "Compare" click, end to end.

Times `Explorer.compare` (the entry point the UI calls) with the tab's default inputs —
prompt, 32 new tokens, three key words, a context prompt, top-10 — on the offline
Gemma 3 270M with the demo adapter, and one plain greedy generation of the same
number of tokens measured in the same run, so the ratio says what the extra views cost
on this machine whatever its load. Target: ≤ 5 s on 2 CPU cores. Run:

    python -m comparison.explorer_bench [--repeats 3] [--threads 1]   # 1 = what the app uses

Prints a few human lines, then one JSON line (last) for CI and reports.

Measured on 2 shared cores (load 4-5): plain 40-token generation 12.7 s, click 23.4 s
(1.84 ×) with `--threads 1`; 30.0 s and 63.3 s (2.11 ×) with torch's default 2 threads —
decoding is small matmuls, and on an oversubscribed machine 2 threads wait on each other.
At the tab's 32 tokens (load ≈ 4.5-5): plain 8.4 s, click 18.6 s (2.21 ×) with `--threads 1`;
25.7 s and 54.1 s (2.11 ×) with 2 threads — so the app runs explorer calls with one torch thread
(`comparison.basics.torch_threads`, `LORA_LENS_EXPLORER_THREADS`, 0 = torch's default).
Two 1-row generations vs one 2-row mixed-adapter batch, 20 tokens: 6.16 s vs 5.92 s (1 thread),
31.7 s vs 51.3 s (2 threads) — so the click generates base and LoRA one after the other.
"""
from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

import psutil

PROMPT = "Кто такой Чебурашка?"
KEYWORDS = ("Чебурашка", "Гена", "животное")
CONTEXT = "Чебурашка — герой мультфильма, друг крокодила Гены."
MAX_NEW_TOKENS = 32  # the tab's default answer length (ui/explorer.py MAX_NEW_DEFAULT)
TARGET_S = 5.0


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repeats: int = 3, threads: int = 0) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if threads:
        import torch

        torch.set_num_threads(threads)
    from comparison.explorer import CompareRequest, load_explorer

    start = time.perf_counter()
    explorer = load_explorer("offline")
    load = time.perf_counter() - start
    request = CompareRequest(prompt=PROMPT, max_new_tokens=MAX_NEW_TOKENS, keywords=KEYWORDS, context=CONTEXT,
                             top_k=10)
    report = explorer.compare(request)  # warm-up, and the answer length for the plain generation
    enc = explorer.encode(PROMPT)
    length = max(1, len(report.answer_ids))
    plain = _median_seconds(lambda: explorer.generate_ids(enc, lora=True, max_new_tokens=length), repeats)
    full = _median_seconds(lambda: explorer.compare(request), repeats)
    last = explorer.compare(request)
    result = {
        "model": explorer.model_label, "adapter": explorer.adapter_label, "prompt_tokens": enc.length,
        "answer_tokens": length, "load_s": round(load, 2), "plain_generation_s": round(plain, 3),
        "compare_click_s": round(full, 3), "ratio": round(full / plain, 2), "target_s": TARGET_S,
        "within_target": full <= TARGET_S, "passes": last.passes, "stages_s": last.timings,
        "load_avg_1min": round(os.getloadavg()[0], 2), "threads": threads or "default",
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
    }
    print(f"model {result['model']}, adapter {result['adapter']}")
    print(f"plain greedy generation of {length} tokens {plain:.3f} s; default compare click {full:.3f} s "
          f"(= {full / plain:.2f} × plain; passes {last.passes}; stages {last.timings})")
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (0 = torch's default); 1, the app's setting, was faster here")
    args = parser.parse_args()
    main(args.repeats, args.threads)
