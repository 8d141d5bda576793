"""Embed a catalog too big for one process: `torchrun` / `accelerate launch`, parquet shards out.

    python -m tuning.catalog_embed --catalog titles.csv --out emb/ [--adapter DIR|none] [--scale 1]
    ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 -m tuning.catalog_embed --catalog ... --out emb/

Every rank reads the same catalog (the Training tab's loader: formats, encodings, column pick),
takes every world-th title in length order (so ranks get equally long texts) and embeds it the
way the app does (`comparison.catalog.index.embed_sorted`: base + adapter, length-sorted
batches, bf16 where native). Embedding needs no collective per batch, so uneven shards cannot
hang; the ranks meet twice: to agree on the output folder and after writing. Rank 0 then writes
`manifest.json` and renames the hidden folder to `--out` in one step, so `--out` is complete or
absent; a killed job leaves only a hidden `.partial` sibling, removed by the next run. The app
opens the result (or a .zip of it) in the catalog view.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import torch

from comparison.basics import native_bf16, parse_prefix
from comparison.catalog.index import embed_sorted
from comparison.catalog.shards import MANIFEST, adapter_hash, write_shard
from tuning import distributed as dist
from tuning.data import CorpusLimits, load_corpus

MAX_TITLES_CLI = 10_000_000


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m tuning.catalog_embed", description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, required=True, help="txt/csv/tsv/xlsx/jsonl/parquet file")
    ap.add_argument("--out", type=Path, required=True, help="output folder (manifest.json + parquet shards)")
    ap.add_argument("--text-column", default=None)
    ap.add_argument("--encoding", default=None)
    ap.add_argument("--base", default=None, help="base model folder or Hub id (default: the app's)")
    ap.add_argument("--adapter", default=None,
                    help="adapter folder or Hub id; default: the app's default adapter; 'none' = base only")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--prefix", default="query: ")
    return ap


def _adapter(spec: str | None) -> tuple[str, str] | None:
    from comparison.adapters import default_adapter

    if spec is None:
        return default_adapter()
    return None if spec.lower() == "none" else (spec, spec)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from comparison.base_encoder import resolve_base
    from comparison.embeddings import DualEncoder, _adapter_folder

    out = args.out.resolve()
    world, main_rank = dist.launched_world_size(), dist.is_main_launch()
    with dist.exit_on_sigterm(world > 1, out):
        accelerator = dist.make_accelerator()
        rank = accelerator.process_index
        if main_rank:
            dist.sweep_stale_partials(out)
        titles = load_corpus(args.catalog, args.text_column, CorpusLimits(max_rows=MAX_TITLES_CLI, max_bytes=2**34),
                             encoding=args.encoding).texts
        base = resolve_base(args.base)
        enc = DualEncoder(base)
        found = _adapter(args.adapter)
        name = None
        if found is not None:
            enc.add_adapter("catalog", found[0], found[1])
            name = "catalog"
        prefix, bf16 = parse_prefix(args.prefix), native_bf16()
        order = sorted(range(len(titles)), key=lambda i: len(titles[i]))
        mine = order[rank::accelerator.num_processes]
        tmp = [str(dist.partial_dir(out))] if main_rank else [""]
        if accelerator.num_processes > 1:
            torch.distributed.broadcast_object_list(tmp, src=0)
        folder = Path(tmp[0])
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        try:
            first, second = embed_sorted(enc, [titles[i] for i in mine], prefix, name, args.scale,
                                         name is not None, bf16)
            write_shard(folder, rank, accelerator.num_processes, mine, [titles[i] for i in mine], first, second)
            seconds = time.perf_counter() - t0
            accelerator.wait_for_everyone()
            if main_rank:
                manifest = {"n_titles": len(titles), "world": accelerator.num_processes, "prefix": prefix,
                            "scale": args.scale, "bf16": bf16, "dim": enc.dim, "base": base.label,
                            "adapter": found[1] if found else None, "adapter_name": None,
                            "adapter_sha256": adapter_hash(_adapter_folder(found[0])) if found else None,
                            "seconds": round(seconds, 2), "catalog": args.catalog.name}
                (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
                if out.exists():
                    shutil.rmtree(out)
                os.replace(folder, out)
                print(json.dumps({"out": str(out), "n_titles": len(titles), "world": accelerator.num_processes,
                                  "seconds": round(seconds, 2)}, ensure_ascii=False))
        finally:
            if main_rank and folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
