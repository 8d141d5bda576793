"""Benchmark: how fast can ONE title pass of e5-small go on this CPU? (issue #16's 60 s budget)

    python -m comparison.catalog.bench_paths [--n 2000]

Why: indexing 10,000 titles under base + adapter in 60 s needs ≤ 3 ms per title and pass.
This times the app's own path (`DualEncoder.embed_both`, bulk, bf16 autocast, LoRA unmerged)
against the faster paths one could build instead, on the same titles in the same run, and
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
    from transformers import AutoModel, AutoTokenizer

    from comparison.adapters import default_adapter
    from comparison.base_encoder import resolve_base
    from comparison.basics import pool, precision
    from comparison.catalog.bench import titles
    from comparison.embeddings import DualEncoder

    items, base, adapter = titles(n), resolve_base(None), default_adapter()
    if adapter is None:
        raise SystemExit("the shipped default adapter is missing")
    enc = DualEncoder(base)
    enc.add_adapter("default", adapter[0], adapter[1])
    tok = AutoTokenizer.from_pretrained(base.path)
    out: dict[str, object] = {"n": n, "threads": torch.get_num_threads()}

    def timed(name: str, run: Callable[[list[str]], object], passes: int) -> object:
        run(items[:64])  # warm-up
        start = time.perf_counter()
        result = run(items)
        out[f"{name}_ms"] = round(1000 * (time.perf_counter() - start) / n / passes, 2)
        return result

    def plain(model: torch.nn.Module) -> Callable[[list[str]], np.ndarray]:
        def run(texts: list[str]) -> np.ndarray:
            texts = ["query: " + t for t in texts]
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            vectors = np.zeros((len(texts), enc.dim), np.float32)
            with torch.inference_mode():
                for s in range(0, len(texts), 32):
                    rows = order[s:s + 32]
                    batch = tok([texts[i] for i in rows], padding=True, truncation=True, return_tensors="pt")
                    batch.pop("token_type_ids", None)
                    states = model(**batch).last_hidden_state.float()
                    vectors[rows] = torch.nn.functional.normalize(
                        pool(states, batch["attention_mask"], "mean"), dim=-1).numpy()
            return vectors
        return run

    def drift(name: str, a: np.ndarray, b: np.ndarray) -> None:
        out[f"{name}_max_1_minus_cos"] = round(float(np.abs((a * b).sum(1) - 1).max()), 5)

    both = lambda texts: enc.embed_both(texts, "query: ", "default", 1.0, bulk=True)  # noqa: E731
    with precision(True):
        timed("app_bf16", both, 2)
    base32, tuned32 = timed("app_fp32", both, 2)
    fresh = lambda: AutoModel.from_pretrained(base.path, add_pooling_layer=False).eval()  # noqa: E731
    drift("bf16_weights", timed("bf16_weights", plain(fresh().to(torch.bfloat16)), 1), base32)
    merged = PeftModel.from_pretrained(fresh(), adapter[0]).merge_and_unload().eval().to(torch.bfloat16)
    drift("merged_bf16", timed("merged_bf16", plain(merged), 1), tuned32)
    drift("int8_dynamic", timed("int8_dynamic", plain(quantize_dynamic(fresh(), {torch.nn.Linear},
                                                                       dtype=torch.qint8)), 1), base32)
    torch.set_num_threads(1)
    timed("bf16_weights_1_thread", plain(fresh().to(torch.bfloat16)), 1)
    out["budget_ms"] = 3.0  # 10,000 titles × 2 passes in 60 s
    out["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main()
