"""Benchmark: how fast can ONE title pass of e5-small go on this CPU? (issue #16's 60 s budget)

    python -m comparison.catalog.bench_paths [--n 2000]

Why: indexing 10,000 titles under base + adapter in 60 s needs ≤ 3 ms per title and pass.
This times the app's own path (`DualEncoder.embed_both`, bulk, bf16 autocast, LoRA unmerged)
against the faster paths one could build instead (each through the same `DualEncoder`
loop, only the weights changed), on the same titles in the same run, and
prints each path's ms per title-pass and how far its vectors move from the app's fp32 ones
(max |1 − cos|): bf16 weights (no autocast casts), the LoRA merged into a bf16 copy, one
thread, and int8 dynamic quantisation of every Linear. Titles: `comparison.catalog.bench`'s.
The last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import numpy as np


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    n = ap.parse_args(argv).n
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from comparison.allocator import tune_malloc

    tune_malloc()
    import torch
    from peft import PeftModel
    from torch.ao.quantization import quantize_dynamic

    from comparison.adapters import default_adapter
    from comparison.base_encoder import resolve_base
    from comparison.basics import precision
    from comparison.catalog.bench import titles
    from comparison.embeddings import DualEncoder

    items, base, adapter = titles(n), resolve_base(None), default_adapter()
    if adapter is None:
        raise SystemExit("the shipped default adapter is missing")
    enc = DualEncoder(base)
    enc.add_adapter("default", adapter[0], adapter[1])
    out: dict[str, object] = {"n": n, "threads": torch.get_num_threads()}

    def timed(name: str, run: Callable[[list[str]], object], passes: int) -> object:
        run(items[:64])  # warm-up
        start = time.perf_counter()
        result = run(items)
        out[f"{name}_ms"] = round(1000 * (time.perf_counter() - start) / n / passes, 2)
        return result

    def swapped(change: Callable[[torch.nn.Module], torch.nn.Module]) -> Callable[[list[str]], np.ndarray]:
        """A fresh encoder whose weights `change` rewrote, run through the app's own loop
        (`DualEncoder.embed`: cleaning, length order, batches, pooling), so only the weights
        differ between the paths timed here."""
        variant = DualEncoder(base)
        variant._model = change(variant._model)  # the benchmark's one reach inside: no adapter, no peft
        return lambda texts: variant.embed(texts, "query: ", bulk=True)

    def drift(name: str, a: np.ndarray, b: np.ndarray) -> None:
        out[f"{name}_max_1_minus_cos"] = round(float(np.abs((a * b).sum(1) - 1).max()), 5)

    both = lambda texts: enc.embed_both(texts, "query: ", "default", 1.0, bulk=True)  # noqa: E731
    with precision(True):
        timed("app_bf16", both, 2)
    base32, tuned32 = timed("app_fp32", both, 2)
    bf16 = lambda model: model.to(torch.bfloat16)  # noqa: E731
    drift("bf16_weights", timed("bf16_weights", swapped(bf16), 1), base32)
    merge = lambda model: PeftModel.from_pretrained(model, adapter[0]).merge_and_unload().to(torch.bfloat16)  # noqa: E731
    drift("merged_bf16", timed("merged_bf16", swapped(merge), 1), tuned32)
    int8 = lambda model: quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)  # noqa: E731
    drift("int8_dynamic", timed("int8_dynamic", swapped(int8), 1), base32)
    torch.set_num_threads(1)
    timed("bf16_weights_1_thread", swapped(bf16), 1)
    out["budget_ms"] = 3.0  # 10,000 titles × 2 passes in 60 s
    out["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main()
