"""Seed 001's table re-run: the held-out questions × base + demo + the four config adapters.

Loads the offline Gemma 3 270M with every shipped adapter attached to the one model, runs
`comparison.explorer.evaluate.evaluate` (the function the explorer tab calls) and prints
the characters × models table as markdown, then one JSON line whose `evaluate_s` is the
benchmark of issue #10 (target ≤ 360 s on 2 CPU cores): the same call, models and thread
policy as the tab's Evaluation button (`torch_threads()`, LORA_LENS_EXPLORER_THREADS).
Measured on 2 shared cores, nothing else running: 65.5 s with threads auto (2 picked; load
1.7-1.9), 102.5 s with `--threads 1`; before the fast greedy path (main): 164.6 s with one
thread (load ≈ 2), 408 s under load 5-9. The 264 answers are byte-identical. Run:

    python -m comparison.explorer_eval [--questions FILE] [--csv OUT.csv] [--answers OUT.csv] [--lang ru] [--threads auto]
        [--format qa|fewshot]
    python -m comparison.explorer_eval --model Qwen/Qwen2.5-VL-3B-Instruct --questions images.jsonl \
        --adapter lora_v2=path/to/lora_v2 --adapter lora_v1=path/to/lora_v1   # a GPU Space
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

TARGET_S = 360.0  # issue #10: 44 questions × 6 models on 2 CPU cores


def markdown(table) -> str:
    """A pipe table (pandas' to_markdown needs the optional tabulate package)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from comparison.base_encoder import cache_dir
    from comparison.basics import torch_threads
    from comparison.explorer import add_config_adapters, load_explorer
    from comparison.explorer.adapter_io import adapter_folder
    from comparison.explorer.evaluate import DEFAULT_MAX_NEW_TOKENS, evaluate
    from comparison.explorer.questions import load_questions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=None, help="jsonl (default examples/cartoon_eval.jsonl)")
    parser.add_argument("--model", default="offline",
                        help="offline (Gemma 3 270M + shipped adapters), a folder or a Hub id")
    parser.add_argument("--adapter", action="append", default=[], metavar="NAME=PATH",
                        help="one more adapter (folder, .zip or Hub id) on the one model; repeatable")
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--answers", type=Path, default=None)
    parser.add_argument("--lang", default="en", choices=["en", "ru"])
    parser.add_argument("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS)
    parser.add_argument("--format", default="qa", choices=["qa", "fewshot"],
                        help="how every model is asked: qa (the adapters' training format) or fewshot "
                             "(two solved examples first: a base LM then answers what it knows)")
    parser.add_argument("--threads", default=None,
                        help="torch CPU threads: auto (the app's default: the cores idle right now), a number, "
                             "or 0 = torch's default (default: LORA_LENS_EXPLORER_THREADS, else auto)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        os.environ["LORA_LENS_EXPLORER_THREADS"] = str(args.threads)
    questions = load_questions(args.questions)
    start = time.perf_counter()
    explorer = load_explorer(args.model, adapter_spec=None if args.model == "offline" else "none")
    add_config_adapters(explorer)
    for item in args.adapter:
        name, _, spec = item.partition("=")
        if not name or not spec:
            parser.error(f"--adapter: write NAME=PATH, got {item!r}")
        explorer.add_adapter(name, adapter_folder(spec, cache_dir() / "uploads"), spec)
    load = time.perf_counter() - start
    with torch_threads() as threads:  # as ui/explorer_eval.run_evaluation does
        report = evaluate(explorer, questions, max_new_tokens=args.max_new_tokens, fmt=args.format,
                          progress=lambda p: print(p.text(args.lang), file=sys.stderr, flush=True))
    table = report.table(args.lang)
    print(markdown(table))
    if args.csv:
        args.csv.write_text(report.to_csv(args.lang), encoding="utf-8")
    if args.answers:
        args.answers.write_text(report.answers_table(args.lang).to_csv(index=False), encoding="utf-8")
    result = {"format": args.format, "questions": report.questions, "models": report.models, "answers": len(report.answers),
              "load_s": round(load, 1), "evaluate_s": round(report.seconds, 1), "target_s": TARGET_S,
              "within_target": report.seconds <= TARGET_S, "load_avg_1min": round(os.getloadavg()[0], 2),
              "threads": f"{os.environ.get('LORA_LENS_EXPLORER_THREADS', 'auto')} ({threads} used)"}
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
