"""TSDAE input noise: random word deletion.

Why our own: sentence-transformers' `DenoisingAutoEncoderDataset.delete` tokenises with
nltk, whose data is not available offline, and the seed kit swallowed that error and so
trained on clean text (no denoising at all). Splitting on whitespace is enough for product
titles and keeps the noise testable. Deletion alone is what the TSDAE paper found best
(ratio 0.6; Wang et al., 2021, https://arxiv.org/abs/2104.06979, Table 6).
"""
from __future__ import annotations

import random
import re

_WORD = re.compile(r"\S+")


def delete_words(text: str, ratio: float, rng: random.Random) -> str:
    """Drop each word independently with probability `ratio`; always keep at least one word.

    A text of one word is returned unchanged (nothing sensible can be deleted).
    """
    if not 0 <= ratio < 1:
        raise ValueError(f"deletion ratio must be in [0, 1), got {ratio}")
    words = _WORD.findall(text)
    if len(words) <= 1:
        return " ".join(words)
    kept = [w for w in words if rng.random() >= ratio]
    if not kept:
        kept = [words[rng.randrange(len(words))]]
    return " ".join(kept)


def noisy_batch(texts: list[str], ratio: float, rng: random.Random) -> list[str]:
    """Noise for a batch; a fresh draw each call, so every epoch sees new corruptions."""
    return [delete_words(t, ratio, rng) for t in texts]
