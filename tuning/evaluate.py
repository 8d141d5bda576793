"""Retrieval metrics for base vs base + adapter, from ONE loaded model.

The adapter is applied with peft and switched off with `disable_adapter()` for the base
numbers, so both rows come from identical weights except the LoRA update (no second model,
no chance of comparing against a different base).
The metrics themselves are `comparison.retrieval` (the app scores with the same rules).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from peft import PeftModel
from peft.helpers import rescale_adapter_scale
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from comparison.retrieval import METRICS, dev_metrics, group_metrics, pair_metrics, read_dev
from tuning.model import embed, load_encoder

__all__ = ["METRICS", "dev_metrics", "evaluate", "group_metrics", "pair_metrics", "read_dev",
           "score"]


def score(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, dev: pd.DataFrame,
          prefix: str = "query: ", pooling: str = "mean") -> dict[str, float]:
    """Metrics of one model state on a dev frame (pairs or groups)."""
    return dev_metrics(lambda texts: embed(model, tokenizer, texts, prefix, pooling), dev)


def evaluate(model_dir_or_encoder: str | Path | tuple[PreTrainedModel, PreTrainedTokenizerBase],
             adapter_dir: str | Path | None, dev_csv: str | Path, prefix: str = "query: ",
             pooling: str = "mean", scales: tuple[float, ...] = (1.0,)) -> pd.DataFrame:
    """Rows 'base' and (with an adapter) 'base + adapter' (or 'base + adapter ×s' for each
    strength in `scales`, WiSE-FT style), columns METRICS; index = model."""
    if isinstance(model_dir_or_encoder, tuple):
        model, tokenizer = model_dir_or_encoder
    else:
        model, tokenizer = load_encoder(model_dir_or_encoder)
    dev = read_dev(Path(dev_csv))
    rows = {}
    if adapter_dir is None:
        rows["base"] = score(model, tokenizer, dev, prefix, pooling)
    else:
        tuned = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
        with tuned.disable_adapter():
            rows["base"] = score(tuned, tokenizer, dev, prefix, pooling)
        for scale in scales:
            name = "base + adapter" if tuple(scales) == (1.0,) else f"base + adapter ×{scale:g}"
            with rescale_adapter_scale(tuned, scale):
                rows[name] = score(tuned, tokenizer, dev, prefix, pooling)
        tuned.unload()  # leave the caller's model as it was given
    frame = pd.DataFrame.from_dict(rows, orient="index")[METRICS]
    frame.index.name = "model"
    return frame
