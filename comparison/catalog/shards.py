"""A catalog embedded outside the app (the multi-process CLI), as parquet shards + a manifest.

Layout of the folder (what `tuning.catalog_embed` writes and `read_embedded` opens):
`manifest.json` — n_titles, world (shard count), prefix, scale, bf16, dim, the base's label and
the adapter's label plus the SHA-256 of its `adapter_model.safetensors`; and
`shard-<rank>-of-<world>.parquet` with columns `row` (position in the catalog), `title`,
`base` and `tuned` (fixed-size float32 lists). Why the adapter's hash: query vectors must come
from the very adapter that made the catalog's, so the app refuses a catalog made with another.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from comparison.catalog.index import CatalogError, CatalogIndex, check_titles

MANIFEST = "manifest.json"


def adapter_hash(folder: Path) -> str:
    """SHA-256 of an adapter's weights file (its identity, whatever it is called)."""
    digest = hashlib.sha256()
    with open(Path(folder) / "adapter_model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_name(rank: int, world: int) -> str:
    return f"shard-{rank:05d}-of-{world:05d}.parquet"


def write_shard(folder: Path, rank: int, world: int, rows: list[int], titles: list[str],
                base: np.ndarray, tuned: np.ndarray | None) -> Path:
    """One rank's rows as parquet (vectors as fixed-size float32 lists)."""
    dim = base.shape[1]
    cols = {"row": pa.array(rows, pa.int64()), "title": pa.array(titles, pa.string()),
            "base": pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1), pa.float32()), dim)}
    if tuned is not None:
        cols["tuned"] = pa.FixedSizeListArray.from_arrays(pa.array(tuned.reshape(-1), pa.float32()), dim)
    path = Path(folder) / shard_name(rank, world)
    pq.write_table(pa.table(cols), path)
    return path


def _vectors(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(-1, dim)


def read_embedded(source: Path, work_dir: Path | None = None) -> tuple[CatalogIndex, dict]:
    """(index, manifest) from a shard folder or a .zip of one; CatalogError when incomplete."""
    folder = Path(source)
    if folder.is_file() and folder.suffix.lower() == ".zip":
        folder = _unzip(folder, Path(work_dir or folder.parent) / (folder.stem + "-shards"))
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise CatalogError("This is not an embedded catalog (no manifest.json).", "catalog_not_embedded")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    world, n, dim = int(manifest["world"]), int(manifest["n_titles"]), int(manifest["dim"])
    titles: list[str | None] = [None] * n
    base = np.zeros((n, dim), np.float32)
    tuned = np.zeros((n, dim), np.float32) if manifest.get("adapter") else None
    for rank in range(world):
        path = folder / shard_name(rank, world)
        if not path.is_file():
            raise CatalogError(f"Shard {rank} of {world} is missing.", "catalog_not_embedded")
        table = pq.read_table(path)
        rows = table["row"].to_numpy()
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise CatalogError("A shard names rows outside the catalog.", "catalog_not_embedded")
        for r, title in zip(rows.tolist(), table["title"].to_pylist()):
            titles[r] = title
        base[rows] = _vectors(table["base"], dim)
        if tuned is not None:
            tuned[rows] = _vectors(table["tuned"], dim)
    if any(x is None for x in titles):
        raise CatalogError("The shards do not cover every title.", "catalog_not_embedded")
    check_titles(titles)  # type: ignore[arg-type]
    index = CatalogIndex(titles, base, tuned, manifest.get("adapter_name"), float(manifest["scale"]),  # type: ignore[arg-type]
                         manifest["prefix"], bool(manifest["bf16"]), {"base": float(manifest.get("seconds", 0.0))})
    return index, manifest


def _unzip(path: Path, out: Path) -> Path:
    """Extract only manifest.json and shard files, flat, refusing any path that climbs out."""
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = Path(info.filename).name
            if info.is_dir() or not (name == MANIFEST or (name.startswith("shard-") and name.endswith(".parquet"))):
                continue
            if ".." in Path(info.filename).parts or Path(info.filename).is_absolute():
                raise CatalogError("The zip has unsafe paths.", "catalog_not_embedded")
            (out / name).write_bytes(zf.read(info))
    return out
