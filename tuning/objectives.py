"""One training objective per `TrainConfig.objective`, behind one interface for the loop.

The loop (`tuning.train`) only needs a module to optimise (what accelerate wraps, so DDP
sees every forward) and a way to turn the batch's corpus indices into that module's
inputs; each objective owns its own noise / augmentation / mining. Adding an objective is
one class here, not an edit of the loop.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers.trainer_pt_utils import get_length_grouped_indices

from tuning.augment import augment
from tuning.config import TrainConfig
from tuning.contrastive import MINING_POOL, ContrastiveLoss, mine_hard_negatives
from tuning.identity import same_identity
from tuning.model import LoadedModel, autocast, embed
from tuning.noise import noisy_batch
from tuning.tsdae import TSDAELoss, corpus_vocab
from tuning.twins import find_twins
from tuning.variants import (VariantMaker, auto_ranking_weight, auto_sibling_negatives,
                             auto_template_negatives, auto_twin_positives, is_variant_catalog,
                             template_sibling_share)

Inputs = dict[str, Any]


@dataclass
class Objective:
    """What the loop trains: `module(**inputs(indices, rng))` is the scalar loss."""

    module: nn.Module
    texts: list[str]
    cfg: TrainConfig
    tokenizer: Any
    info: dict[str, Any] = field(default_factory=dict)

    def inputs(self, indices: list[int], rng: random.Random) -> Inputs:  # pragma: no cover
        raise NotImplementedError

    def epoch_order(self, rng: random.Random, batch_size: int) -> list[int]:
        """The corpus indices of one epoch, in batch order (`batch_size` = all ranks' rows)."""
        order = list(range(len(self.texts)))
        rng.shuffle(order)
        return order

    def tokens(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.cfg.max_length,
                             return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


class TSDAEObjective(Objective):
    """The source report's denoising auto-encoder (noisy text in, clean text reconstructed)."""

    def inputs(self, indices: list[int], rng: random.Random) -> Inputs:
        clean = [self.texts[j] for j in indices]
        noisy = [self.cfg.prefix + t for t in noisy_batch(clean, self.cfg.deletion_ratio, rng)]
        return {"noisy": self.tokens(noisy), "target": self.tokens(clean)}


class ContrastiveObjective(Objective):
    """Two augmented views per title + its mined hard negative (see `tuning.contrastive`)."""

    negatives: list[int | None]
    twins: list[int | None]
    twin_share: float
    template_share: float
    base: np.ndarray
    lengths: list[int]
    variants: VariantMaker

    def epoch_order(self, rng: random.Random, batch_size: int) -> list[int]:
        """Random mega-batches sorted by length (transformers' length grouping), when asked.

        Why: a batch is padded to its longest title, and on random batches of product titles
        that is 1.5x the real tokens; grouping titles of similar length removes most of it.
        """
        if not self.cfg.group_by_length:
            return super().epoch_order(rng, batch_size)
        gen = torch.Generator().manual_seed(rng.randrange(2**31))
        return get_length_grouped_indices(self.lengths, batch_size, generator=gen)

    def inputs(self, indices: list[int], rng: random.Random) -> Inputs:
        prefix = self.cfg.prefix
        if self.module.columns == 2:
            rows, pairs = self._paired(indices, rng)
            a = [prefix + self._text(j) for j in rows]
            b = [prefix + augment(self._view(j, rng), rng) for j in rows]
            out = {**self.tokens(a + b), **self._base(rows)}
            if self.module.ranking_weight > 0:
                out["ranked"] = torch.tensor(pairs, dtype=torch.long).view(-1, 2)
            return out
        a = [prefix + augment(self.texts[j], rng) for j in indices]
        b = [prefix + augment(self._view(j, rng), rng) for j in indices]
        third = [self._negative(j, rng, set()) if self.cfg.hard_negatives else None for j in indices]
        third = [self._other(j, rng) if k is None else k for j, k in zip(indices, third)]
        enc = self.tokens(a + b + [prefix + self._text(j) for j in third])
        return {**enc, **self._base(third)}

    def _text(self, row: int | str) -> str:
        return row if isinstance(row, str) else self.texts[row]

    def _view(self, row: int | str, rng: random.Random) -> str:
        """The text a second view is rewritten from: the title's catalog twin (another
        seller's wording of the product, `tuning.twins`) a `twin_positives` share of the
        time when it has one, else the title itself."""
        twin = None if isinstance(row, str) else self.twins[row]
        if twin is not None and rng.random() < self.twin_share:
            return self.texts[twin]
        return self._text(row)

    def _base(self, rows: list[int | str]) -> Inputs:
        """Base vectors of corpus rows (zeros and `anchored` 0 for made-up variants)."""
        base = np.zeros((len(rows), self.base.shape[1]), dtype=self.base.dtype)
        corpus = [i for i, r in enumerate(rows) if not isinstance(r, str)]
        base[corpus] = self.base[[rows[i] for i in corpus]]
        out: Inputs = {"base_rows": torch.from_numpy(base)}
        if len(corpus) < len(rows):
            out["anchored"] = torch.tensor([not isinstance(r, str) for r in rows])
        return out

    def _negative(self, j: int, rng: random.Random, seen: set[int]) -> int | str | None:
        """Title j's hard negative: its one-attribute variant (a `template_negatives` share of
        the time, or when no neighbour was mined) or its mined neighbour; None when neither."""
        k = self.negatives[j]
        if k in seen:
            k = None
        if k is None or rng.random() < self.template_share:
            made = self.variants.make(self.texts[j], rng) if self.template_share > 0 else None
            return made if made is not None else k
        return k

    def _paired(self, indices: list[int],
                rng: random.Random) -> tuple[list[int | str], list[tuple[int, int]]]:
        """Half the batch are titles, the other half their hard negatives (as rows of their own),
        and the (title row, its negative's row) pairs (a spare title filling a gap is no pair).

        No row is the catalog twin of another: a twin in the batch would be an in-batch
        negative for the title whose positive it is (`_apart`)."""
        indices = self._apart(indices)
        half = (len(indices) + 1) // 2
        rows: list[int | str] = list(indices[:half])
        pairs: list[tuple[int, int]] = []
        seen = set(indices[:half]) | {self.twins[j] for j in indices[:half]}
        spare = iter(indices[half:])
        for i, j in enumerate(indices[:half]):
            if len(rows) == len(indices):
                break
            k = self._negative(j, rng, seen) if self.cfg.hard_negatives else None
            if k is not None:
                pairs.append((i, len(rows)))
            else:
                k = next((x for x in spare if x not in seen), None)
            if k is not None:
                rows.append(k)
                if not isinstance(k, str):
                    seen.update((k, self.twins[k]))
        return rows, pairs

    def _apart(self, indices: list[int]) -> list[int]:
        """`indices` with every title whose twin came earlier moved to the end (a spare)."""
        first: list[int] = []
        later: list[int] = []
        taken: set[int | None] = set()
        for j in indices:
            if j in taken:
                later.append(j)
            else:
                first.append(j)
                taken.update((j, self.twins[j]))
        return first + later

    def _other(self, j: int, rng: random.Random) -> int:
        k = rng.randrange(len(self.texts) - 1) if len(self.texts) > 1 else 0
        return k + (k >= j) if len(self.texts) > 1 else j


class _Sum(nn.Module):
    """Weighted sum of TSDAE and contrastive losses (one encoder, shared LoRA)."""

    def __init__(self, tsdae: nn.Module, contrastive: nn.Module, w_tsdae: float, w_con: float):
        super().__init__()
        self.tsdae, self.contrastive, self.w_tsdae, self.w_con = tsdae, contrastive, w_tsdae, w_con

    def forward(self, tsdae: Inputs, contrastive: Inputs) -> torch.Tensor:
        return self.w_tsdae * self.tsdae(**tsdae) + self.w_con * self.contrastive(**contrastive)


class SumObjective(Objective):
    parts: tuple[TSDAEObjective, ContrastiveObjective]

    def inputs(self, indices: list[int], rng: random.Random) -> Inputs:
        t, c = self.parts
        return {"tsdae": t.inputs(indices, rng), "contrastive": c.inputs(indices, rng)}

    def epoch_order(self, rng: random.Random, batch_size: int) -> list[int]:
        return self.parts[1].epoch_order(rng, batch_size)


def _tsdae(cfg: TrainConfig, loaded: LoadedModel, texts: list[str]) -> TSDAEObjective:
    vocab = corpus_vocab(loaded.tokenizer, texts, cfg.max_length) if cfg.decoder_vocab == "corpus" else None
    module = TSDAELoss(loaded.model, vocab, cfg.pooling)
    return TSDAEObjective(module, texts, cfg, loaded.tokenizer,
                          {"decoder_vocab_size": len(vocab) if vocab else None})


def _contrastive(cfg: TrainConfig, loaded: LoadedModel, texts: list[str],
                 gather: bool) -> ContrastiveObjective:
    # The fresh LoRA is a no-op (B = 0), so skipping it gives the base's vectors for less work.
    with loaded.model.disable_adapter(), autocast(loaded):
        base = embed(loaded.model, loaded.tokenizer, texts, cfg.prefix, cfg.pooling, cfg.max_length)
    share = template_sibling_share(texts)  # None = auto: on for a catalog of template variants
    siblings = (auto_sibling_negatives(share) if cfg.sibling_negatives is None
                else cfg.sibling_negatives)
    negatives = (mine_hard_negatives(texts, base, siblings=siblings) if cfg.hard_negatives
                 else [None] * len(texts))
    ranking = auto_ranking_weight(share) if cfg.ranking_weight is None else cfg.ranking_weight
    module = ContrastiveLoss(loaded.model, cfg.pooling, 1.0 / cfg.temperature, cfg.anchor_weight,
                             use_negatives=cfg.hard_negatives, gather_across_devices=gather,
                             columns=2 if cfg.negatives_as_rows else 3,
                             ranking_weight=ranking)
    found = sum(n is not None for n in negatives)
    obj = ContrastiveObjective(module, texts, cfg, loaded.tokenizer,
                               {"hard_negatives_found": found, "mined_titles": len(texts),
                                "template_sibling_share": round(share, 3),
                                "variant_catalog": is_variant_catalog(share),
                                "sibling_negatives_used": siblings,
                                "sibling_negatives_found": (_siblings_found(texts, negatives)
                                                            if siblings else 0),
                                "ranking_weight_used": ranking})
    obj.negatives, obj.base = negatives, base
    obj.template_share = (auto_template_negatives(share) if cfg.template_negatives is None
                          else cfg.template_negatives)
    obj.info["template_negatives_used"] = obj.template_share
    obj.variants = VariantMaker.learn(texts)
    obj.info["titles_with_variants"] = sum(bool(obj.variants.sites(t)) for t in texts)
    obj.info["variant_words_learned"] = len(obj.variants.alternatives)
    obj.twin_share = (auto_twin_positives(share) if cfg.twin_positives is None
                      else cfg.twin_positives)
    obj.twins = (find_twins(texts, obj.base) if obj.twin_share > 0
                 else [None] * len(texts))
    obj.info["twin_positives_used"] = obj.twin_share
    obj.info["titles_with_twin"] = sum(t is not None for t in obj.twins)
    obj.lengths = [len(ids) for ids in loaded.tokenizer(
        [cfg.prefix + t for t in texts], truncation=True, max_length=cfg.max_length)["input_ids"]]
    return obj


def _siblings_found(texts: list[str], negatives: list[int | None]) -> int:
    """How many mined negatives no identity rule separates: the template siblings (without the
    sibling route every mined negative conflicts, so the count is 0 and is not taken)."""
    return sum(j is not None and same_identity(texts[i], texts[j]) is not False
               for i, j in enumerate(negatives))


def trained_count(cfg: TrainConfig, n_texts: int) -> int:
    """How many of `n_texts` titles a run trains on: all of them, or at most `MINING_POOL`
    for the contrastive objectives (their hard negatives are mined among base vectors of
    every trained title, and embedding 100k titles first would cost minutes of a budget)."""
    return n_texts if cfg.objective == "tsdae" else min(n_texts, MINING_POOL)


def training_texts(texts: list[str], cfg: TrainConfig) -> list[str]:
    """The titles a run trains on (`trained_count` of them; a seeded subset when fewer)."""
    n = trained_count(cfg, len(texts))
    return texts if n == len(texts) else random.Random(cfg.seed).sample(texts, n)


def build_objective(cfg: TrainConfig, loaded: LoadedModel, texts: list[str],
                    distributed: bool = False) -> Objective:
    """The objective `cfg.objective` names, ready for the loop (negatives mined already)."""
    if cfg.objective == "tsdae":
        return _tsdae(cfg, loaded, texts)
    con = _contrastive(cfg, loaded, texts, distributed)
    if cfg.objective == "contrastive":
        return con
    tsd = _tsdae(cfg, loaded, texts)
    both = SumObjective(_Sum(tsd.module, con.module, cfg.tsdae_weight, cfg.contrastive_weight),
                        texts, cfg, loaded.tokenizer, {**tsd.info, **con.info})
    both.parts = (tsd, con)
    return both
