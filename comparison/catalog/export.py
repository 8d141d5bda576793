"""Take it home: the adapter merged into its base as a sentence-transformers model folder.

Why merged and not the PEFT zip alone: a search service wants ONE model it can load with
`SentenceTransformer(path)`, no peft, no base to fetch and no prefix to remember. The folder
holds the merged transformer, `modules.json` (Transformer → Pooling → Normalize),
`1_Pooling/config.json` (the pooling the adapter was trained with), and
`config_sentence_transformers.json` whose `prompts` carry e5's `query: ` as the default
prompt, so `encode(texts)` gives the vectors the app shows (tested to 4 decimals).

The strength dial is merged too: W' = W + scale · (α/r) · B A, done by scaling every LoRA B
before `merge_and_unload` (exactly what PEFT's `rescale_adapter_scale` does at run time).
The base is loaded fresh in fp32: the app's shared model is never merged in place.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import torch

from comparison.basics import atomic_output
from comparison.lora_attach import attach_lora
from comparison.retrieval import METRICS

MAX_SEQ_LENGTH = 512
CARD_METRICS = {"recall@1": "Recall@1", "mrr": "MRR", "hard_neg_auc": "hard-negative AUC",
                "mean_cosine": "mean cosine"}


def merged_model(base_path: str | Path, adapter_folder: Path, scale: float = 1.0) -> torch.nn.Module:
    """A fresh fp32 base with the adapter merged in at `scale` (a plain transformers model)."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(base_path), add_pooling_layer=False, dtype=torch.float32)
    peft_model = attach_lora(model, Path(adapter_folder), "export")
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.mul_(float(scale))
    merged = peft_model.merge_and_unload()
    return merged.eval()


def metrics_table(metrics: dict[str, pd.DataFrame]) -> str:
    """Markdown rows `source | model | metrics…` from `comparison.dev_eval.evaluate_dev` frames."""
    head = "| labelled set | model | " + " | ".join(CARD_METRICS[m] for m in METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 2)]
    for source, frame in metrics.items():
        for row in frame.to_dict("records"):
            values = " | ".join(f"{float(row[m]):.4f}" for m in METRICS)
            lines.append(f"| {source} | {row['model']} | {values} |")
    return "\n".join(lines)


def model_card(base_id: str, adapter_label: str, scale: float, prefix: str, pooling: str,
               metrics: dict[str, pd.DataFrame]) -> str:
    """README.md: what the model is, how to use it, and base vs adapter on the labels at hand."""
    table = metrics_table(metrics) if metrics else "_No labelled set was available when this was exported._"
    prompt_line = f"`encode()` adds the prompt `{prefix}` by itself (default prompt `query`)." if prefix \
        else "No prompt is added (the adapter was used without a prefix)."
    return f"""---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
base_model: {base_id}
tags: [sentence-transformers, feature-extraction, lora, merged]
---
# {adapter_label} merged into {base_id}

Exported by LoRA Lens: the LoRA adapter **{adapter_label}** merged into its base at strength
**{scale:g}** (1 = as trained), {pooling} pooling, L2-normalised output.
{prompt_line}

```python
from sentence_transformers import SentenceTransformer
model = SentenceTransformer("path/to/this/folder")
vectors = model.encode(["Смартфон Apple iPhone 15 128 ГБ", "Телефон Apple iPhone 15 128GB"])
print(model.similarity(vectors, vectors))
```

## Base vs adapter

Measured in the app with the adapter at the same strength, on the labelled sets available at
export time (the base row is the baseline). Recall@1: the same product is found first;
MRR: mean reciprocal rank of it; hard-negative AUC: the same product scores above a
look-alike; mean cosine: how crowded the space is (not a quality measure on its own).

{table}
"""


def export_sentence_transformer(
    base_path: str | Path, adapter_folder: Path, out: Path, *, scale: float = 1.0,
    prefix: str = "query: ", pooling: str = "mean", base_id: str = "", adapter_label: str = "adapter",
    metrics: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the merged model folder at `out` (atomically: complete or absent) and return it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer

    out = Path(out)
    with atomic_output(out) as tmp:
        hf_dir = tmp.parent / f".{tmp.name}-hf"
        try:
            merged_model(base_path, adapter_folder, scale).save_pretrained(hf_dir, safe_serialization=True)
            AutoTokenizer.from_pretrained(str(base_path)).save_pretrained(hf_dir)
            transformer = Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH)
            dim = transformer.get_embedding_dimension() if hasattr(transformer, "get_embedding_dimension") \
                else transformer.get_word_embedding_dimension()
            modules = [transformer, Pooling(dim, pooling_mode=pooling), Normalize()]
            prompts = {"query": prefix, "passage": "passage: "} if prefix else None
            st = SentenceTransformer(modules=modules, prompts=prompts,
                                     default_prompt_name="query" if prefix else None, device="cpu")
            st.save(str(tmp))
        finally:
            import shutil

            shutil.rmtree(hf_dir, ignore_errors=True)
        (tmp / "README.md").write_text(
            model_card(base_id or str(base_path), adapter_label, scale, prefix, pooling, metrics or {}),
            encoding="utf-8")
        (tmp / "lora_lens_export.json").write_text(json.dumps(
            {"base": base_id or str(base_path), "adapter": adapter_label, "scale": scale,
             "prefix": prefix, "pooling": pooling}, ensure_ascii=False, indent=1), encoding="utf-8")
    return out
