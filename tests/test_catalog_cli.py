"""`python -m tuning.catalog_embed`: parquet shards the app opens, alone and under torchrun."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from comparison.base_encoder import BaseSource
from comparison.catalog.index import CatalogError, build_index
from comparison.catalog.shards import read_embedded
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter
from tuning.catalog_embed import main

ROOT = Path(__file__).resolve().parents[1]
TITLES = [f"Товар {k} модель {i}" + " x" * (i % 7) for k in ("Apple", "Bosch", "Sony") for i in range(40)]


@pytest.fixture(scope="module")
def setup(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cli")
    adapter = make_adapter(tiny_encoder, root / "ad", seed=4)
    catalog = root / "catalog.txt"
    catalog.write_text("\n".join(TITLES) + "\n", encoding="utf-8")
    enc = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label=f"local: {tiny_encoder}"))
    enc.add_adapter("a", str(adapter), "a")
    return root, adapter, catalog, enc


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check(out: Path, enc: DualEncoder, world: int) -> None:
    index, manifest = read_embedded(out)
    assert manifest["world"] == world and manifest["n_titles"] == len(TITLES)
    assert index.titles == TITLES
    ref = build_index(enc, TITLES, "a", 1.0, bf16=manifest["bf16"])
    np.testing.assert_allclose(index.base, ref.base, atol=2e-3)
    np.testing.assert_allclose(index.tuned, ref.tuned, atol=2e-3)


def test_single_process(setup, tiny_encoder):
    root, adapter, catalog, enc = setup
    out = root / "emb1"
    assert main(["--catalog", str(catalog), "--out", str(out), "--base", str(tiny_encoder),
                 "--adapter", str(adapter)]) == 0
    _check(out, enc, 1)
    assert not [p for p in root.iterdir() if p.name.startswith(".emb1")]
    zpath = root / "emb1.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in out.iterdir():
            zf.write(f, f"emb1/{f.name}")
    index, _ = read_embedded(zpath, root / "work")
    assert index.n == len(TITLES)


def test_incomplete_folder_is_refused(setup, tiny_encoder):
    root, adapter, catalog, enc = setup
    out = root / "emb_bad"
    main(["--catalog", str(catalog), "--out", str(out), "--base", str(tiny_encoder), "--adapter", "none"])
    index, manifest = read_embedded(out)
    assert index.tuned is None and manifest["adapter"] is None
    next(out.glob("shard-*")).unlink()
    with pytest.raises(CatalogError, match="missing"):
        read_embedded(out)
    with pytest.raises(CatalogError, match="manifest"):
        read_embedded(root)


@pytest.mark.skipif(shutil.which("torchrun") is None and not Path(sys.executable).with_name("torchrun").exists(),
                    reason="torchrun not installed")
def test_two_ranks_under_torchrun(setup, tiny_encoder):
    root, adapter, catalog, enc = setup
    out = root / "emb2"
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", str(_free_port()), "-m", "tuning.catalog_embed",
                           "--catalog", str(catalog), "--out", str(out), "--base", str(tiny_encoder),
                           "--adapter", str(adapter)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _check(out, enc, 2)
    assert len(list(out.glob("shard-*.parquet"))) == 2
