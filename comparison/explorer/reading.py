"""The plain-words reading of one compare report, as data the UI puts into words.

Every statement is computed from numbers the same report shows (answers, the top-k Δ
column, the KL line, ‖ΔW‖ per module, the per-layer attention shift, the prompt-vs-LoRA
table), so the text cannot disagree with the charts. The package returns facts (keys and
numbers); `ui/explorer_reading.py` words them in the user's language with its plurals.

Size of the change, by KL(LoRA ‖ base) at the next token (the number on the KL line).
exp(KL) is roughly how many times less likely the base finds a typical next token of the
LoRA (a likelihood ratio), which gives the bands their meaning:

    KL < 0.01 nats   "none"        (< 1 % — the base would not notice)
    0.01 … 0.1       "slight"      (1–10 %)
    0.1 … 0.5        "noticeable"  (10–65 %)
    0.5 … 2          "strong"      (1.6–7×)
    ≥ 2              "drastic"     (> 7×: the LoRA writes what the base would not)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from comparison.explorer.parts import module_kind

if TYPE_CHECKING:
    from comparison.explorer.compare import CompareReport

KL_BANDS: tuple[tuple[float, str], ...] = ((0.01, "none"), (0.1, "slight"), (0.5, "noticeable"),
                                           (2.0, "strong"), (float("inf"), "drastic"))
MOVE_MIN = 0.005  # a probability change below half a percentage point is "no move"
SHIFT_MIN = 1e-4  # JS (nats) below which attention "did not move"
IMITATES, PARTLY = 0.5, 0.2  # share of the LoRA's KL gap the context prompt closes


def kl_band(kl: float) -> str:
    """The documented band name for a KL(LoRA ‖ base) in nats."""
    return next(name for top, name in KL_BANDS if kl < top)


def first_difference(base: str, lora: str) -> dict[str, Any]:
    """Did the answer change, and from which word (1-based) with the two words there."""
    b, l = base.split(), lora.split()
    if b == l:
        return {"changed": False}
    i = next((j for j, (x, y) in enumerate(zip(b, l)) if x != y), min(len(b), len(l)))
    return {"changed": True, "word": i + 1, "base_word": b[i] if i < len(b) else "",
            "lora_word": l[i] if i < len(l) else ""}


def _candidates(report: "CompareReport") -> dict[str, Any]:
    table = report.top_k
    out: dict[str, Any] = {"base_top": str(table.loc[table["base"].idxmax(), "token"]),
                           "lora_top": str(table.loc[table["lora"].idxmax(), "token"])}
    out["top_changed"] = out["base_top"] != out["lora_top"]
    for name, idx in (("gained", table["delta"].idxmax()), ("lost", table["delta"].idxmin())):
        row = table.loc[idx]
        if abs(float(row["delta"])) >= MOVE_MIN and (float(row["delta"]) > 0) == (name == "gained"):
            out[name] = {"token": str(row["token"]), "base": float(row["base"]), "lora": float(row["lora"])}
    return out


def _where(report: "CompareReport") -> dict[str, Any]:
    """Module kind and layers with the largest ‖ΔW‖, and the layer where attention moved most."""
    out: dict[str, Any] = {}
    anatomy = report.anatomy
    if anatomy is not None and len(anatomy) and float(anatomy["norm"].sum()) == 0:
        out["writes"] = {"zero": True}
    elif anatomy is not None and len(anatomy):
        text = anatomy[anatomy["part"] == "text"] if (anatomy["part"] == "text").any() else anatomy
        sq = text["norm"] ** 2  # squared Frobenius norms add up over modules
        kinds = sq.groupby(text["name"].map(lambda n: module_kind(n) or "other")).sum()
        layers = sq.groupby(text["layer"]).sum().sort_values(ascending=False)
        total = float(sq.sum())
        out["writes"] = {"zero": False, "kind": str(kinds.idxmax()), "kind_share": float(kinds.max() / total),
                         "kinds": sorted(kinds.index.tolist()),
                         "layers": [int(x) for x in layers.index[:3] if x >= 0],
                         "layers_share": float(layers.iloc[:3].sum() / total)}
    else:
        out["writes"] = None
    shift = np.asarray(report.layer_shift, dtype=float)
    top = int(shift.argmax()) if shift.size else 0
    out["attention"] = {"moved": bool(shift.size and shift[top] >= SHIFT_MIN), "layer": top,
                        "js": float(shift[top]) if shift.size else 0.0}
    return out


def _prompt(report: "CompareReport") -> dict[str, Any] | None:
    pvl = report.prompt_vs_lora
    if pvl is None:
        return None
    if pvl.kl_lora < 1e-4:
        return {"kind": "nothing"}
    closed = 1.0 - pvl.kl_lora_vs_context / pvl.kl_lora
    kind = "imitates" if closed >= IMITATES and pvl.same_top1 else "partly" if closed >= PARTLY else "no"
    return {"kind": kind, "closed": closed, "same_top1": bool(pvl.same_top1)}


def reading(report: "CompareReport") -> dict[str, Any]:
    """Facts for the plain-words summary of one report (see the module docstring)."""
    facts: dict[str, Any] = {}
    facts["answer"] = first_difference(report.answers["base"], report.answers["lora"]) \
        if report.answers else None
    facts["next_token"] = _candidates(report)
    facts["size"] = {"kl": float(report.kl), "band": kl_band(float(report.kl))}
    facts.update(_where(report))
    facts["prompt"] = _prompt(report)
    return facts
