"""TSDAE objective with a decoder that shares the (Q)LoRA encoder's modules.

References:
    Wang, Reimers, Gurevych (2021). TSDAE: Using Transformer-based Sequential Denoising
    Auto-Encoder for Unsupervised Sentence Embedding Learning. https://arxiv.org/abs/2104.06979
    sentence-transformers `DenoisingAutoEncoderLoss` (the reference implementation).

Why not the stock loss: with `tie_encoder_decoder=True` it ties by replacing parameters and
fails on LoRA / 4-bit layers (`KeyError: attribute 'weight' already exists`); untied, it
trains a full fp32 decoder copy with a 250k-token output layer (several times the step
time and ~2x the memory). Here the decoder *calls the encoder's own modules* (embeddings,
self-attention q/k/v + output, FFN, LayerNorms — including their LoRA wrappers), so the
only new weights are the per-layer cross-attention and the output layer's bias and
temperature. The output layer is tied to the frozen word-embedding rows of the corpus'
sub-vocabulary (token ids that occur in the corpus + specials), which is ~50x smaller than
the full vocabulary for a product corpus; its logits are cosine similarities times a learnt
temperature, plus a bias initialised to the corpus' log unigram prior.

Cross-attention attends to ONE memory vector (the pooled sentence embedding, as in the
paper), so its softmax is identically 1 and its query/key projections would get no gradient;
we keep only the value and output projections, which is mathematically the same layer.

Inputs: `noisy` — tokenised corrupted texts (with the e5 prefix) for the encoder; `target` —
tokenised clean texts (no prefix) the decoder must reconstruct. Output: mean token CE.

Example::

    loss_fn = TSDAELoss(peft_encoder, corpus_vocab(tok, texts, 32))
    loss = loss_fn(tok(noisy, ...), tok(clean, ...)); loss.backward()
"""
from __future__ import annotations


import math
from collections import Counter

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PreTrainedTokenizerBase

from tuning.model import pool


def corpus_vocab(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int) -> dict[int, int]:
    """Token id -> count in the (truncated) corpus, plus every special token (count >= 0).

    The keys are the decoder's sub-vocabulary; the counts initialise its output bias to the
    corpus' log unigram prior, so the decoder does not spend the first hundreds of steps
    learning token frequencies and its gradient goes into using the sentence vector.
    """
    counts: Counter[int] = Counter({i: 0 for i in tokenizer.all_special_ids})
    for start in range(0, len(texts), 1024):
        enc = tokenizer(texts[start:start + 1024], truncation=True, max_length=max_length)
        for row in enc["input_ids"]:
            counts.update(row)
    return dict(sorted(counts.items()))


def _frozen_weight(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """fp32 copy of a (LoRA-wrapped, possibly 4-bit) Linear's frozen base weight and bias."""
    base = getattr(module, "base_layer", module)
    weight = base.weight
    if type(weight).__name__ == "Params4bit":
        import bitsandbytes.functional as bnbf

        weight = bnbf.dequantize_4bit(weight.data, weight.quant_state)
    bias = base.bias.detach().float().clone() if base.bias is not None else None
    return weight.detach().float().clone(), bias


class CrossAttention(nn.Module):
    """Decoder cross-attention over a single memory vector (value + output projection).

    Initialised as a copy of the layer's own self-attention value / output projection and
    LayerNorm: the sentence vector then enters each layer as an attended token would, so the
    encoder gets a useful gradient from the first step. (A random 0.02-std init, as HF gives a
    fresh cross-attention, makes the path a product of two near-zero matrices and measurably
    stalls short CPU runs.)
    """

    def __init__(self, layer: nn.Module, dropout: float, eps: float) -> None:
        super().__init__()
        hidden = layer.attention.output.LayerNorm.normalized_shape[0]
        self.value = nn.Linear(hidden, hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(dropout)
        with torch.no_grad():
            for mine, theirs in ((self.value, layer.attention.self.value),
                                 (self.dense, layer.attention.output.dense)):
                weight, bias = _frozen_weight(theirs)
                mine.weight.copy_(weight)
                mine.bias.copy_(bias if bias is not None else torch.zeros(hidden))
            self.LayerNorm.load_state_dict(layer.attention.output.LayerNorm.state_dict())

    def forward(self, hidden: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        context = self.dense(self.value(memory)).unsqueeze(1)  # (B, 1, H) broadcast over tokens
        return self.LayerNorm(hidden + self.dropout(context))


class TSDAELoss(nn.Module):
    """Denoising auto-encoder loss; the encoder's modules are shared with the decoder."""

    def __init__(self, encoder: nn.Module, vocab: dict[int, int] | None = None,
                 pooling: str = "mean") -> None:
        super().__init__()
        base = encoder.get_base_model() if hasattr(encoder, "get_base_model") else encoder
        cfg = base.config
        self.encoder = encoder
        self.pooling = pooling
        # Plain attributes (not submodules): the shared modules belong to the encoder and
        # must not appear twice in this module's parameters or state dict.
        object.__setattr__(self, "_base", base)
        self.heads = cfg.num_attention_heads
        self.attn_dropout = cfg.attention_probs_dropout_prob
        self.cross = nn.ModuleList(
            CrossAttention(layer, cfg.hidden_dropout_prob, cfg.layer_norm_eps)
            for layer in base.encoder.layer)
        vocab_size = base.embeddings.word_embeddings.weight.shape[0]
        ids = torch.arange(vocab_size) if vocab is None else torch.tensor(sorted(vocab))
        lookup = torch.full((vocab_size,), -100, dtype=torch.long)
        lookup[ids] = torch.arange(len(ids))
        self.register_buffer("vocab_ids", ids, persistent=False)
        self.register_buffer("to_sub", lookup, persistent=False)
        prior = torch.zeros(len(ids)) if vocab is None else torch.tensor(
            [float(vocab[i]) for i in sorted(vocab)])
        self.bias = nn.Parameter(torch.log((prior + 1) / (prior + 1).sum()))
        # Cosine logits with a learnt temperature: Adam moves a raw scale by ~lr per step, far
        # too slowly for a short run to calibrate dot products of un-normalised embeddings.
        self.log_scale = nn.Parameter(torch.tensor(math.log(20.0)))

    def decoder_parameters(self) -> list[nn.Parameter]:
        """The decoder-only weights (discarded after training)."""
        return [*self.cross.parameters(), self.bias, self.log_scale]

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return pool(hidden, attention_mask, self.pooling)

    def _self_attention(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        attn = layer.attention.self
        batch, length, hidden = x.shape
        shape = (batch, length, self.heads, hidden // self.heads)
        q, k, v = (proj(x).view(shape).transpose(1, 2) for proj in (attn.query, attn.key, attn.value))
        # Causal + right padding: real tokens never see the padding after them.
        ctx = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.attn_dropout if self.training else 0.0)
        return layer.attention.output(ctx.transpose(1, 2).reshape(batch, length, hidden), x)

    def decode(self, sentence: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """Logits over the sub-vocabulary for the next token at every position."""
        x = self._base.embeddings(input_ids=input_ids)
        for layer, cross in zip(self._base.encoder.layer, self.cross):
            x = self._self_attention(layer, x)
            x = cross(x, sentence)
            x = layer.output(layer.intermediate(x), x)
        table = F.normalize(self._base.embeddings.word_embeddings.weight[self.vocab_ids], dim=-1)
        return F.linear(F.normalize(x, dim=-1), table) * self.log_scale.exp() + self.bias

    def forward(self, noisy: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> torch.Tensor:
        sentence = self.encode(noisy["input_ids"], noisy["attention_mask"])
        ids, mask = target["input_ids"], target["attention_mask"]
        logits = self.decode(sentence, ids)[:, :-1]
        labels = self.to_sub[ids[:, 1:]].masked_fill(mask[:, 1:] == 0, -100)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                               ignore_index=-100)
