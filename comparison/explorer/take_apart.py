"""Take a LoRA apart: run only some of its parts, and measure which part carries the change.

Both views read the model along the FULL LoRA's greedy answer (teacher-forced, so every
variant is scored on the same text): at the prompt end and at every answer step. Over
those positions:

- `kl_to_base`  = mean KL(variant ‖ base): how far the variant moved from the base;
- `kl_to_full`  = mean KL(full ‖ variant): how much of the full LoRA's behaviour it misses
  (the surprise the variant feels reading the full LoRA's text), 0 for the full LoRA;
- `share` of the full change a part reproduces, a KL "law of cosines":

      share = (KL(full‖base) + KL(part‖base) − KL(full‖part)) / (2 · KL(full‖base))

  Why this measure: near the base, KL is half a squared length in the Fisher metric, so
  `share` is the projection of the part's change onto the full change, divided by the
  full change's squared length. It is exactly 0 for a part with no LoRA in it (the part
  is the base) and exactly 1 for a part that holds the whole LoRA; when the parts of a
  partition (the module kinds, or the thirds of the layers) act independently their
  shares add up to 1, so the sum tells what the parts do together: ≈ 1 additive, > 1 they
  overlap (each alone already does much of the same), < 1 they need each other. A part
  that pushes the other way gets a negative share.
- `survives`: the variant's greedy pick equals the full LoRA's answer at every step (with
  teacher forcing that is exactly "greedy decoding of the variant reproduces the answer");
  `matched` counts the steps that agree before the first difference.

Parts are switched off through the adapter's scalings (`parts.only_parts`), never by
copying weights. `attribute` runs each module kind alone and each third of the layers
alone, then the best kind within the best third, each one forward of the prompt + answer.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from comparison.explorer.adapter_io import check_scale
from comparison.explorer.capture import run_pass
from comparison.explorer.inputs import Encoded, check_prompt
from comparison.explorer.limits import BASE
from comparison.explorer.metrics import kl_divergence, top_k_table
from comparison.explorer.parts import KINDS, Parts, kinds_present, only_parts
from comparison.explorer.probes import extend

if TYPE_CHECKING:
    from comparison.explorer.core import Explorer

MAX_NEW_DEFAULT = 24
NO_CHANGE_KL = 1e-9  # below this the full LoRA does not change the text: no share to split


@dataclass
class Readout:
    """One variant (base, full LoRA or a part) read along the full LoRA's answer."""

    logprobs: torch.Tensor  # [positions, vocab]: prompt end, then each answer step

    def picks(self) -> list[int]:
        return self.logprobs.argmax(-1).tolist()


def share_of_change(kl_full_base: float, kl_part_base: float, kl_full_part: float) -> float | None:
    """The documented share (module docstring); None when the full LoRA changes nothing."""
    if kl_full_base <= NO_CHANGE_KL:
        return None
    return (kl_full_base + kl_part_base - kl_full_part) / (2.0 * kl_full_base)


def _matched(picks: list[int], answer: list[int], full_picks: list[int]) -> tuple[int, bool]:
    """Steps agreeing with the full LoRA's answer before the first difference; all of them?"""
    target = answer if answer else full_picks[:1]
    n = next((i for i, (a, b) in enumerate(zip(picks, target)) if a != b), len(target))
    return n, n == len(target)


def _readouts(explorer: "Explorer", full: Encoded, positions: list[int], variants: list[Parts | str],
              scale: float) -> list[Readout]:
    """One forward per variant ("base", "full" or Parts), under ONE hold of the model's lock."""
    adapter = explorer.active_adapter
    out = []
    with explorer._lock:
        explorer._select()
        for v in variants:
            lora = v != "base"
            ctx = only_parts(explorer.model, adapter, v, scale) if isinstance(v, Parts) else nullcontext()
            with ctx:
                res = run_pass(explorer.model, full.inputs, lora=lora,
                               scale=scale if v == "full" else 1.0, positions=positions)
            out.append(Readout(res.logprobs))
    return out


def _prepare(explorer: "Explorer", prompt: str, scale: float, max_new_tokens: int,
             answer_ids: list[int] | None) -> tuple[Encoded, list[int], Encoded, list[int]]:
    """Encoded prompt, the full LoRA's answer ids (generated unless given), prompt + answer,
    and the positions read (prompt end and each answer step)."""
    if explorer.active_adapter is None:
        raise ValueError("adapter: no LoRA adapter is loaded, there is nothing to take apart")
    check_prompt(prompt)
    check_scale(scale)
    if not 1 <= int(max_new_tokens) <= 128:
        raise ValueError(f"max_new_tokens: must be 1 … 128, got {max_new_tokens}")
    enc = explorer.encode(prompt)
    if answer_ids is None:
        answer_ids = explorer.generate_rows(enc, [explorer.active_adapter], scale=scale,
                                            max_new_tokens=int(max_new_tokens))[0]
    answer_ids = list(answer_ids)
    end = enc.length - 1
    positions = [end + i for i in range(max(1, len(answer_ids)))]
    return enc, answer_ids, extend(enc, answer_ids, explorer.tokenizer) if answer_ids else enc, positions


def _modules(parts: Parts) -> str:
    """"all", "none" or the comma list of kinds (the API's own spelling)."""
    if parts.kinds == frozenset(KINDS):
        return "all"
    return ",".join(sorted(parts.kinds, key=KINDS.index)) or "none"


def _row(part: Parts | str, group: str, read: Readout, base: Readout, full: Readout, kl_full_base: float,
         answer: list[int]) -> dict[str, Any]:
    kl_b, kl_f = kl_divergence(read.logprobs, base.logprobs), kl_divergence(full.logprobs, read.logprobs)
    matched, survives = _matched(read.picks(), answer, full.picks())
    return {"group": group, "part": part.label() if isinstance(part, Parts) else part,
            "modules": _modules(part) if isinstance(part, Parts) else part,
            "layers": ("all" if part.layers is None else f"{part.layers[0]}-{part.layers[1]}")
            if isinstance(part, Parts) else "all",
            "kl_to_base": kl_b, "kl_to_full": kl_f, "share": share_of_change(kl_full_base, kl_b, kl_f),
            "survives": survives, "matched": matched}


@dataclass
class TakeApart:
    """The LoRA with only some parts on, next to the base and the full LoRA."""

    parts: Parts
    layers_on: int
    answers: dict[str, str]  # base / full / part
    top_k: pd.DataFrame  # token, token_id, base, full, part (next token after the prompt)
    row: dict[str, Any]  # kl_to_base, kl_to_full, share, survives, matched of the part
    kl_full_to_base: float
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"parts": self.parts.label(), "parts_modules": self.row["modules"],
                "parts_layers": self.row["layers"], "layers_on": self.layers_on, "answer": self.answers["part"],
                "answers": self.answers, "kl_to_base": self.row["kl_to_base"], "kl_to_full": self.row["kl_to_full"],
                "kl_full_to_base": self.kl_full_to_base, "share": self.row["share"],
                "survives": self.row["survives"], "matched": self.row["matched"],
                "top_k": self.top_k.drop(columns="token_id").round(6).values.tolist(),
                "top_k_columns": [c for c in self.top_k.columns if c != "token_id"], "timings": self.timings}


def take_apart(explorer: "Explorer", prompt: str, parts: Parts, scale: float = 1.0, top_k: int = 10,
               max_new_tokens: int = MAX_NEW_DEFAULT) -> TakeApart:
    """Answers, next-token top-k and KLs of the LoRA with only `parts` on."""
    tick = time.perf_counter()
    scale = check_scale(scale)
    enc, answer, full_enc, positions = _prepare(explorer, prompt, scale, max_new_tokens, None)
    adapter = explorer.active_adapter
    base_ids = explorer.generate_rows(enc, [BASE], scale=scale, max_new_tokens=int(max_new_tokens))[0]
    with explorer._lock:  # the part's own greedy answer, its parts switched on alone
        explorer._select()
        with only_parts(explorer.model, adapter, parts, scale) as on:
            out = explorer._generate(enc.inputs, [adapter], int(max_new_tokens), 1.0, first_line=False)
    stop = {explorer.tokenizer.eos_token_id, explorer.tokenizer.pad_token_id}
    part_ids = out[0, enc.length:].tolist()
    part_ids = part_ids[:next((i for i, t in enumerate(part_ids) if t in stop), len(part_ids))]
    base, full, part = _readouts(explorer, full_enc, positions, ["base", "full", parts], scale)
    kl_full_base = kl_divergence(full.logprobs, base.logprobs)
    decode = lambda ids: explorer.tokenizer.decode(ids, skip_special_tokens=True).strip()  # noqa: E731
    return TakeApart(
        parts=parts, layers_on=on,
        answers={"base": decode(base_ids), "full": decode(answer), "part": decode(part_ids)},
        top_k=top_k_table({"base": base.logprobs[0], "full": full.logprobs[0], "part": part.logprobs[0]},
                          explorer.tokenizer, int(top_k)),
        row=_row(parts, "custom", part, base, full, kl_full_base, answer), kl_full_to_base=kl_full_base,
        timings={"total_s": round(time.perf_counter() - tick, 4)})


def layer_thirds(n_layers: int) -> list[tuple[int, int]]:
    """Three contiguous layer ranges covering the model (one per layer when fewer than 3)."""
    chunks = [c for c in np.array_split(np.arange(n_layers), min(3, n_layers)) if len(c)]
    return [(int(c[0]), int(c[-1])) for c in chunks]


@dataclass
class Attribution:
    """Each module kind alone and each third of the layers alone, with the documented share."""

    rows: pd.DataFrame  # group (module / layers / combined), part, modules, layers, kl_to_base, …
    answer: str  # the full LoRA's answer (what `survives` is about)
    base_answer_first: str  # the base's first pick at the prompt end, for the sentence
    kl_full_to_base: float
    facts: dict[str, Any]  # the one-sentence conclusion as data (worded by the UI)
    timings: dict[str, float] = field(default_factory=dict)

    def sums(self) -> dict[str, float]:
        """Sum of shares per partition (≈ 1 when the parts add up; see the module docstring)."""
        sub = self.rows[self.rows["group"].isin(["module", "layers"])].dropna(subset=["share"])
        return {g: float(s["share"].sum()) for g, s in sub.groupby("group")}

    def to_json(self) -> dict[str, Any]:
        rows = self.rows.replace({np.nan: None}).to_dict("records")
        return {"rows": rows, "answer": self.answer, "kl_full_to_base": self.kl_full_to_base,
                "share_sums": self.sums(), "conclusion": self.facts, "timings": self.timings,
                "measure": "share = (KL(full‖base) + KL(part‖base) − KL(full‖part)) / (2·KL(full‖base)), "
                           "KL averaged over the prompt end and each step of the full LoRA's answer"}


def _conclusion(rows: pd.DataFrame) -> dict[str, Any]:
    """Where most of the change lives, as data: kind "none" / "concentrated" / "module" /
    "layers" / "spread" with the parts and shares it names."""
    if rows["share"].isna().all():
        return {"kind": "none"}
    best = {g: rows[rows["group"] == g].sort_values("share", ascending=False).iloc[0]
            for g in ("module", "layers") if (rows["group"] == g).any()}
    combo = rows[rows["group"] == "combined"]
    facts: dict[str, Any] = {g: {"part": r["part"], "modules": r["modules"], "layers": r["layers"],
                                 "share": float(r["share"]), "survives": bool(r["survives"])}
                             for g, r in best.items()}
    if len(combo) and float(combo["share"].iloc[0]) >= 0.5:
        c = combo.iloc[0]
        facts.update(kind="concentrated", combined={"part": c["part"], "share": float(c["share"]),
                                                    "survives": bool(c["survives"])})
    elif "module" in best and best["module"]["share"] >= 0.5:
        facts["kind"] = "module"
    elif "layers" in best and best["layers"]["share"] >= 0.5:
        facts["kind"] = "layers"
    else:
        facts["kind"] = "spread"
    return facts


def attribute(explorer: "Explorer", prompt: str, scale: float = 1.0, max_new_tokens: int = MAX_NEW_DEFAULT,
              answer_ids: list[int] | None = None) -> Attribution:
    """One row per part: each module kind the adapter writes alone, each third of the layers
    alone, then the best kind within the best third ("combined").

    `answer_ids`: the full LoRA's answer when the caller already has it (a compare click),
    which saves its generation.
    """
    tick = time.perf_counter()
    scale = check_scale(scale)
    _, answer, full_enc, positions = _prepare(explorer, prompt, scale, max_new_tokens, answer_ids)
    t_gen = time.perf_counter() - tick
    kinds = kinds_present(explorer.model, explorer.active_adapter)
    parts: list[tuple[str, Parts]] = [("module", Parts(frozenset([k]))) for k in kinds]
    parts += [("layers", Parts(layers=span)) for span in layer_thirds(explorer.limits.layers)]
    reads = _readouts(explorer, full_enc, positions, ["base", "full", *(p for _, p in parts)], scale)
    base, full = reads[0], reads[1]
    kl_full_base = kl_divergence(full.logprobs, base.logprobs)
    rows = [_row(p, g, r, base, full, kl_full_base, answer) for (g, p), r in zip(parts, reads[2:])]
    frame = pd.DataFrame(rows)
    if kl_full_base > NO_CHANGE_KL and len(kinds) > 1 and explorer.limits.layers > 1:
        best_kind = frame[frame["group"] == "module"].sort_values("share", ascending=False).iloc[0]["modules"]
        lo, hi = map(int, frame[frame["group"] == "layers"].sort_values("share", ascending=False)
                     .iloc[0]["layers"].split("-"))
        combo = Parts(frozenset([best_kind]), (lo, hi))
        (read,) = _readouts(explorer, full_enc, positions, [combo], scale)
        frame = pd.concat([frame, pd.DataFrame([_row(combo, "combined", read, base, full, kl_full_base,
                                                     answer)])], ignore_index=True)
    decode = lambda ids: explorer.tokenizer.decode(ids, skip_special_tokens=True).strip()  # noqa: E731
    return Attribution(rows=frame, answer=decode(answer), base_answer_first=decode(base.picks()[:1]),
                       kl_full_to_base=kl_full_base, facts=_conclusion(frame),
                       timings={"generate_s": round(t_gen, 4), "total_s": round(time.perf_counter() - tick, 4)})
