"""Hostile adapter uploads: damaged zips, lying headers, bombs, escapes and booby-trapped pickles.

Why: an adapter zip is the one file type the app unpacks and loads into a model shared by
every user. Each case must end in an AdapterError (shown to the user as is) with nothing
written outside the session's work folder and no code from the upload ever executed.
"""
from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import comparison.adapters as adapters_mod
from comparison.adapters import AdapterError, check_adapter_dir, unpack_adapter
from comparison.base_encoder import BaseSource
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def good(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_encoder, tmp_path_factory.mktemp("good") / "adapter")


def members(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


def write_zip(path: Path, files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def leftovers(work: Path) -> list[str]:
    return sorted(str(p.relative_to(work)) for p in work.rglob("*")) if work.exists() else []


class Canary:
    """Unpickling this creates `path`: proof that a pickle was (or was not) loaded."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_damaged_member_is_an_adapter_error_and_leaves_nothing(good: Path, tmp_path: Path) -> None:
    z = write_zip(tmp_path / "a.zip", {**members(good), "pad.txt": b"x" * 50_000})
    raw = bytearray(z.read_bytes())
    start = raw.find(b"PK\x03\x04", raw.find(b"pad.txt") - 40)
    name_len, extra_len = struct.unpack_from("<HH", raw, start + 26)
    data = start + 30 + name_len + extra_len
    raw[data + 2:data + 12] = b"\x00" * 10  # corrupt the deflate stream
    z.write_bytes(bytes(raw))
    with pytest.raises(AdapterError, match="damaged"):
        unpack_adapter(z, tmp_path / "work")
    assert leftovers(tmp_path / "work") == []


def test_size_header_that_lies_is_refused(tmp_path: Path) -> None:
    """Headers claim 10 bytes, the data holds 100 kB: caught by the CRC, not trusted."""
    z = write_zip(tmp_path / "lie.zip", {"adapter_config.json": b"0" * 100_000})
    raw = bytearray(z.read_bytes())
    struct.pack_into("<I", raw, raw.find(b"PK\x03\x04") + 22, 10)
    struct.pack_into("<I", raw, raw.find(b"PK\x01\x02") + 24, 10)
    z.write_bytes(bytes(raw))
    with pytest.raises(AdapterError, match="damaged"):
        unpack_adapter(z, tmp_path / "work")
    assert leftovers(tmp_path / "work") == []


def test_declared_bomb_refused_before_a_byte_is_written(good: Path, tmp_path: Path) -> None:
    z = write_zip(tmp_path / "bomb.zip", {**members(good), "zeros.bin": bytes(1000)})
    raw = bytearray(z.read_bytes())
    cd = raw.find(b"PK\x01\x02", raw.find(b"PK\x01\x02") + 1)
    while cd != -1:  # declare 600 MB for the last entry in the central directory
        last, cd = cd, raw.find(b"PK\x01\x02", cd + 1)
    struct.pack_into("<I", raw, last + 24, 600 * 2**20)
    z.write_bytes(bytes(raw))
    assert z.stat().st_size < 200_000
    with pytest.raises(AdapterError, match=r"unpacks to 600 MB; limit is 512 MB"):
        unpack_adapter(z, tmp_path / "work")
    assert leftovers(tmp_path / "work") == []


def test_real_bomb_stops_at_the_limit(good: Path, tmp_path: Path, monkeypatch) -> None:
    """A zip whose headers are honest but whose sum is over the (lowered) limit."""
    monkeypatch.setattr(adapters_mod, "MAX_UNPACKED_BYTES", 4 * 2**20)
    z = write_zip(tmp_path / "bomb.zip", {**members(good), "zeros.bin": bytes(16 * 2**20)})
    assert z.stat().st_size < 100_000  # ~1000:1, the shape of a real bomb
    with pytest.raises(AdapterError, match="unpacks to"):
        unpack_adapter(z, tmp_path / "work")
    assert leftovers(tmp_path / "work") == []


@pytest.mark.parametrize("evil", ["../../evil.txt", "/tmp/evil.txt", "ok/../../evil.txt"])
def test_path_escape_refused_before_any_good_member_is_written(good: Path, tmp_path: Path,
                                                               evil: str) -> None:
    z = write_zip(tmp_path / "esc.zip", {**members(good), evil: b"owned"})
    with pytest.raises(AdapterError, match="refused"):
        unpack_adapter(z, tmp_path / "work" / "session")
    assert leftovers(tmp_path / "work") == ["session"]  # created, then left empty
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "work" / "evil.txt").exists()


def test_pickle_only_adapter_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    canary = tmp_path / "PWNED"
    cfg = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["query"]}
    z = write_zip(tmp_path / "p.zip", {"adapter_config.json": json.dumps(cfg).encode(),
                                       "adapter_model.bin": pickle.dumps(Canary(canary))})
    folder = unpack_adapter(z, tmp_path / "work")
    with pytest.raises(AdapterError, match="adapter_model.bin is a pickle file"):
        check_adapter_dir(folder)
    assert not canary.exists()


def test_pickle_beside_safetensors_is_never_loaded(good: Path, tiny_encoder: Path,
                                                   tmp_path: Path) -> None:
    canary = tmp_path / "PWNED"
    booby = {"adapter_model.bin": pickle.dumps(Canary(canary)),
             "training_args.bin": pickle.dumps(Canary(canary))}
    z = write_zip(tmp_path / "p.zip", {**members(good), **booby})
    folder = unpack_adapter(z, tmp_path / "work")
    enc = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    info = enc.add_adapter("u", str(folder), "upload")
    assert info.r == 4
    base, tuned = enc.embed_both(["смартфон apple"], "query: ", "u")
    assert not np.allclose(base, tuned)  # the safetensors weights were loaded
    assert not canary.exists()


@pytest.mark.parametrize("change, message", [
    ({"trust_remote_code": True}, "trust_remote_code"),
    ({"peft_type": "PREFIX_TUNING"}, "only LoRA"),
    ({"r": "8; import os"}, "positive integer"),
    ({"r": True}, "positive integer"),
    ({"target_modules": ["query", 3]}, "target_modules"),
    ({"rank_pattern": {"query": -1}}, "rank_pattern"),
])
def test_hostile_config_values(good: Path, tmp_path: Path, change: dict, message: str) -> None:
    files = members(good)
    cfg = {**json.loads(files["adapter_config.json"]), **change}
    z = write_zip(tmp_path / "c.zip", {**files, "adapter_config.json": json.dumps(cfg).encode()})
    with pytest.raises(AdapterError, match=message):
        check_adapter_dir(unpack_adapter(z, tmp_path / "work"))


def test_config_that_is_not_json_or_huge(good: Path, tmp_path: Path) -> None:
    files = members(good)
    for body, message in [(b"\xff\xfe{", "not valid JSON"), (b"[1, 2]", "JSON object"),
                          (b" " * (2 * 2**20) + b"{}", "too large")]:
        z = write_zip(tmp_path / "c.zip", {**files, "adapter_config.json": body})
        with pytest.raises(AdapterError, match=message):
            check_adapter_dir(unpack_adapter(z, tmp_path / "work"))


def test_other_rank_in_weights_than_config_is_loud(good: Path, tiny_encoder: Path,
                                                   tmp_path: Path) -> None:
    other = make_adapter(tiny_encoder, tmp_path / "r8", r=8)
    files = {**members(good), "adapter_model.safetensors": (other / "adapter_model.safetensors").read_bytes()}
    z = write_zip(tmp_path / "mix.zip", files)
    enc = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    with pytest.raises(AdapterError, match=r"has rank 8, but the config says r=\[4\]"):
        enc.add_adapter("mix", str(unpack_adapter(z, tmp_path / "work")), "mix")
    assert enc.adapters == {}


def test_the_canary_really_fires_when_unpickled(tmp_path: Path) -> None:
    """Guards the two pickle tests above: their canary is not a dud."""
    pickle.loads(pickle.dumps(Canary(tmp_path / "PWNED")))
    assert (tmp_path / "PWNED").exists()
