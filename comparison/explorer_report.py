"""The explorer tab's whole click as one call returning one typed report.

Why here and not in the UI: which passes to run (base vs LoRA, key words, anatomy, prompt
vs LoRA), which layer and head to show and how image patches map to the picture are
decisions about the comparison, not about widgets; the UI only draws the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from comparison.basics import InputError, Progress
from comparison.explorer import anatomy as exp_anatomy
from comparison.explorer import metrics as exp_metrics
from comparison.explorer import probes as exp_probes
from comparison.explorer.compare import CompareReport as ExploreResult


@dataclass
class ExplorerReport:
    """Data for every explorer view of one input (None where a view does not apply)."""

    result: ExploreResult
    layer: int
    n_layers: int
    attention_base: np.ndarray
    attention_lora: np.ndarray
    query_labels: list[str]
    image_maps: tuple[np.ndarray, np.ndarray] | None
    keywords: pd.DataFrame | None
    anatomy: pd.DataFrame | None
    anatomy_grid: pd.DataFrame | None
    prompt_vs_lora: exp_probes.PromptVsLora | None


def explore_all(ex: Any, prompt: str, image: Any = None, scale: float = 1.0, top_k: int = 10,
                max_new_tokens: int = 40, layer: int = 0, head: int | None = None,
                keywords: list[str] | None = None, context: str = "",
                progress: Progress | None = None) -> ExplorerReport:
    """All explorer views for one input, base and LoRA passes from the one shared model."""
    if not (prompt or "").strip():
        raise InputError("The prompt is empty.", "empty_prompt")
    if progress:
        progress(0.2, "passes")
    res = ex.explore(prompt, image=image, top_k=top_k, scale=scale, max_new_tokens=max_new_tokens)
    n_layers = int(res.attention_base.shape[0])
    layer = max(0, min(int(layer), n_layers - 1))
    att_b = exp_metrics.attention_matrix(res.attention_base, layer, head)
    att_l = exp_metrics.attention_matrix(res.attention_lora, layer, head)
    image_maps = None
    if image is not None and res.image_grid is not None:
        def patch_map(att: np.ndarray) -> np.ndarray:
            row = exp_metrics.attention_row(att, layer, head, -1)
            return exp_metrics.image_map(row, res.image_positions, res.image_grid)
        image_maps = (patch_map(res.attention_base), patch_map(res.attention_lora))
    if progress:
        progress(0.6, "probes")
    words = [w for w in (keywords or []) if w.strip()]
    kw = (exp_probes.keyword_probabilities(ex, prompt, words, image=image, scale=scale,
                                           max_new_tokens=24) if words else None)
    anatomy = ex.anatomy(scale) if ex.adapter_label != "none" else None
    pvl = (exp_probes.prompt_vs_lora(ex, prompt, context, top_k=top_k, scale=scale)
           if (context or "").strip() else None)
    return ExplorerReport(res, layer, n_layers, att_b, att_l, [res.tokens[q] for q in res.queries],
                          image_maps, kw, anatomy,
                          exp_anatomy.norm_grid(anatomy) if anatomy is not None else None, pvl)

