"""/score_pair and /embed through gradio's own batching (``batch=True``), LORA_LENS_BATCH=gradio.

Why it exists: the issue asked which way of sharing forward passes holds a classroom
better — gradio gathering waiting calls of ONE endpoint into a list, or the encoder's
micro-batcher (the default, `comparison/batcher.py`). This is the gradio way, kept so
`python -m tests.load.classroom_burst --modes gradio` can measure it beside the other.
Calls with the same (prefix, strength) in a batch are scored by one `score_pairs` /
`embed_both` call, i.e. one set of padded forwards. Its limits, by gradio's design: only
calls of the same endpoint share a pass (pairs never ride with /embed or with UI clicks),
and a batch function cannot fail one item — one bad call fails every call of its batch.
The API signature stays exactly the documented one (the type hints describe one call).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import gradio as gr

from comparison import similarity
from comparison.basics import parse_prefix
from ui.common import encoder, encoders, guarded
from ui.similarity import _scale, embed_answer, embed_items, pair_answer

MAX_BATCH = 32


def _groups(prefixes: list[str], scales: list[float | None]) -> dict[tuple[str, float], list[int]]:
    """Indices of the calls that can share passes: same prefix and strength."""
    groups: dict[tuple[str, float], list[int]] = defaultdict(list)
    for i, (prefix, scale) in enumerate(zip(prefixes, scales)):
        groups[(guarded("input", "en", lambda p=prefix: parse_prefix(p)), _scale(scale))].append(i)
    return groups


def api_batched(prefix_default: str) -> None:
    """Register the two endpoints with ``batch=True`` (same names, same arguments)."""
    def api_score_pair(text_a: str, text_b: str, prefix: str = prefix_default, scale: float = 1.0) -> dict:
        """Cosine similarity of two texts under the base encoder and base + default adapter
        (at strength `scale`, 0 … 2; 0 = the base exactly)."""
        a, b, prefixes, scales = text_a, text_b, prefix, scale  # lists: gradio batches the calls
        enc, adapter = encoder(), encoders.default_name()
        out: list[Any] = [None] * len(a)
        for (p, s), idx in _groups(prefixes, scales).items():
            df = guarded("input", "en", lambda: similarity.score_pairs(
                enc, [(a[i], b[i]) for i in idx], p, adapter, s))
            for k, i in enumerate(idx):
                out[i] = pair_answer(df.iloc[k], enc)
        return (out,)  # type: ignore[return-value]

    def api_embed(texts: str, prefix: str = prefix_default, scale: float = 1.0) -> dict:
        """L2-normalised vectors (one text per line), base and base + default adapter at `scale`."""
        enc, adapter = encoder(), encoders.default_name()
        items = [embed_items(t) for t in texts]  # type: ignore[union-attr]
        out: list[Any] = [None] * len(items)
        for (p, s), idx in _groups(prefix, scale).items():  # type: ignore[arg-type]
            flat = [text for i in idx for text in items[i]]
            base, tuned = guarded("input", "en", lambda: enc.embed_both(flat, p, adapter, s))
            start = 0
            for i in idx:
                end = start + len(items[i])
                out[i] = embed_answer(base[start:end], tuned[start:end], adapter, enc)
                start = end
        return (out,)  # type: ignore[return-value]

    gr.api(api_score_pair, api_name="score_pair", batch=True, max_batch_size=MAX_BATCH)
    gr.api(api_embed, api_name="embed", batch=True, max_batch_size=MAX_BATCH)
