"""Two probes on top of the explorer: key-word probabilities, and "prompt vs LoRA".

Key words: at each step of an answer (teacher-forced, so base and LoRA are scored on
the SAME text) we report the probability that the next token STARTS the word — the sum
over the distinct first tokens of "word" and " word". It is a first-token probability,
not the probability of the whole word: the latter needs one pass per step and word.

Prompt vs LoRA (seed 004 asks whether a long prompt can imitate a LoRA locally): the
context prompt's shift of the next-token distribution (base + context vs base) is
compared with the LoRA's (base + LoRA vs base) by KL(LoRA ‖ base + context) and by the
overlap of their top tokens, then summed up in one plain sentence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import torch

from comparison.explorer.core import Explorer
from comparison.explorer.inputs import Encoded
from comparison.explorer.metrics import kl_divergence

MAX_WORDS = 8


def first_token_ids(tokenizer: Any, word: str) -> list[int]:
    """Distinct first token ids of the word with and without a leading space."""
    ids = []
    for variant in (" " + word.strip(), word.strip()):
        pieces = tokenizer(variant, add_special_tokens=False)["input_ids"]
        if pieces and pieces[0] not in ids:
            ids.append(pieces[0])
    return ids


def _extend(enc: Encoded, ids: list[int], tokenizer: Any) -> Encoded:
    """The encoded prompt followed by answer ids (other inputs, e.g. pixels, unchanged)."""
    inputs = dict(enc.inputs)
    extra = torch.tensor([ids], dtype=enc.inputs["input_ids"].dtype, device=enc.inputs["input_ids"].device)
    inputs["input_ids"] = torch.cat([enc.inputs["input_ids"], extra], dim=1)
    if "attention_mask" in inputs:
        inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(extra)], dim=1)
    tokens = enc.tokens + [tokenizer.decode([i]) for i in ids]
    return Encoded(inputs=inputs, tokens=tokens, image_positions=enc.image_positions,
                   image_grid=enc.image_grid)


def keyword_probabilities(explorer: Explorer, prompt: str, words: list[str], image: Any | None = None,
                          answer_from: Literal["base", "lora"] = "lora", scale: float = 1.0,
                          max_new_tokens: int = 32) -> pd.DataFrame:
    """Rows (word, step, token, base, lora): P(next token starts word) along one answer."""
    words = [w.strip() for w in words if w and w.strip()]
    if not 1 <= len(words) <= MAX_WORDS:
        raise ValueError(f"words: give 1 … {MAX_WORDS} key words")
    if answer_from not in ("base", "lora"):
        raise ValueError("answer_from: must be 'base' or 'lora'")
    enc = explorer.encode(prompt, image)
    answer = explorer.generate_ids(enc, answer_from == "lora", scale, max_new_tokens)
    full = _extend(enc, answer, explorer.tokenizer)
    start = enc.length - 1  # the position whose output predicts the first answer token
    base = explorer.pass_on(full, lora=False, scale=scale).logprobs[start:start + len(answer) + 1].exp()
    lora = explorer.pass_on(full, lora=True, scale=scale).logprobs[start:start + len(answer) + 1].exp()
    shown = ["(prompt end)"] + [explorer.tokenizer.decode([i]) for i in answer]
    rows = []
    for word in words:
        ids = first_token_ids(explorer.tokenizer, word)
        for step in range(base.shape[0]):
            rows.append({"word": word, "step": step, "token": shown[step],
                         "base": float(base[step, ids].sum()), "lora": float(lora[step, ids].sum())})
    return pd.DataFrame(rows)


@dataclass
class PromptVsLora:
    """How a context prompt's effect on the next token compares with the LoRA's."""

    table: pd.DataFrame
    kl_context: float
    kl_lora: float
    kl_lora_vs_context: float
    top_overlap: float
    same_top1: bool
    verdict: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.top_overlap <= 1.0:
            raise ValueError("top_overlap: must be a fraction 0 … 1")

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table.round(6).values.tolist(), "kl_context": self.kl_context,
                "kl_lora": self.kl_lora, "kl_lora_vs_context": self.kl_lora_vs_context,
                "top_overlap": self.top_overlap, "same_top1": self.same_top1, "verdict": self.verdict}


VERDICTS = {
    "none": "The adapter barely changes this next token, so there is nothing for a prompt to imitate.",
    "imitates": ("The context prompt reproduces most of the LoRA's effect here (it leaves {ratio:.0%} "
                 "of the LoRA's shift unexplained; {overlap:.0%} of top tokens shared)."),
    "partly": ("The context prompt moves the model partly the way the LoRA does ({ratio:.0%} of the "
               "LoRA's shift left; {overlap:.0%} of top tokens shared)."),
    "differs": ("The context prompt does not imitate the LoRA here: it moves the next token elsewhere "
                "({overlap:.0%} of top tokens shared)."),
}


def verdict_kind(kl_lora: float, kl_between: float, overlap: float,
                 same_top1: bool) -> tuple[str, dict[str, float]]:
    """The verdict as a code + numbers, so the UI can say it in the user's language."""
    if kl_lora < 1e-4:
        return "none", {"ratio": 0.0, "overlap": overlap}
    ratio = kl_between / kl_lora
    if ratio < 0.3 and overlap >= 0.6:
        return "imitates", {"ratio": ratio, "overlap": overlap}
    if ratio < 1.0 or same_top1:
        return "partly", {"ratio": ratio, "overlap": overlap}
    return "differs", {"ratio": ratio, "overlap": overlap}


def verdict(kl_lora: float, kl_between: float, overlap: float, same_top1: bool) -> str:
    """One plain-language (English) sentence for the numbers."""
    kind, params = verdict_kind(kl_lora, kl_between, overlap, same_top1)
    return VERDICTS[kind].format(**params)


def prompt_vs_lora(explorer: Explorer, prompt: str, context: str, top_k: int = 10,
                   scale: float = 1.0) -> PromptVsLora:
    """Compare base + context with base + LoRA on the next token after `prompt`."""
    if not context or not context.strip():
        raise ValueError("context: write the prompt text that should imitate the adapter")
    if not 1 <= top_k <= 50:
        raise ValueError("top_k: must be 1 … 50")
    plain = explorer.encode(prompt)
    with_context = explorer.encode(context.strip() + "\n" + prompt.strip())
    base = explorer.pass_on(plain, lora=False).logprobs[-1]
    lora = explorer.pass_on(plain, lora=True, scale=scale).logprobs[-1]
    ctx = explorer.pass_on(with_context, lora=False).logprobs[-1]
    top_ctx, top_lora = set(ctx.topk(top_k).indices.tolist()), set(lora.topk(top_k).indices.tolist())
    overlap = len(top_ctx & top_lora) / top_k
    same = int(ctx.argmax()) == int(lora.argmax())
    ids = sorted(top_ctx | top_lora | set(base.topk(top_k).indices.tolist()),
                 key=lambda i: -float(max(base[i], ctx[i], lora[i])))
    table = pd.DataFrame({"token": [explorer.tokenizer.decode([i]) for i in ids],
                          "base": [float(base[i].exp()) for i in ids],
                          "context": [float(ctx[i].exp()) for i in ids],
                          "lora": [float(lora[i].exp()) for i in ids]})
    kl_lora, kl_between = kl_divergence(lora, base), kl_divergence(lora, ctx)
    return PromptVsLora(table=table, kl_context=kl_divergence(ctx, base), kl_lora=kl_lora,
                        kl_lora_vs_context=kl_between, top_overlap=overlap, same_top1=same,
                        verdict=verdict(kl_lora, kl_between, overlap, same))
