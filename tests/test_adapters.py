"""Adapter vetting: safetensors only, plain LoRA only, safe zips, loud mismatches."""
from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import comparison.adapters as adapters_mod
from comparison.adapters import (
    AdapterError, check_adapter_dir, default_adapter, find_adapter_folder, unpack_adapter,
)
from comparison.base_encoder import BaseSource
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter
from tests.tiny_models import tiny_encoder_dir

TEXTS = ["смартфон apple", "кофемашина nespresso"]


@pytest.fixture(scope="module")
def good(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_encoder, tmp_path_factory.mktemp("good") / "adapter")


@pytest.fixture(scope="module")
def encoder(tiny_encoder: Path) -> DualEncoder:
    return DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))


def copy_adapter(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def edit_config(d: Path, **changes) -> None:
    cfg = json.loads((d / "adapter_config.json").read_text())
    cfg.update(changes)
    (d / "adapter_config.json").write_text(json.dumps(cfg))


def assert_encoder_unharmed(enc: DualEncoder, before: np.ndarray) -> None:
    assert np.array_equal(enc.embed(TEXTS), before)


def test_good_adapter_passes_checks(good):
    facts = check_adapter_dir(good)
    assert facts["r"] == 4 and facts["alpha"] == 8.0 and facts["target_modules"] == ("query", "value")
    assert len(facts["shapes"]) == 8 and facts["ignored"] == []


def test_adapter_for_other_hidden_size_is_refused(encoder, tmp_path):
    other_base = tiny_encoder_dir(tmp_path / "base64", hidden=64)
    other = make_adapter(other_base, tmp_path / "a64")
    before = encoder.embed(TEXTS)
    with pytest.raises(AdapterError, match="does not fit|shape"):
        encoder.add_adapter("other", str(other), "other")
    assert "other" not in encoder.adapters
    assert_encoder_unharmed(encoder, before)


def test_rank_in_config_differs_from_weights(good, tmp_path, encoder):
    d = copy_adapter(good, tmp_path / "a")
    edit_config(d, r=8)
    with pytest.raises(AdapterError, match="rank 4.*r=\\[8\\]"):
        check_adapter_dir(d)
    with pytest.raises(AdapterError):
        encoder.add_adapter("bad", str(d), "bad")


def test_missing_weight_is_refused(good, tmp_path, encoder):
    d = copy_adapter(good, tmp_path / "a")
    sd = load_file(str(d / "adapter_model.safetensors"))
    dropped = sorted(k for k in sd if "lora_B" in k)[0]
    del sd[dropped]
    save_file(sd, str(d / "adapter_model.safetensors"))
    before = encoder.embed(TEXTS)
    with pytest.raises(AdapterError, match="lacks 1 weights"):
        encoder.add_adapter("bad", str(d), "bad")
    assert "bad" not in encoder.adapters
    assert_encoder_unharmed(encoder, before)


def test_weight_matching_nothing_is_refused(good, tmp_path, encoder):
    """peft drops unknown keys silently; we must not."""
    d = copy_adapter(good, tmp_path / "a")
    sd = load_file(str(d / "adapter_model.safetensors"))
    sd["base_model.model.encoder.layer.7.attention.self.query.lora_A.weight"] = torch.zeros(4, 32)
    save_file(sd, str(d / "adapter_model.safetensors"))
    with pytest.raises(AdapterError, match="match nothing"):
        encoder.add_adapter("bad", str(d), "bad")


def test_target_modules_absent_from_base(good, tmp_path, encoder):
    d = copy_adapter(good, tmp_path / "a")
    edit_config(d, target_modules=["q_proj", "v_proj"])
    with pytest.raises(AdapterError, match="does not fit"):
        encoder.add_adapter("bad", str(d), "bad")


def test_pickle_adapter_refused(good, tmp_path):
    d = copy_adapter(good, tmp_path / "a")
    (d / "adapter_model.safetensors").rename(d / "adapter_model.bin")
    with pytest.raises(AdapterError, match="pickle"):
        check_adapter_dir(d)


def test_pickles_next_to_safetensors_are_ignored_not_read(good, tmp_path):
    d = copy_adapter(good, tmp_path / "a")
    (d / "training_args.bin").write_bytes(b"\x80\x04not really a pickle")
    assert check_adapter_dir(d)["ignored"] == ["training_args.bin"]


@pytest.mark.parametrize("change, message", [
    ({"trust_remote_code": True}, "trust_remote_code"),
    ({"peft_type": "IA3"}, "only LoRA"),
    ({"r": 0}, "positive integer"),
    ({"lora_alpha": -1}, "lora_alpha"),
    ({"target_modules": []}, "target_modules"),
    ({"layer_replication": [[0, 1]]}, "layer_replication"),
])
def test_bad_configs_refused(good, tmp_path, change, message):
    d = copy_adapter(good, tmp_path / "a")
    edit_config(d, **change)
    with pytest.raises(AdapterError, match=message):
        check_adapter_dir(d)


def test_broken_files_refused(good, tmp_path):
    d = copy_adapter(good, tmp_path / "a")
    (d / "adapter_config.json").write_text("{not json")
    with pytest.raises(AdapterError, match="not valid JSON"):
        check_adapter_dir(d)
    d2 = copy_adapter(good, tmp_path / "b")
    (d2 / "adapter_model.safetensors").write_bytes(b"garbage")
    with pytest.raises(AdapterError, match="not a valid safetensors"):
        check_adapter_dir(d2)
    with pytest.raises(AdapterError, match="missing"):
        check_adapter_dir(tmp_path)


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def adapter_members(good: Path, folder: str = "") -> dict[str, bytes]:
    return {folder + f.name: f.read_bytes() for f in good.iterdir()}


def test_zip_with_nested_folder_unpacks(good, tmp_path, encoder):
    z = zip_of(tmp_path / "up.zip", adapter_members(good, "my-adapter/"))
    folder = unpack_adapter(z, tmp_path / "work")
    assert folder.name == "my-adapter" and (tmp_path / "work") in folder.parents
    info = encoder.add_adapter("zipped", str(folder), "zipped")
    assert info.r == 4
    encoder.remove_adapter("zipped")


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/evil", "C:/evil", "..\\x"])
def test_zip_path_escape_refused(good, tmp_path, name):
    z = zip_of(tmp_path / "up.zip", {**adapter_members(good), name: b"x"})
    with pytest.raises(AdapterError, match="absolute|outside"):
        unpack_adapter(z, tmp_path / "work")
    assert not (tmp_path / "x").exists() and not (tmp_path / "work" / "x").exists()
    assert list((tmp_path / "work").iterdir()) == []


def test_zip_symlink_refused(good, tmp_path):
    z = tmp_path / "up.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, data in adapter_members(good).items():
            zf.writestr(name, data)
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(AdapterError, match="symbolic link"):
        unpack_adapter(z, tmp_path / "work")


def test_zip_bomb_refused(good, tmp_path, monkeypatch):
    monkeypatch.setattr(adapters_mod, "MAX_UNPACKED_BYTES", 1 << 20)
    z = zip_of(tmp_path / "bomb.zip", {**adapter_members(good), "zeros": bytes(8 << 20)})
    assert z.stat().st_size < 100_000
    with pytest.raises(AdapterError, match="unpacks to"):
        unpack_adapter(z, tmp_path / "work")


def test_zip_with_too_many_members_refused(tmp_path):
    z = zip_of(tmp_path / "many.zip", {f"f{i}": b"" for i in range(adapters_mod.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(AdapterError, match="entries"):
        unpack_adapter(z, tmp_path / "work")


def test_not_a_zip_and_no_adapter(tmp_path):
    junk = tmp_path / "a.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(AdapterError, match="not a readable zip"):
        unpack_adapter(junk, tmp_path / "work")
    txt = tmp_path / "a.txt"
    txt.write_text("hello")
    with pytest.raises(AdapterError, match=r"\.zip"):
        unpack_adapter(txt, tmp_path / "work")
    z = zip_of(tmp_path / "empty.zip", {"readme.md": b"hi"})
    with pytest.raises(AdapterError, match="no adapter_config.json"):
        unpack_adapter(z, tmp_path / "work")


def test_find_adapter_folder_prefers_shallowest_and_refuses_ambiguity(good, tmp_path):
    root = tmp_path / "repo"
    copy_adapter(good, root)
    copy_adapter(good, root / "peft")
    assert find_adapter_folder(root) == root
    two = tmp_path / "two"
    copy_adapter(good, two / "a")
    copy_adapter(good, two / "b")
    with pytest.raises(AdapterError, match="several adapters"):
        find_adapter_folder(two)


def test_hub_adapter_offline_is_a_clear_error(encoder):
    with pytest.raises(AdapterError, match="could not download"):
        encoder.add_adapter("hub", "someone/missing-adapter", "hub")


def test_default_adapter_offline(monkeypatch, tmp_path, good):
    monkeypatch.setattr(adapters_mod, "SHIPPED_ADAPTER_DIR", tmp_path / "nope")
    assert default_adapter() is None
    monkeypatch.setattr(adapters_mod, "SHIPPED_ADAPTER_DIR", good)
    path, label = default_adapter()
    assert path == str(good) and "example" in label
    # online too: the project's adapter stays the default (the report's is offered beside it)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert default_adapter()[0] == str(good)
