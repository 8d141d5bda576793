"""Tiny models built locally from configs, so tests never download anything.

The tiny encoder has the same architecture as multilingual-e5-small (a BertModel, no
pooler, with an XLM-R Unigram fast tokenizer), only a few hundred kilobytes big, so every
code path that loads, adapts, saves and scores the real base runs on it in milliseconds.
"""
from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel, XLMRobertaTokenizerFast

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
WORDS = (
    "смартфон телефон apple iphone кофемашина nespresso наушники xiaomi умные часы samsung "
    "ноутбук чайник пылесос кроссовки куртка игрушка книга шампунь крем сумка 15 pro max "
    "черный белый 128 гб для дома детей query passage : ."
).split()
LETTERS = list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz0123456789")


def tiny_tokenizer() -> XLMRobertaTokenizerFast:
    """An XLM-R-style Unigram tokenizer over a few words and every letter, ids like fairseq's."""
    vocab = [(s, 0.0) for s in SPECIALS]
    vocab += [("▁" + w, -2.0) for w in WORDS]
    vocab += [("▁", -3.0)] + [(c, -5.0) for c in LETTERS] + [(c.upper(), -6.0) for c in LETTERS]
    seen: set[str] = set()
    vocab = [(p, s) for p, s in vocab if not (p in seen or seen.add(p))]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<unk>",
    )


def tiny_encoder_dir(path: Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Write a random tiny e5-shaped encoder (BertModel) + tokenizer to `path` and return it."""
    torch.manual_seed(seed)
    tok = tiny_tokenizer()
    cfg = BertConfig(
        vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=4, intermediate_size=hidden * 2, max_position_embeddings=128,
        pad_token_id=1, type_vocab_size=2, layer_norm_eps=1e-12,
    )
    model = BertModel(cfg, add_pooling_layer=False)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
