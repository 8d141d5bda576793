"""Model card (README.md) and training_log.json written next to the adapter.

The card is for people who download the adapter: which base it needs, what it was trained
on, how (including whether the base really was 4-bit), and how the loss went.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


def loss_table(steps: list[int], losses: list[float], rows: int = 20) -> str:
    """Markdown table of the loss curve, down-sampled to at most `rows` rows (means per bin)."""
    if not losses:
        return "_no steps were run_"
    frame = pd.DataFrame({"step": steps, "loss": losses})
    bins = min(rows, len(frame))
    frame["bin"] = (frame.index * bins) // len(frame)
    agg = frame.groupby("bin").agg(step=("step", "max"), loss=("loss", "mean"))
    lines = ["| step | loss (mean over the interval) |", "|---:|---:|"]
    lines += [f"| {int(r.step)} | {r.loss:.4f} |" for r in agg.itertuples()]
    return "\n".join(lines)


def _markdown(frame: pd.DataFrame) -> str:
    """Markdown table without the optional `tabulate` dependency."""
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def write_log(out_dir: Path, log: dict[str, Any]) -> None:
    (out_dir / "training_log.json").write_text(json.dumps(log, ensure_ascii=False, indent=2),
                                               encoding="utf-8")


def _objective_text(cfg: dict[str, Any]) -> str:
    """One paragraph on what the objective taught, for a reader of the card."""
    tsdae = (f"TSDAE: encode a text with {cfg['deletion_ratio']:.0%} of its words deleted and "
             "reconstruct the original from the sentence vector (the decoder is discarded).")
    share = cfg.get("template_negatives") or 0.0
    mined = "its nearest corpus neighbour whose numbers or model words differ" + (
        " or that is its template sibling (one word swapped: a flavour, a line, a grade)"
        if cfg.get("sibling_negatives") else "")
    pushed = (mined if not share else
              f"a hard negative — {share:.0%} of the time the title itself with one attribute "
              "changed (an amount, a model-code digit or letter, a letter size or grade, a variant "
              f"word), else {mined} —")
    contrastive = ("Contrastive: two identity-keeping rewrites of a title are pulled together, "
                   f"and {pushed} is pushed "
                   f"apart (InfoNCE, temperature {cfg.get('temperature', 0.05)}, anchor to the base "
                   f"{cfg.get('anchor_weight', 0.0)}).")
    return {"tsdae": tsdae, "contrastive": contrastive}.get(
        cfg.get("objective", "tsdae"), f"{contrastive} {tsdae}")


def write_card(out_dir: Path, log: dict[str, Any], metrics: pd.DataFrame | None = None) -> None:
    """README.md in the Hub's model-card layout (YAML header + sections)."""
    cfg = log["config"]
    # template_negatives left to auto, as the run decided it (the config table keeps it empty)
    used = {**cfg, "template_negatives": log.get("template_negatives_used",
                                                 cfg.get("template_negatives")),
            "sibling_negatives": log.get("sibling_negatives_used", cfg.get("sibling_negatives"))}
    config_rows = "\n".join(f"| {k} | `{v}` |" for k, v in cfg.items())
    metric_md = _markdown(metrics) if metrics is not None else (
        "_not evaluated (run `python -m tuning eval`)_")
    dev = log.get("dev_metrics") or {}
    dev_note = (f" (labelled dev set `{dev['dev_set']}`, never trained on; base and adapter "
                "scored from one loaded model)") if dev.get("dev_set") else ""
    objective = cfg.get("objective", "tsdae")
    text = f"""---
base_model: {log['base_model']}
library_name: peft
tags: [lora, {objective.replace('+', ', ')}, sentence-embeddings, lora-lens]
---

# LoRA adapter for `{log['base_model']}` ({objective})

Trained with LoRA Lens (`python -m tuning train`) on unlabelled texts. {_objective_text(used)}
Only the LoRA weights are stored.

- **Mode:** {log['mode_label']}
- **Status:** {log['status']} after {log['steps']} of {log['total_steps']} steps
  ({log['elapsed_s']:.0f} s)
- **Corpus:** {log['n_texts']} texts
- **Prefix at inference:** `{cfg['prefix']!s}` + text, {cfg['pooling']} pooling, L2-normalised

## Use

```python
from transformers import AutoModel
from peft import PeftModel
base = AutoModel.from_pretrained("{log['base_model']}", add_pooling_layer=False)
model = PeftModel.from_pretrained(base, "path/to/this/folder")
```

## Metrics{dev_note}

{metric_md}

## Loss curve

{loss_table(log['loss_steps'], log['losses'])}

## Configuration

| setting | value |
|---|---|
{config_rows}
"""
    (out_dir / "README.md").write_text(text, encoding="utf-8")
