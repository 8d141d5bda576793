"""Benchmark: our shared-module TSDAE vs stock sentence-transformers TSDAE, same LoRA encoder.

    python -m tuning.bench [--base DIR] [--steps 6] [--skip-e2e]

Each measurement runs in its own subprocess, one after another, so peak RSS is that
variant's alone and the two never compete for the CPU. The stock loss runs untied
(`tie_encoder_decoder=True` fails on a LoRA encoder, GUIDE §2), i.e. with its full
trainable decoder and 250k-token output layer. The last stdout line is one JSON object:
step_time_ratio (ours / stock, target <= 0.4), peak_rss_ratio (target <= 0.6),
e2e_1000_s (train 1,000 corpus titles x 1 epoch with the "fast CPU" preset — plain LoRA,
because 4-bit NF4 matmuls are ~3.5x slower per step on CPU — wall time incl. loading;
target <= 90 s on 2 cores) and, when the shipped adapter exists, its dev metrics.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "products_corpus.csv"
DEV = ROOT / "examples" / "dev_pairs.csv"
SHIPPED = ROOT / "examples" / "adapters" / "e5-products-tsdae"
BATCH, LENGTH = 16, 32


def _titles(n: int) -> list[str]:
    from tuning.data import load_corpus

    return load_corpus(CORPUS, "title").texts[:n]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(kind: str, base: str, steps: int) -> dict:
    """Time `steps` optimisation steps (after one warm-up) of one TSDAE variant."""
    import torch

    from tuning.config import TrainConfig
    from tuning.noise import noisy_batch
    from tuning.train import training_threads

    torch.set_num_threads(training_threads())

    texts, rng = _titles(BATCH * (steps + 1)), random.Random(0)
    cfg = TrainConfig(use_4bit=kind == "ours_4bit", max_length=LENGTH, batch_size=BATCH)
    if kind.startswith("ours"):
        from tuning.model import load_for_training
        from tuning.tsdae import TSDAELoss, corpus_vocab

        loaded = load_for_training(base, cfg)
        tok = loaded.tokenizer
        loss_fn = TSDAELoss(loaded.model, corpus_vocab(tok, _titles(100_000), LENGTH))

        def step_loss(clean: list[str], noisy: list[str]) -> torch.Tensor:
            enc = tok(noisy, padding=True, truncation=True, max_length=LENGTH, return_tensors="pt")
            tgt = tok(clean, padding=True, truncation=True, max_length=LENGTH, return_tensors="pt")
            return loss_fn(dict(enc), dict(tgt))
    else:
        from peft import LoraConfig
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.losses import DenoisingAutoEncoderLoss

        st = SentenceTransformer(base, device="cpu")
        st.max_seq_length = LENGTH
        st.add_adapter(LoraConfig(r=cfg.r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                  target_modules=cfg.target_modules))
        loss_fn = DenoisingAutoEncoderLoss(st, decoder_name_or_path=base, tie_encoder_decoder=False)

        def step_loss(clean: list[str], noisy: list[str]) -> torch.Tensor:
            return loss_fn([st.tokenize(noisy), st.tokenize(clean)], None)
    loss_fn.train()
    params = [p for p in loss_fn.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    times = []
    for i in range(steps + 1):
        clean = texts[i * BATCH:(i + 1) * BATCH]
        noisy = [cfg.prefix + t for t in noisy_batch(clean, 0.6, rng)]
        start = time.perf_counter()
        loss = step_loss(clean, noisy)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return {"kind": kind, "step_s": statistics.median(times[1:]), "peak_rss_mb": _peak_rss_mb(),
            "trainable_params": sum(p.numel() for p in params)}


def _e2e(base: str) -> dict:
    import tempfile

    from tuning.config import PRESETS, TrainConfig
    from tuning.train import train

    preset = "fast_cpu"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = train(TrainConfig.from_dict(PRESETS[preset]), _titles(1000), base, Path(tmp) / "a")
    return {"kind": "e2e", "e2e_1000_s": time.perf_counter() - start, "steps": res.steps,
            "mode": res.mode_label, "peak_rss_mb": _peak_rss_mb()}


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "tuning.bench", *args], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if out.returncode != 0:
        raise RuntimeError(f"bench worker {args} failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m tuning.bench")
    parser.add_argument("--base", default=None, help="base model folder (default: resolve_base())")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.base is None:
        from comparison.base_encoder import resolve_base

        args.base = resolve_base().path
    if args.worker:
        result = _e2e(args.base) if args.worker == "e2e" else _worker(args.worker, args.base, args.steps)
        print(json.dumps(result))
        return result
    common = ["--base", args.base, "--steps", str(args.steps)]
    ours, ours4, stock = (_run(["--worker", k, *common]) for k in ("ours", "ours_4bit", "stock"))
    report = {"batch": BATCH, "length": LENGTH, "cores": os.cpu_count(),
              "load_avg_1m": round(os.getloadavg()[0], 2),
              "ours_step_s": round(ours["step_s"], 3), "ours_4bit_step_s": round(ours4["step_s"], 3),
              "stock_step_s": round(stock["step_s"], 3),
              "step_time_ratio": round(ours["step_s"] / stock["step_s"], 3),
              "ours_peak_rss_mb": round(ours["peak_rss_mb"]), "ours_4bit_peak_rss_mb":
              round(ours4["peak_rss_mb"]), "stock_peak_rss_mb": round(stock["peak_rss_mb"]),
              "peak_rss_ratio": round(ours["peak_rss_mb"] / stock["peak_rss_mb"], 3),
              "ours_trainable": ours["trainable_params"], "stock_trainable": stock["trainable_params"]}
    if not args.skip_e2e:
        e2e = _run(["--worker", "e2e", "--base", args.base])
        report.update(e2e_1000_s=round(e2e["e2e_1000_s"], 1), e2e_mode=e2e["mode"])
    if (SHIPPED / "adapter_config.json").is_file():
        from tuning.evaluate import evaluate

        frame = evaluate(args.base, SHIPPED, DEV)
        report["dev_metrics"] = frame.round(4).to_dict(orient="index")
    print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
