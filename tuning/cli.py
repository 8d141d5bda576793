"""Command line: `python -m tuning train ...` and `python -m tuning eval ...`.

The train parser is built from `TrainConfig`'s fields (names, defaults, help), as trl's
scripts do, so every setting the UI has is on the CLI under the same name.

    python -m tuning train --corpus examples/products_corpus.csv --out runs/a --r 8
    python -m tuning eval --adapter runs/a --dev examples/dev_pairs.csv

Several processes (DDP; see README "Training on several processes / machines" and
tuning/distributed.py): every rank takes an even shard of every epoch, stops at the same
step, and only rank 0 prints and writes the adapter:

    torchrun --nproc_per_node 2 -m tuning train --corpus C --out DIR                # CPU: gloo
    accelerate launch --cpu --num_processes 2 -m tuning train --corpus C --out DIR  # CPU: gloo
    torchrun --nproc_per_node 4 -m tuning train --corpus C --out DIR --no-use-4bit  # 4 GPUs: NCCL
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Literal, get_args, get_origin

from tuning.config import TrainConfig, field_types


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, typed from its real type hint (Literal → choices).

    Flags default to None so `config_from_args` can tell what the user gave from what a
    preset sets; text is turned into values by `tuning.config.parse_value`, the same parser
    the UI uses. (transformers' HfArgumentParser fills in the dataclass defaults, which
    would hide that difference, so it does not fit here.)
    """
    hints = field_types()
    for f in fields(TrainConfig):
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        flag = "--" + f.name.replace("_", "-")
        # torchrun / accelerate launch read "--r" as an abbreviation of their own --rdzv-* options
        flags = (flag, "--lora-r") if f.name == "r" else (flag,)
        help_text = f.metadata.get("help", "").replace("%", "%%")
        hint = hints[f.name]
        if hint is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=f"{help_text} (default: {default})")
            continue
        choices = get_args(hint) if get_origin(hint) is Literal else None
        shown = ",".join(default) if isinstance(default, list) else default
        parser.add_argument(*flags, dest=f.name, type=str, default=None, choices=choices,
                            help=f"{help_text} (default: {shown})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tuning", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a LoRA adapter with TSDAE on a text corpus")
    tr.add_argument("--corpus", type=Path, required=True, help="txt/csv/tsv/xlsx/jsonl/parquet file")
    tr.add_argument("--out", type=Path, required=True, help="output folder for the adapter")
    tr.add_argument("--text-column", default=None, help="column with the texts (default: auto)")
    tr.add_argument("--base", default=None,
                    help="base model folder or Hub id (default: comparison.base_encoder.resolve_base())")
    tr.add_argument("--dev", type=Path, default=None,
                    help="labelled dev csv; base vs tuned metrics go into the model card")
    tr.add_argument("--preset", default=None, help="start from a named preset in tuning.config.PRESETS")
    _add_config_args(tr)
    ev = sub.add_parser("eval", help="base vs base + adapter retrieval metrics on a labelled csv")
    ev.add_argument("--adapter", type=Path, default=None)
    ev.add_argument("--dev", type=Path, required=True)
    ev.add_argument("--base", default=None)
    ev.add_argument("--prefix", default="query: ")
    ev.add_argument("--pooling", default="mean")
    ev.add_argument("--scale", type=float, nargs="+", default=[1.0],
                    help="adapter strength(s) to score, e.g. --scale 0.5 0.75 1 (default: 1)")
    return parser


def _base_path(spec: str | None) -> str:
    from comparison.base_encoder import resolve_base

    return resolve_base(spec).path


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Preset values first, then every flag the user actually gave."""
    from tuning.config import PRESETS

    values: dict = {}
    if args.preset:
        if args.preset not in PRESETS:
            raise SystemExit(f"unknown preset {args.preset!r}; choose from {list(PRESETS)}")
        values.update(PRESETS[args.preset])
    for f in fields(TrainConfig):
        given = getattr(args, f.name)
        if given is not None:
            values[f.name] = given
    return TrainConfig.from_dict(values)


def main(args: argparse.Namespace) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.command == "eval":
        from tuning.evaluate import evaluate

        frame = evaluate(_base_path(args.base), args.adapter, args.dev, args.prefix, args.pooling,
                         tuple(args.scale))
        print(frame.round(4).to_string())
        return 0
    from tuning.card import write_card
    from tuning.data import load_corpus
    from tuning.distributed import is_main_launch
    from tuning.train import train

    cfg = config_from_args(args)
    corpus = load_corpus(args.corpus, args.text_column)
    main_rank = is_main_launch()
    if main_rank:
        print(f"corpus: {corpus.n_clean} texts from column {corpus.text_column!r} "
              f"({corpus.n_raw} rows, dropped {corpus.dropped})", flush=True)

    def progress(p) -> None:
        if p.step % 10 == 0 or p.step == p.total_steps or p.loss is None:
            eta = f"{p.eta_s:.0f}s" if p.eta_s is not None else "?"
            loss = f"{p.loss:.4f}" if p.loss is not None else "-"
            print(f"[{p.step}/{p.total_steps}] loss {loss} elapsed {p.elapsed_s:.0f}s eta {eta} "
                  f"| {p.message}", flush=True)

    result = train(cfg, corpus.texts, _base_path(args.base), args.out, progress)
    if not main_rank:
        return 0 if result.status != "cancelled" else 1
    print(json.dumps({"status": result.status, "adapter_saved": result.adapter_saved,
                      "steps": result.steps, "mode": result.mode_label,
                      "elapsed_s": round(result.elapsed_s, 1)}, ensure_ascii=False))
    if args.dev is not None and result.adapter_saved:
        from tuning.evaluate import evaluate

        frame = evaluate(_base_path(args.base), result.adapter_dir, args.dev, cfg.prefix, cfg.pooling)
        print(frame.round(4).to_string())
        log_path = Path(result.adapter_dir) / "training_log.json"
        log = json.loads(log_path.read_text(encoding="utf-8"))
        log["dev_metrics"] = {"dev_set": args.dev.name, **frame.round(4).to_dict(orient="index")}
        log_path.write_text(json.dumps(log, ensure_ascii=False, indent=2), encoding="utf-8")
        write_card(Path(result.adapter_dir), log, frame.reset_index())
    return 0 if result.status != "cancelled" else 1


def cli(argv: list[str] | None = None) -> int:
    return main(build_parser().parse_args(argv if argv is not None else sys.argv[1:]))
