"""Benchmark: each objective's step time, ours vs stock sentence-transformers TSDAE.

    python -m tuning.bench [--base DIR] [--steps 6] [--skip-e2e]
    python -m tuning.bench --worker e2e            # only the 1,000-title wall time
    python -m tuning.bench --only-default-run      # the default run vs the defaults before

`default_run_s`: the Training tab's default run (`TrainConfig()`) on the whole example
corpus, wall time incl. loading and mining (target ≤ 120 s on 2 cores, issue #15), next to
`before_run_s` with the defaults before (`TODAY_DEFAULTS`), and both runs' metrics on both dev
sets.

Baseline: the stock `DenoisingAutoEncoderLoss` step, measured in the same run. Also
reported: our TSDAE / contrastive / both, plain and 4-bit, and `e2e_1000_s` (train 1,000
titles × 1 epoch with the default settings, wall time incl. loading and mining; target
≤ 60 s on 2 cores) with its ratio to `E2E_BASELINE` (fp32 matmuls, random batches) timed
right after it.

Each measurement runs in its own subprocess, one after another, so peak RSS is that
variant's alone and the variants never compete for the CPU. The stock loss runs untied
(`tie_encoder_decoder=True` fails on a LoRA encoder, GUIDE §2), i.e. with its full
trainable decoder and 250k-token output layer. The last stdout line is one JSON object:
`<kind>_step_s` per variant, step_time_ratio (our TSDAE / stock), peak_rss_ratio,
e2e_1000_s and, when the shipped default adapter exists, its dev metrics.
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
SHIPPED = ROOT / "examples" / "adapters" / "e5-products-contrastive"
BATCH, LENGTH = 32, 32


def _titles(n: int) -> list[str]:
    from tuning.data import load_corpus

    return load_corpus(CORPUS, "title").texts[:n]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(kind: str, base: str, steps: int) -> dict:
    """Time `steps` optimisation steps (after one warm-up) of one objective.

    kinds: "stock" (sentence-transformers DenoisingAutoEncoderLoss, untied), or
    "<objective>" / "<objective>@4bit" for ours (tsdae, contrastive, tsdae+contrastive).
    """
    import torch

    from tuning.config import TrainConfig
    from tuning.noise import noisy_batch
    from tuning.train import training_threads

    torch.set_num_threads(training_threads())
    texts, rng = _titles(max(1000, BATCH * (steps + 1))), random.Random(0)
    if kind != "stock":
        from tuning.model import load_for_training
        from tuning.objectives import build_objective

        objective, _, quant = kind.partition("@")
        cfg = TrainConfig(objective=objective, use_4bit=quant == "4bit", max_length=LENGTH,
                          batch_size=BATCH)
        loaded = load_for_training(base, cfg)
        obj = build_objective(cfg, loaded, texts)
        loss_fn = obj.module

        def step_loss(i: int) -> torch.Tensor:
            return loss_fn(**obj.inputs(list(range(i * BATCH, (i + 1) * BATCH)), rng))
    else:
        from peft import LoraConfig
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.losses import DenoisingAutoEncoderLoss

        cfg = TrainConfig(use_4bit=False, max_length=LENGTH, batch_size=BATCH)
        st = SentenceTransformer(base, device="cpu")
        st.max_seq_length = LENGTH
        st.add_adapter(LoraConfig(r=cfg.r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                  target_modules=cfg.target_modules))
        loss_fn = DenoisingAutoEncoderLoss(st, decoder_name_or_path=base, tie_encoder_decoder=False)

        def step_loss(i: int) -> torch.Tensor:
            clean = texts[i * BATCH:(i + 1) * BATCH]
            noisy = [cfg.prefix + t for t in noisy_batch(clean, 0.6, rng)]
            return loss_fn([st.tokenize(noisy), st.tokenize(clean)], None)
    loss_fn.train()
    params = [p for p in loss_fn.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    from tuning.model import wants_bf16

    # Ours and the stock loss run in the precision our default run would use on this machine.
    bf16 = wants_bf16(cfg, quantized=cfg.use_4bit)
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = step_loss(i)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return {"kind": kind, "step_s": statistics.median(times[1:]), "peak_rss_mb": _peak_rss_mb(), "bf16": bf16,
            "trainable_params": sum(p.numel() for p in params)}


E2E_BASELINE = {"precision": "fp32", "group_by_length": False}
"""The named baseline of `e2e_1000_s`: the same defaults with fp32 matmuls and random batches
(the defaults before the speed work of issue #8), run right after in the same bench."""


def _e2e(base: str, baseline: bool = False) -> dict:
    """1,000 corpus titles × 1 epoch with the default settings: wall time incl. loading + mining."""
    import tempfile

    from tuning.config import TrainConfig
    from tuning.train import train

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(epochs=1, **(E2E_BASELINE if baseline else {}))
        res = train(cfg, _titles(1000), base, Path(tmp) / "a")
    return {"kind": "e2e", "e2e_1000_s": time.perf_counter() - start, "steps": res.steps,
            "mode": res.mode_label, "peak_rss_mb": _peak_rss_mb()}


TODAY_DEFAULTS = {"auto_steps": 210, "template_negatives": 0.0}
"""The named baseline of `default_run_s`: the defaults before issue #15/#18 (210 steps = 2 passes
over the example corpus, mined negatives only), timed in the same bench."""
DEV_SETS = (DEV, ROOT / "examples" / "dev_variants.csv")
DEFAULT_RUN_TARGET_S = 120


def _default_run(base: str, baseline: bool = False) -> dict:
    """The Training tab's default run on the whole example corpus: wall time from the start
    (model loading, mining, training, saving), then both dev sets scored (not timed)."""
    import tempfile

    from tuning.config import TrainConfig
    from tuning.evaluate import evaluate
    from tuning.plan import plan_run
    from tuning.train import train

    cfg = TrainConfig(**(TODAY_DEFAULTS if baseline else {}))
    titles = _titles(10**9)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = train(cfg, titles, base, Path(tmp) / "a")
        wall = time.perf_counter() - start
        dev = {d.name: evaluate(base, Path(tmp) / "a", d).round(4).to_dict(orient="index")
               for d in DEV_SETS}
    return {"kind": "default-run", "wall_s": wall, "steps": res.steps,
            "planned_s": round(plan_run(cfg, len(titles)).seconds, 1), "dev": dev,
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def default_run_report(base: str) -> dict:
    """Today's defaults vs the defaults before, one after another (never at once)."""
    new = _run(["--worker", "default-run", "--base", base])
    old = _run(["--worker", "default-run-before", "--base", base])
    return {"default_run_s": round(new["wall_s"], 1), "default_run_steps": new["steps"],
            "default_run_planned_s": new["planned_s"], "default_run_target_s": DEFAULT_RUN_TARGET_S,
            "default_run_within_target": new["wall_s"] <= DEFAULT_RUN_TARGET_S,
            "default_run_load_avg_1m": new["load_avg_1m"], "default_run_dev": new["dev"],
            "before_defaults": TODAY_DEFAULTS, "before_run_s": round(old["wall_s"], 1),
            "before_run_steps": old["steps"], "before_run_load_avg_1m": old["load_avg_1m"],
            "before_run_dev": old["dev"],
            "default_run_ratio_to_before": round(new["wall_s"] / old["wall_s"], 3)}


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
    parser.add_argument("--only-default-run", action="store_true",
                        help="only the default run on the example corpus vs the defaults before")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.base is None:
        from comparison.base_encoder import resolve_base

        args.base = resolve_base().path
    if args.worker:
        result = (_e2e(args.base, args.worker == "e2e-baseline") if args.worker.startswith("e2e")
                  else _default_run(args.base, args.worker == "default-run-before")
                  if args.worker.startswith("default-run")
                  else _worker(args.worker, args.base, args.steps))
        print(json.dumps(result, ensure_ascii=False))
        return result
    if args.only_default_run:
        report = {"cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
                  **default_run_report(args.base)}
        print(json.dumps(report, ensure_ascii=False))
        return report
    common = ["--base", args.base, "--steps", str(args.steps)]
    kinds = ["stock", "tsdae", "tsdae@4bit", "contrastive", "contrastive@4bit", "tsdae+contrastive"]
    runs = {k: _run(["--worker", k, *common]) for k in kinds}
    stock = runs["stock"]
    report: dict = {"batch": BATCH, "length": LENGTH, "cores": os.cpu_count(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)}
    for k, r in runs.items():
        report[f"{k}_step_s"] = round(r["step_s"], 3)
        report[f"{k}_peak_rss_mb"] = round(r["peak_rss_mb"])
    report.update(step_time_ratio=round(runs["tsdae"]["step_s"] / stock["step_s"], 3),
                  peak_rss_ratio=round(runs["tsdae"]["peak_rss_mb"] / stock["peak_rss_mb"], 3),
                  ours_trainable=runs["tsdae"]["trainable_params"],
                  stock_trainable=stock["trainable_params"])
    if not args.skip_e2e:
        e2e = _run(["--worker", "e2e", "--base", args.base])
        ref = _run(["--worker", "e2e-baseline", "--base", args.base])
        report.update(e2e_1000_s=round(e2e["e2e_1000_s"], 1), e2e_mode=e2e["mode"],
                      e2e_target_s=60, e2e_within_target=e2e["e2e_1000_s"] <= 60,
                      e2e_baseline=E2E_BASELINE, e2e_baseline_1000_s=round(ref["e2e_1000_s"], 1),
                      e2e_ratio_to_baseline=round(e2e["e2e_1000_s"] / ref["e2e_1000_s"], 3))
        report.update(default_run_report(args.base))
    if (SHIPPED / "adapter_config.json").is_file():
        from tuning.evaluate import evaluate

        frame = evaluate(args.base, SHIPPED, DEV)
        report["dev_metrics"] = frame.round(4).to_dict(orient="index")
    print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
