"""One explorer click = one report, each model pass made once.

What the user waits for, in order: (1) base and LoRA answers from ONE greedy generate
call, a 2-row peft mixed-adapter batch (`adapter_names=["__base__", adapter]`), through
`fast_decode.fast_greedy` (the picks of fp32, ~2× faster on a CPU; two rows then cost
about one: decoding reads every weight once per step); (2) one teacher-forced forward
per model over prompt + the answer the user sees, with attention captured (separate
B = 1 passes, so an untrained adapter shows Δ = 0 exactly), which gives the next-token
table (at the prompt end), the key-word probabilities along that answer, the attention
maps and the per-layer shift (attention rows of prompt tokens only look at the prompt,
so the maps equal a prompt-only pass); the output layer runs only at the positions a
view reads; (3) only if a context prompt is given, one base forward of context + prompt
for "prompt vs LoRA", read at its last position. The adapter's anatomy needs no pass.
Every range is checked against the loaded model before any of it runs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from comparison.explorer.adapter_io import check_scale
from comparison.explorer.capture import run_pass
from comparison.explorer.limits import BASE, MAX_NEW_TOKENS, ModelLimits
from comparison.explorer.inputs import PromptFormat, check_prompt
from comparison.explorer.metrics import (attention_matrix, attention_row, image_map, js_divergence,
                                         kl_divergence, layer_shift, top_k_union)
from comparison.explorer.reading import reading
from comparison.explorer.probes import MAX_WORDS, PromptVsLora, extend, keyword_rows, prompt_vs_lora_from

if TYPE_CHECKING:
    from comparison.explorer.core import Explorer


@dataclass(frozen=True)
class CompareRequest:
    """What one click asks for. `layer` None = last layer; `head` None = mean over heads."""

    prompt: str
    image: Any | None = None
    scale: float = 1.0
    top_k: int = 10
    max_new_tokens: int = 40
    layer: int | None = None
    head: int | None = None
    keywords: tuple[str, ...] = ()
    context: str = ""
    answer_from: Literal["base", "lora"] = "lora"
    position: int = -1
    fmt: PromptFormat = "qa"

    def check(self, limits: ModelLimits) -> None:
        """ValueError naming the field and its allowed range, before any model work."""
        check_prompt(self.prompt)
        check_scale(self.scale)
        if not 1 <= int(self.top_k) <= 50:
            raise ValueError(f"top_k: must be 1 … 50, got {self.top_k}")
        if not 0 <= int(self.max_new_tokens) <= MAX_NEW_TOKENS:
            raise ValueError(f"max_new_tokens: must be 0 … {MAX_NEW_TOKENS}, got {self.max_new_tokens}")
        if self.layer is not None and not 0 <= int(self.layer) < limits.layers:
            raise ValueError(f"layer: this model has {limits.layers} layers, choose 0 … {limits.layers - 1}, "
                             f"got {self.layer}")
        if self.head is not None and not 0 <= int(self.head) < limits.heads:
            raise ValueError(f"head: this model has {limits.heads} attention heads, choose 0 … "
                             f"{limits.heads - 1} (or the mean), got {self.head}")
        words = [w for w in self.keywords if w and w.strip()]
        if len(words) > MAX_WORDS:
            raise ValueError(f"keywords: at most {MAX_WORDS} key words, got {len(words)}")
        if self.image is not None and not limits.is_vlm:
            raise ValueError("image: this is a text-only model; load a vision-language model for images")
        if self.answer_from not in ("base", "lora"):
            raise ValueError("answer_from: must be 'base' or 'lora'")
        if len(self.context) > 2000:
            raise ValueError("context: at most 2000 characters")


@dataclass
class CompareReport:
    """Everything the explorer tab shows for one click; `applies` says which views to show."""

    model: str
    adapter: str
    scale: float
    limits: ModelLimits
    tokens: list[str]
    image_positions: list[int]
    image_grid: tuple[int, int] | None
    position: int
    top_k: pd.DataFrame
    kl: float
    js: float
    queries: list[int]
    attention_base: np.ndarray  # [layers, heads, prompt text queries, prompt keys]
    attention_lora: np.ndarray
    layer_shift: np.ndarray
    layer: int
    head: int | None
    attention: dict[str, np.ndarray]  # "base" / "lora": queries × keys at (layer, head)
    image_attention: dict[str, np.ndarray] | None  # "base" / "lora": last query over the patch grid
    answers: dict[str, str] = field(default_factory=dict)
    answer_ids: list[int] = field(default_factory=list)  # the answer the key words follow
    answer_tokens: list[str] = field(default_factory=list)
    keywords: pd.DataFrame | None = None
    prompt_vs_lora: PromptVsLora | None = None
    anatomy: pd.DataFrame | None = None
    applies: dict[str, bool] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    passes: dict[str, int] = field(default_factory=dict)
    reading: dict[str, Any] = field(default_factory=dict)  # plain-words facts (`reading.reading`)

    def __post_init__(self) -> None:
        if self.attention_base.shape != self.attention_lora.shape:
            raise ValueError("attention_lora: must have the shape of attention_base")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (no attention tensors) for an API response."""
        return {
            "model": self.model, "adapter": self.adapter, "scale": self.scale,
            "tokens": self.tokens, "position": self.position,
            "top_k": self.top_k.drop(columns="token_id").round(6).values.tolist(),
            "kl": self.kl, "js": self.js, "layer_shift": [float(x) for x in self.layer_shift],
            "answers": self.answers, "layers": self.limits.layers, "heads": self.limits.heads,
            "verdict": self.prompt_vs_lora.verdict if self.prompt_vs_lora else None,
            "timings": self.timings, "passes": self.passes, "reading": self.reading,
        }


def run_compare(explorer: "Explorer", request: CompareRequest, lang: str = "en") -> CompareReport:
    """Answers, top-k, key words, attention, shift, anatomy and prompt-vs-LoRA from the fewest passes."""
    limits = explorer.limits
    request.check(limits)
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    scale, words = float(request.scale), [w.strip() for w in request.keywords if w and w.strip()]
    enc = explorer.encode(request.prompt, request.image, request.fmt)
    if not -enc.length <= request.position < enc.length:
        raise ValueError(f"position: must be within the {enc.length} prompt tokens")
    adapter = explorer.active_adapter
    names = [BASE, adapter] if adapter else [BASE]
    answers: dict[str, str] = {}
    shown: list[int] = []
    passes = {"generate": 0, "forward": 0, "context_forward": 0}
    if request.max_new_tokens:
        ids = explorer.generate_rows(enc, names, scale=scale, max_new_tokens=int(request.max_new_tokens))
        ids = ids if adapter else ids * 2
        answers = {k: explorer.tokenizer.decode(v, skip_special_tokens=True).strip()
                   for k, v in zip(("base", "lora"), ids)}
        shown = ids[1] if request.answer_from == "lora" else ids[0]
        passes["generate"] = 1
        timings["generate_s"] = time.perf_counter() - tick
    full = extend(enc, shown, explorer.tokenizer) if shown else enc
    t0 = time.perf_counter()
    queries = enc.text_positions
    pos = request.position % enc.length
    end = enc.length - 1
    needed = [pos, end] + (list(range(end, end + len(shown) + 1)) if words else [])
    with explorer._lock:  # two B = 1 forwards: bit-exact base == LoRA for an untrained (B = 0) adapter
        explorer._select()
        results = [run_pass(explorer.model, full.inputs, lora=name != BASE, scale=scale, queries=queries,
                            capture=True, positions=needed) for name in names]
    passes["forward"] = len(names)
    base, lora = results[0], results[-1]
    timings["forward_s"] = time.perf_counter() - t0
    att_b = base.attention[..., :enc.length]
    att_l = lora.attention[..., :enc.length]
    layer = limits.layers - 1 if request.layer is None else int(request.layer)
    head = None if request.head is None else int(request.head)
    image_att = None
    if enc.image_grid is not None:
        image_att = {k: image_map(attention_row(a, layer, head, -1), enc.image_positions, enc.image_grid)
                     for k, a in (("base", att_b), ("lora", att_l))}
    keywords = None
    if words:
        steps = (end, end + len(shown) + 1)
        keywords = keyword_rows(explorer.tokenizer, words, base.span(*steps), lora.span(*steps), shown, lang)
    pvl = None
    if request.context.strip():
        t1 = time.perf_counter()
        ctx_enc = explorer.encode(request.context.strip() + "\n" + request.prompt.strip(), request.image,
                                  request.fmt)
        ctx = explorer.pass_on(ctx_enc, lora=False, positions=[-1]).logprobs[-1]
        passes["context_forward"] = 1
        pvl = prompt_vs_lora_from(explorer.tokenizer, base.at(end), lora.at(end), ctx,
                                  int(request.top_k), lang)
        timings["context_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    anatomy = explorer.anatomy(scale) if adapter else None
    timings["anatomy_s"] = time.perf_counter() - t2
    timings["total_s"] = time.perf_counter() - tick
    report = CompareReport(
        model=explorer.model_label, adapter=explorer.adapter_label, scale=scale, limits=limits,
        tokens=enc.tokens, image_positions=enc.image_positions, image_grid=enc.image_grid, position=pos,
        top_k=top_k_union(base.at(pos), lora.at(pos), explorer.tokenizer, int(request.top_k)),
        kl=kl_divergence(lora.at(pos), base.at(pos)),
        js=js_divergence(lora.at(pos), base.at(pos)),
        queries=queries, attention_base=att_b, attention_lora=att_l, layer_shift=layer_shift(att_b, att_l),
        layer=layer, head=head,
        attention={"base": attention_matrix(att_b, layer, head), "lora": attention_matrix(att_l, layer, head)},
        image_attention=image_att, answers=answers,
        answer_ids=list(shown), answer_tokens=[explorer.tokenizer.decode([i]) for i in shown], keywords=keywords,
        prompt_vs_lora=pvl, anatomy=anatomy,
        applies={"answers": bool(answers), "image_attention": image_att is not None,
                 "keywords": keywords is not None, "prompt_vs_lora": pvl is not None,
                 "anatomy": anatomy is not None},
        timings={k: round(v, 4) for k, v in timings.items()}, passes=passes)
    report.reading = reading(report)
    return report


def keyword_probabilities(explorer: "Explorer", prompt: str, words: list[str], image: Any | None = None,
                          answer_from: Literal["base", "lora"] = "lora", scale: float = 1.0,
                          max_new_tokens: int = 32) -> pd.DataFrame:
    """P(next token starts word) along one answer: the compare report's key-word table."""
    words = [w.strip() for w in words if w and w.strip()]
    if not 1 <= len(words) <= MAX_WORDS:
        raise ValueError(f"words: give 1 … {MAX_WORDS} key words")
    report = explorer.compare(CompareRequest(prompt=prompt, image=image, scale=scale, keywords=tuple(words),
                                             max_new_tokens=max_new_tokens, answer_from=answer_from))
    assert report.keywords is not None
    return report.keywords


def prompt_vs_lora(explorer: "Explorer", prompt: str, context: str, top_k: int = 10,
                   scale: float = 1.0, lang: str = "en") -> PromptVsLora:
    """Compare base + context with base + LoRA on the next token after `prompt`."""
    if not context or not context.strip():
        raise ValueError("context: write the prompt text that should imitate the adapter")
    report = run_compare(explorer, CompareRequest(prompt=prompt, scale=scale, top_k=top_k, context=context,
                                                  max_new_tokens=0), lang=lang)
    assert report.prompt_vs_lora is not None
    return report.prompt_vs_lora
