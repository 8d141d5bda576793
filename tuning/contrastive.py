"""Contrastive objective from the corpus alone: two views of a title + a mined hard negative.

Why: TSDAE on an already-trained embedder teaches a title's words back, not which words
make a different SKU, and measurably lowers same-product retrieval (GUIDE §2). What a shop
needs is (1) invariance to how sellers spell one product and (2) sensitivity to the tokens
that make another product. Both can be made without labels:

- positives: two identity-keeping rewrites of one title (`tuning.augment`), the second one
  rewritten from the title's catalog twin (another seller's wording of the product,
  `tuning.twins`) a `twin_positives` share of the time;
- hard negatives: for each title, its nearest corpus neighbour under the *base* encoder
  whose identity tokens conflict (`tuning.identity.same_identity(...) is False`: 15 vs
  15 Pro, 128 vs 256 ГБ, 1.7 vs 1.2 л) or, with `sibling_negatives` (by default only in a
  catalog of one-template variants), that is its template sibling (`tuning.siblings`:
  "… апельсиновый 1 л" / "… яблочный 1 л", which no identity rule separates), mined once
  before training, or (a share
  `template_negatives` of the time, and wherever none was mined) the title itself with one
  attribute changed (`tuning.variants`: same seller template, another product);
- loss: sentence-transformers' `MultipleNegativesRankingLoss` (InfoNCE over in-batch
  positives + the hard negatives), fed our pooled embeddings through its
  `compute_loss_from_embeddings`, so the one-model PEFT design stays;
- anchor: optional `anchor_weight × mean(1 − cos(tuned, base))` on clean titles, whose base
  vectors were computed while mining (the base is the same model before training), keeps
  the adapter near e5 where the corpus says nothing (cf. WiSE-FT);
- ranking (`ranking_weight`; by default on only for a catalog of one-template variants,
  `tuning.variants.auto_ranking_weight`): sentence-transformers' `CoSENTLoss` over the
  batch, every title's two views above every title-and-its-hard-negative pair (it helps
  template variants and costs Recall@1 on many sellers' wordings:
  examples/adapters/README.md).

Reference: Henderson et al. (2017), Efficient Natural Language Response Suggestion for
Smart Reply (multiple negatives ranking); Gao et al. (2021), SimCSE.

Example::

    negatives, base = mine_hard_negatives(texts, embed_fn)
    loss_fn = ContrastiveLoss(peft_encoder, "mean", scale=20.0, anchor_weight=0.1)
    loss = loss_fn(**tokenised([*views_a, *views_b, *thirds]), base_rows=base[thirds_idx])
"""
from __future__ import annotations

import numpy as np
import torch
from sentence_transformers.sentence_transformer.losses import CoSENTLoss, MultipleNegativesRankingLoss
from torch import nn
from torch.nn import functional as F

from tuning.identity import same_identity
from tuning.model import pool
from tuning.neighbours import first_neighbour
from tuning.siblings import template_sibling
from tuning.variants import SIBLING_MAX_WORDS

MINING_POOL = 20_000
"""At most this many titles are embedded and mined (a random subset of larger corpora)."""


def mine_hard_negatives(texts: list[str], base_emb: np.ndarray, k: int = 30,
                        chunk: int = 2048, siblings: bool = False) -> list[int | None]:
    """For each title, the nearest other title (cosine, base vectors) with a conflicting
    identity or, with `siblings`, a template sibling of it.

    None when none of the `k` nearest neighbours qualifies (the title then trains with
    in-batch negatives only). Siblings are for a catalog that lists its variants in one
    template: there a one-slot difference is another flavour, line or grade. In a catalog
    of many sellers' wordings it is mostly a seller's filler word or a typo: on the example
    corpus 974 of the 1,180 negatives the sibling rule would add are one product, against
    312 of the 5,439 the identity rules mine (replayed with the generator's product keys),
    so they are off there.
    """
    short = [len(t.split()) <= SIBLING_MAX_WORDS for t in texts]

    def accept(i: int, j: int) -> bool:
        return same_identity(texts[i], texts[j]) is False or (
            siblings and short[i] and short[j] and template_sibling(texts[i], texts[j]))

    return first_neighbour(base_emb, k, accept, chunk)


class ContrastiveLoss(nn.Module):
    """InfoNCE (sentence-transformers MNRL) on views + hard negatives, plus a base anchor and,
    when `ranking_weight` > 0, a batch-wide CoSENT ranking term."""

    def __init__(self, encoder: nn.Module, pooling: str = "mean", scale: float = 20.0,
                 anchor_weight: float = 0.0, use_negatives: bool = True,
                 gather_across_devices: bool = False, columns: int = 3,
                 ranking_weight: float = 0.0) -> None:
        super().__init__()
        self.ranking_weight = ranking_weight
        self.columns = columns
        self.use_negatives = use_negatives
        self.encoder = encoder
        self.pooling = pooling
        self.anchor_weight = anchor_weight
        # MNRL only uses `model` in its own forward; we call compute_loss_from_embeddings.
        self.mnrl = MultipleNegativesRankingLoss(
            encoder, scale=scale, gather_across_devices=gather_across_devices,
            directions=("query_to_doc", "doc_to_query") if self.columns == 2 else ("query_to_doc",))
        object.__setattr__(self.mnrl, "model", None)
        self.cosent = CoSENTLoss(encoder, scale=20.0)
        object.__setattr__(self.cosent, "model", None)

    def _ranking(self, a: torch.Tensor, b: torch.Tensor, title: torch.Tensor,
                  negative: torch.Tensor) -> torch.Tensor:
        """CoSENT (sentence-transformers) over the whole batch: every pair of two views of
        one title should score above every pair of a title and its hard negative.

        Why: InfoNCE only ranks within each title's row, so a same-template sibling may still
        score higher than another title's other wording; a matcher compares similarities
        across titles (one threshold, one ranked list), and on categories the adapter never
        saw that is where it failed (examples/adapters/README.md).
        """
        labels = torch.cat([a.new_ones(len(a)), a.new_zeros(len(title))])
        return self.cosent.compute_loss_from_embeddings(
            [torch.cat([a, title]), torch.cat([b, negative])], labels)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return pool(hidden, attention_mask, self.pooling)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                base_rows: torch.Tensor, anchored: torch.Tensor | None = None,
                ranked: torch.Tensor | None = None) -> torch.Tensor:
        """`input_ids` stacks three columns of B rows: view a, view b, a clean corpus title.

        The third title is each row's mined hard negative (a random other title where none
        was found) and its base vector is `base_rows`: it is a negative when
        `use_negatives`, and the anchor term keeps its tuned vector near the base one.
        `anchored` (0/1 per row) leaves rows out of the anchor: a negative made from a title
        (`tuning.variants`) is not a corpus title and has no base vector.
        `ranked` ([n, 2] row indices, two-column layout) pairs a title row with the row of its
        own hard negative, for the ranking term (`ranking_weight`).
        """
        emb = self.encode(input_ids, attention_mask)
        if self.columns == 2:
            a, b = emb.chunk(2)
            loss = self.mnrl.compute_loss_from_embeddings([a, b], None)
            third = a
            if self.ranking_weight > 0 and ranked is not None and len(ranked):
                title, negative = a[ranked[:, 0]], a[ranked[:, 1]]
                loss = loss + self.ranking_weight * self._ranking(a, b, title, negative)
        else:
            a, b, third = emb.chunk(3)
            loss = self.mnrl.compute_loss_from_embeddings([a, b, third] if self.use_negatives
                                                          else [a, b], None)
            if self.ranking_weight > 0 and self.use_negatives:
                loss = loss + self.ranking_weight * self._ranking(a, b, a, third)
        if self.anchor_weight > 0:
            drift = 1 - F.cosine_similarity(third, base_rows.to(third.dtype), dim=-1)
            if anchored is None:
                drift = drift.mean()
            else:
                weight = anchored.to(drift.dtype)
                drift = (drift * weight).sum() / weight.sum().clamp(min=1.0)
            loss = loss + self.anchor_weight * drift
        return loss
