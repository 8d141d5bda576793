"""E5S1 reader + converter on a tiny E5S1 file that the test writes itself.

The writer below packs weights the way e5.c reads them, from values the test knows, so
the dequantisation, the tensor mapping, the tokenizer and the whole forward pass are
checked against an independent reference, not against the code under test.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import normalizers
from transformers import AutoModel, AutoTokenizer

from comparison import e5_convert
from comparison.e5_convert import convert_e5s1
from comparison.e5s1 import E5S1FormatError, dequantize_q4_0, read_e5s1
from comparison.xlmr_tokenizer import nmt_nfkc_charsmap

H, NL, NH, FF, MAXP, TV, EPS = 32, 2, 4, 64, 16, 2, 1e-12
PIECES = [
    ("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -3.0),
    ("▁hello", -2.0), ("▁world", -2.5), ("he", -4.0), ("llo", -4.0), ("▁мир", -2.0),
    ("▁ёж", -2.0), ("▁ABC", -2.0), ("A", -5.0), ("B", -5.0), ("C", -5.0), ("▁XII", -2.0),
    ("▁a", -3.0), ("▁b", -3.0), ("▁令和", -1.0), ("▁query", -2.0), (":", -3.0),
    ("▁x", -3.0), ("▁y", -3.0), ("<mask>", 0.0),
]
VOCAB = len(PIECES) + 3  # like the real file: the embedding has a few rows more than pieces
ID = {p: i for i, (p, _) in enumerate(PIECES)}


def _q4(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 weights: (packed bytes, the float32 values they stand for)."""
    n_blocks = shape[0] * shape[1] // 32
    d = rng.uniform(0.01, 0.1, n_blocks).astype(np.float16)
    q = rng.integers(0, 16, (n_blocks, 32))
    packed = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    raw = b"".join(d[i].tobytes() + packed[i].tobytes() for i in range(n_blocks))
    return raw, ((q - 8) * d.astype(np.float32)[:, None]).reshape(shape).astype(np.float32)


Raw = dict[str, tuple[int, bytes, int]]


def make_weights(seed: int = 0) -> tuple[Raw, dict[str, np.ndarray]]:
    """E5S1 tensors {name: (dtype, bytes, count)} and their true float values."""
    rng = np.random.default_rng(seed)
    raw: Raw = {}
    vals: dict[str, np.ndarray] = {}

    def f32(name: str, shape: tuple[int, ...], scale: float = 0.1, base: float = 0.0) -> None:
        v = (base + scale * rng.standard_normal(shape)).astype(np.float32)
        raw[name], vals[name] = (0, v.tobytes(), v.size), v

    def q4(name: str, shape: tuple[int, int]) -> None:
        data, v = _q4(rng, shape)
        raw[name], vals[name] = (1, data, v.size), v

    q4("emb.word", (VOCAB, H))
    f32("emb.pos", (MAXP, H))
    f32("emb.type", (TV, H))
    f32("emb.ln.w", (H,), base=1.0)
    f32("emb.ln.b", (H,))
    for layer in range(NL):
        for short, (o, i) in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H),
                              "fi": (FF, H), "fo": (H, FF)}.items():
            q4(f"l{layer}.{short}.w", (o, i))
            f32(f"l{layer}.{short}.b", (o,))
        for ln in ("aln", "oln"):
            f32(f"l{layer}.{ln}.w", (H,), base=1.0)
            f32(f"l{layer}.{ln}.b", (H,))
    return raw, vals


def write_e5s1(path: Path, tensors: Raw, table: dict[int, str]) -> Path:
    """Write an E5S1 file exactly as e5.c's e5_parse reads it."""
    blob = b"".join(p.encode() for p, _ in PIECES)
    offs = np.cumsum([0] + [len(p.encode()) for p, _ in PIECES]).astype("<u4")
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, NL, NH, FF, VOCAB, MAXP, TV, EPS, 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offs.tobytes()
    head += np.array([s for _, s in PIECES], "<f4").tobytes() + blob
    norm = b"".join(
        struct.pack(f"<IB{len(v)}I", cp, len(v), *map(ord, v)) for cp, v in table.items())
    head += struct.pack("<iI", len(table), len(norm)) + norm
    dir_size = 4 + sum(2 + len(n.encode()) + 21 for n in tensors)
    pos = len(head) + dir_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, (dtype, payload, count) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, pos + len(data), len(payload))
        data += payload
    path.write_bytes(head + directory + data)
    return path


@pytest.fixture(scope="module")
def charsmap_table() -> dict[int, str]:
    """A table like the real file's: today's nmt_nfkc per codepoint, with a few edits."""
    pre = normalizers.Precompiled(nmt_nfkc_charsmap())
    table = {}
    for cp in range(0x110000):
        if not 0xD800 <= cp < 0xE000 and (out := pre.normalize_str(chr(cp))) != chr(cp):
            table[cp] = out
    table[0x200D] = " "  # the real table turns ZERO WIDTH JOINER into a space
    del table[0x32FF]  # newer Unicode: today's rules give "令和", the real table keeps it
    return table


@pytest.fixture(scope="module")
def tiny(
    tmp_path_factory: pytest.TempPathFactory, charsmap_table: dict[int, str]
) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """(E5S1 path, converted dir, true weights)."""
    raw, vals = make_weights()
    root = tmp_path_factory.mktemp("e5s1")
    src = write_e5s1(root / "tiny.bin", raw, charsmap_table)
    return src, convert_e5s1(src, root / "model"), vals


def test_dequantisation_matches_hand_computation() -> None:
    block = np.float16(0.5).tobytes() + bytes([0x1F] + [0x88] * 14 + [0x0A])
    w = dequantize_q4_0(block, 32)
    assert w[0] == (0xF - 8) * 0.5 and w[16] == (0x1 - 8) * 0.5  # byte 0: low, high nibble
    assert w[15] == (0xA - 8) * 0.5 and w[31] == (0x0 - 8) * 0.5
    assert np.all(w[1:15] == 0.0) and np.all(w[17:31] == 0.0)


def test_reader_shapes_and_values(tiny) -> None:
    src, _, vals = tiny
    f = read_e5s1(src)
    assert (f.header.hidden, f.header.layers, f.header.vocab) == (H, NL, VOCAB)
    assert f.vocab.pieces == [p for p, _ in PIECES] and f.vocab.pad == 1 and f.vocab.unk == 3
    assert f.norm_table[0x200D] == " " and f.norm_table[0xFF21] == "A"
    for name, v in vals.items():
        assert f.tensor(name).shape == v.shape
        np.testing.assert_array_equal(f.tensor(name), v)


def test_reader_rejects_bad_files(tmp_path: Path, tiny) -> None:
    src = tiny[0]
    (tmp_path / "bad.bin").write_bytes(b"GGUF" + src.read_bytes()[4:])
    with pytest.raises(E5S1FormatError, match="magic"):
        read_e5s1(tmp_path / "bad.bin")
    (tmp_path / "short.bin").write_bytes(src.read_bytes()[: len(src.read_bytes()) - 100])
    with pytest.raises(E5S1FormatError, match="outside the file|truncated"):
        read_e5s1(tmp_path / "short.bin")


def _reference(vals: dict[str, np.ndarray], ids: list[int]) -> torch.Tensor:
    """The engine's forward pass (e5.c, minus its int8 activations) in float64."""
    t = {k: torch.from_numpy(v).double() for k, v in vals.items()}

    def ln(x: torch.Tensor, p: str) -> torch.Tensor:
        mu, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
        return (x - mu) / torch.sqrt(var + EPS) * t[p + ".w"] + t[p + ".b"]

    x = ln(t["emb.word"][ids] + t["emb.pos"][: len(ids)] + t["emb.type"][0], "emb.ln")
    hd = H // NH
    for layer in range(NL):
        def lin(z: torch.Tensor, s: str) -> torch.Tensor:
            return z @ t[f"l{layer}.{s}.w"].T + t[f"l{layer}.{s}.b"]

        q, k, v = (lin(x, s).view(-1, NH, hd).transpose(0, 1) for s in ("q", "k", "v"))
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd), -1)
        ctx = (att @ v).transpose(0, 1).reshape(-1, H)
        x = ln(x + lin(ctx, "ao"), f"l{layer}.aln")
        mid = lin(x, "fi")
        mid = 0.5 * mid * (1 + torch.erf(mid / math.sqrt(2)))
        x = ln(x + lin(mid, "fo"), f"l{layer}.oln")
    return x


def test_converted_model_matches_reference(tiny) -> None:
    _, out, vals = tiny
    model = AutoModel.from_pretrained(out, add_pooling_layer=False).eval()
    assert type(model).__name__ == "BertModel" and model.config.model_type == "bert"
    ids = [0, ID["▁hello"], ID["▁world"], ID["▁мир"], ID["▁XII"], 2]
    with torch.no_grad():
        got = model(input_ids=torch.tensor([ids])).last_hidden_state[0].double()
    torch.testing.assert_close(got, _reference(vals, ids), atol=2e-4, rtol=1e-4)
    # padding does not change the unpadded tokens (absolute positions start at 0)
    batch = torch.tensor([ids, ids[:3] + [1, 1, 1]])
    mask = torch.tensor([[1] * 6, [1, 1, 1, 0, 0, 0]])
    with torch.no_grad():
        h = model(input_ids=batch, attention_mask=mask).last_hidden_state.double()
    torch.testing.assert_close(h[1, :3], _reference(vals, ids[:3]), atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize(("text", "pieces"), [
    ("hello world", ["▁hello", "▁world"]),
    ("  hello   world  ", ["▁hello", "▁world"]),  # SentencePiece trims and collapses
    ("ＡＢＣ", ["▁ABC"]),  # full-width letters (NFKC)
    ("Ⅻ", ["▁XII"]),  # roman numeral compatibility character
    ("a\u00a0b", ["▁a", "▁b"]),  # NBSP is a space
    ("ёж мир", ["▁ёж", "▁мир"]),
    ("x\u200dy", ["▁x", "▁y"]),  # the file's table wins: ZWJ -> space
    ("\u32ff", ["▁", "<unk>"]),  # the file's table wins: not today's "令和"
    ("hello", ["▁hello"]),
    ("helloщ", ["▁hello", "<unk>"]),
])
def test_tokenizer_ids_after_reload(tiny, text: str, pieces: list[str]) -> None:
    tok = AutoTokenizer.from_pretrained(tiny[1])
    assert tok(text)["input_ids"] == [0] + [ID[p] for p in pieces] + [2]


def test_tokenizer_files_keep_the_table(tiny) -> None:
    cfg = json.loads((tiny[1] / "tokenizer_config.json").read_text())
    assert cfg["tokenizer_class"] in ("TokenizersBackend", "PreTrainedTokenizerFast")
    tok = AutoTokenizer.from_pretrained(tiny[1])
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id) == (1, 0, 2, 3)
    assert tok.mask_token_id == ID["<mask>"] and tok.model_max_length == MAXP


def test_peft_lora_targets_e5_module_names(tiny) -> None:
    from peft import LoraConfig, get_peft_model

    model = AutoModel.from_pretrained(tiny[1], add_pooling_layer=False)
    config = LoraConfig(r=2, target_modules=["query", "key", "value", "dense"])
    peft_model = get_peft_model(model, config)
    names = {n for n, _ in peft_model.named_parameters() if "lora_A" in n}
    assert len(names) == NL * 6
    assert "base_model.model.encoder.layer.0.attention.self.query.lora_A.default.weight" in names


def test_conversion_is_atomic(tmp_path: Path, tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    src, good, _ = tiny
    out = tmp_path / "model"
    convert_e5s1(src, out)
    before = (out / "model.safetensors").read_bytes()

    def boom(_f):
        raise RuntimeError("disk full")

    monkeypatch.setattr(e5_convert, "build_tokenizer", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        convert_e5s1(src, out)
    assert (out / "model.safetensors").read_bytes() == before  # old model untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temp dirs left
    with pytest.raises(RuntimeError):
        convert_e5s1(src, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_progress_reports_increase(tmp_path: Path, tiny) -> None:
    seen: list[float] = []
    convert_e5s1(tiny[0], tmp_path / "m", lambda f, _msg: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
