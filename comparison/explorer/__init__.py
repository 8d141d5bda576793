"""LoRA explorer: what an adapter does to a language model's next tokens and attention.

Entry point for the app: `load_explorer()` returns an `Explorer`; its methods return
data (dicts, DataFrames, arrays) and `comparison.charts.explorer` draws them.
"""
from __future__ import annotations

from pathlib import Path

from comparison.adapters import AdapterError
from comparison.basics import cache_dir
from comparison.explorer.adapter_io import ADAPTER_NAME, adapter_folder, attach_adapter
from comparison.explorer.compare import CompareReport, CompareRequest
from comparison.explorer.core import BASE, Explorer, ModelLimits, model_limits
from comparison.explorer.loading import (GEMMA_LABEL, ModelLoadError, Progress, load_model,
                                         resolve_model)

ADAPTERS_DIR = Path(__file__).resolve().parents[2] / "examples" / "adapters"
DEMO_ADAPTER_DIR = ADAPTERS_DIR / "lm-cartoons-demo"
SEED_CONFIG_NAMES = ("lora_init", "lora_v1", "lora_v2", "lora_v3")
DEMO_ADAPTER_LABEL = "example: lm-cartoons-demo (trained by LoRA Lens on examples/cartoon_qa.jsonl)"

ExploreResult = CompareReport  # the /explore API returns the same report as a click

__all__ = ["ADAPTERS_DIR", "BASE", "checkpoints_dir", "DEMO_ADAPTER_DIR", "SEED_CONFIG_NAMES", "add_config_adapters",
           "shipped_config_adapters", "AdapterError", "CompareReport", "CompareRequest", "Explorer",
           "ExploreResult", "ModelLimits", "ModelLoadError", "load_explorer", "model_limits"]


def load_explorer(model_spec: str | None = None, adapter_spec: str | Path | None = None,
                  progress: Progress | None = None, device: str | None = None) -> Explorer:
    """Load the model (default: Hub Qwen2.5-VL, else offline Gemma 3 270M) plus an adapter.

    `adapter_spec`: a folder, an uploaded .zip, a Hub id, "none", or None for the demo
    adapter when the offline Gemma is the model (it was trained for that base).
    """
    source = resolve_model(model_spec, progress)
    if progress:
        progress(0.9, f"loading {source.label}")
    loaded = load_model(source, device=device)
    label = "none"
    spec = adapter_spec
    if spec is None and source.label == GEMMA_LABEL and (DEMO_ADAPTER_DIR / "adapter_config.json").is_file():
        spec, label = DEMO_ADAPTER_DIR, DEMO_ADAPTER_LABEL
    if spec is not None and str(spec) != "none":
        folder = adapter_folder(spec, cache_dir() / "uploads")
        loaded.model = attach_adapter(loaded.model, folder)
        if label == "none":
            label = str(adapter_spec)
    if progress:
        progress(1.0, "ready")
    return Explorer(loaded, adapter_label=label)


def checkpoints_dir(explorer: Explorer) -> Path | None:
    """Where the active adapter's training checkpoints are: the demo adapter's own folder
    (it ships them, `examples/train_lm_demo.py --checkpoints`); None for any other adapter."""
    from comparison.explorer.checkpoints import checkpoint_folders

    if explorer.active_adapter == ADAPTER_NAME and explorer.adapter_label == DEMO_ADAPTER_LABEL \
            and checkpoint_folders(DEMO_ADAPTER_DIR):
        return DEMO_ADAPTER_DIR
    return None


def shipped_config_adapters() -> dict[str, Path]:
    """Seed 001's four configs trained on the offline Gemma: name → folder (those present)."""
    folders = {name: ADAPTERS_DIR / f"lm-cartoons-{name}" for name in SEED_CONFIG_NAMES}
    return {name: f for name, f in folders.items() if (f / "adapter_config.json").is_file()}


def add_config_adapters(explorer: Explorer) -> list[str]:
    """Attach every shipped config adapter to the ONE loaded model (once); their names.

    Only for the offline Gemma they were trained on: another model would refuse them.
    """
    if explorer.model_label != GEMMA_LABEL:
        return []
    for name, folder in shipped_config_adapters().items():
        if name not in explorer.adapters():
            explorer.add_adapter(name, folder, f"example: lm-cartoons-{name} (seed 001 config {name})")
    return [n for n in shipped_config_adapters() if n in explorer.adapters()]
