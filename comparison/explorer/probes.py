"""Two probes on top of the explorer: key-word probabilities, and "prompt vs LoRA".

Both are read from the passes `comparison.explorer.compare.run_compare` already makes;
the functions here only turn log-probabilities into tables and words (the one-call
wrappers `keyword_probabilities` / `prompt_vs_lora` live in `compare`, above them).

Key words: at each step of the answer the user sees (teacher-forced, so base and LoRA
are scored on the SAME text) we report the probability that the next token STARTS the
word — the sum over the distinct first tokens of "word" and " word". It is a
first-token probability, not the probability of the whole word.

Prompt vs LoRA (seed 004 asks whether a long prompt can imitate a LoRA locally): the
context prompt's shift of the next-token distribution (base + context vs base) is
compared with the LoRA's (base + LoRA vs base). The verdict is built from numbers the
table shows: for the key token — the one the LoRA moves most — it compares the sign
and size of the two changes, then says how much of the LoRA's whole-distribution
shift the prompt closes: 1 − KL(LoRA ‖ base + context) / KL(LoRA ‖ base).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

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


def extend(enc: Encoded, ids: list[int], tokenizer: Any) -> Encoded:
    """The encoded prompt followed by answer ids (other inputs, e.g. pixels, unchanged)."""
    inputs = dict(enc.inputs)
    extra = torch.tensor([ids], dtype=enc.inputs["input_ids"].dtype, device=enc.inputs["input_ids"].device)
    inputs["input_ids"] = torch.cat([enc.inputs["input_ids"], extra], dim=1)
    if "attention_mask" in inputs:
        inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(extra)], dim=1)
    tokens = enc.tokens + [tokenizer.decode([i]) for i in ids]
    return Encoded(inputs=inputs, tokens=tokens, image_positions=enc.image_positions,
                   image_grid=enc.image_grid)


STEP0 = {"en": "(prompt end)", "ru": "(конец вопроса)"}


def keyword_rows(tokenizer: Any, words: list[str], base: torch.Tensor, lora: torch.Tensor,
                 answer: list[int], lang: str = "en") -> pd.DataFrame:
    """Rows (word, step, token, base, lora) from next-token log-probabilities along one answer.

    `base` / `lora`: [steps, vocab] log-probabilities; row 0 is read at the prompt end.
    Only the words' first-token columns are exponentiated (not 33 × 262k values).
    """
    shown = [STEP0.get(lang, STEP0["en"])] + [tokenizer.decode([i]) for i in answer]
    rows = []
    for word in words:
        ids = first_token_ids(tokenizer, word)
        for step in range(base.shape[0]):
            rows.append({"word": word, "step": step, "token": shown[step],
                         "base": float(base[step, ids].exp().sum()), "lora": float(lora[step, ids].exp().sum())})
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


VERDICT = {
    "en": {
        "none": "The adapter barely changes this next token, so there is nothing for a prompt to imitate.",
        "against": "The prompt pushes «{tok}» {cdir} ({b} → {c}) while the LoRA pushes it {ldir} ({b} → {l}): "
                   "here the prompt works against the adapter.",
        "stronger": "The prompt moves «{tok}» the LoRA's way and further ({b} → {c}; LoRA {b} → {l}).",
        "most": "The prompt reproduces the LoRA's change of «{tok}» ({b} → {c}; LoRA {b} → {l}, {r} of it).",
        "partly": "The prompt moves «{tok}» the LoRA's way but less ({b} → {c}; LoRA {b} → {l}, {r} of it).",
        "hardly": "The prompt hardly moves «{tok}» ({b} → {c}), while the LoRA takes it {b} → {l}.",
        "closes": " Over the whole next-token distribution the prompt closes {x} of the gap to the LoRA.",
        "away": " Over the whole next-token distribution the prompt moves away from the LoRA "
                "(KL to the LoRA {k1:.3f} → {k2:.3f} nats).",
        "up": "up", "down": "down",
    },
    "ru": {
        "none": "Адаптер почти не меняет следующий токен — промпту нечего имитировать.",
        "against": "Промпт {cdir} «{tok}» ({b} → {c}), а LoRA — {ldir} ({b} → {l}): "
                   "здесь промпт работает против адаптера.",
        "stronger": "Промпт сдвигает «{tok}» туда же, куда LoRA, и сильнее ({b} → {c}; LoRA {b} → {l}).",
        "most": "Промпт воспроизводит сдвиг «{tok}» от LoRA ({b} → {c}; LoRA {b} → {l}, {r} от него).",
        "partly": "Промпт сдвигает «{tok}» туда же, куда LoRA, но слабее ({b} → {c}; LoRA {b} → {l}, {r} от него).",
        "hardly": "Промпт почти не двигает «{tok}» ({b} → {c}), а LoRA — {b} → {l}.",
        "closes": " По всему распределению следующего токена промпт закрывает {x} разрыва до LoRA.",
        "away": " По всему распределению промпт уводит модель дальше от LoRA "
                "(KL до LoRA {k1:.3f} → {k2:.3f} нат).",
        "up": "поднимает", "down": "опускает",
    },
}


def verdict(table: pd.DataFrame, kl_lora: float, kl_between: float, lang: str = "en") -> str:
    """A plain sentence whose direction and size are those of the table's numbers.

    `table` has token / base / context / lora probabilities; the key token is the one
    whose probability the LoRA changes most.
    """
    text = VERDICT["ru" if lang == "ru" else "en"]
    d_lora = table["lora"] - table["base"]
    key = int(d_lora.abs().values.argmax()) if len(table) else 0
    if not len(table) or (kl_lora < 1e-4 and abs(float(d_lora.iloc[key])) < 0.005):
        return text["none"]
    row = table.iloc[key]
    b, c, l = float(row["base"]), float(row["context"]), float(row["lora"])
    dl, dc = l - b, c - b
    pct = lambda x: f"{x:.1%}"  # noqa: E731
    fill = dict(tok=str(row["token"]).strip() or repr(row["token"]), b=pct(b), c=pct(c), l=pct(l),
                r=pct(dc / dl) if dl else "—")
    if dc * dl < 0 and abs(dc) >= 0.005:
        sentence = text["against"].format(**fill, cdir=text["up" if dc > 0 else "down"],
                                          ldir=text["up" if dl > 0 else "down"])
    else:
        ratio = dc / dl
        kind = "stronger" if ratio > 1.25 else "most" if ratio >= 0.8 else "partly" if ratio >= 0.2 else "hardly"
        sentence = text[kind].format(**fill)
    closed = 1.0 - kl_between / kl_lora if kl_lora > 0 else 0.0
    if closed >= 0:
        sentence += text["closes"].format(x=pct(min(closed, 1.0)))
    else:
        sentence += text["away"].format(k1=kl_lora, k2=kl_between)
    return sentence


def prompt_vs_lora_from(tokenizer: Any, base: torch.Tensor, lora: torch.Tensor, ctx: torch.Tensor,
                        top_k: int = 10, lang: str = "en") -> PromptVsLora:
    """Compare base + context with base + LoRA from three next-token log-prob vectors."""
    if not 1 <= top_k <= 50:
        raise ValueError("top_k: must be 1 … 50")
    top_ctx, top_lora = set(ctx.topk(top_k).indices.tolist()), set(lora.topk(top_k).indices.tolist())
    overlap = len(top_ctx & top_lora) / top_k
    same = int(ctx.argmax()) == int(lora.argmax())
    ids = sorted(top_ctx | top_lora | set(base.topk(top_k).indices.tolist()),
                 key=lambda i: -float(max(base[i], ctx[i], lora[i])))
    table = pd.DataFrame({"token": [tokenizer.decode([i]) for i in ids],
                          "base": [float(base[i].exp()) for i in ids],
                          "context": [float(ctx[i].exp()) for i in ids],
                          "lora": [float(lora[i].exp()) for i in ids]})
    kl_lora, kl_between = kl_divergence(lora, base), kl_divergence(lora, ctx)
    return PromptVsLora(table=table, kl_context=kl_divergence(ctx, base), kl_lora=kl_lora,
                        kl_lora_vs_context=kl_between, top_overlap=overlap, same_top1=same,
                        verdict=verdict(table, kl_lora, kl_between, lang))
