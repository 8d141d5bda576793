"""Attach a LoRA adapter to the explorer's model strictly, and switch it on and off.

The vetting of untrusted adapter folders (safetensors only, zip path escapes, plain
LoRA configs) is `comparison.adapters`; the strict model-side load is
`comparison.lora_attach`, the same one the similarity encoder uses.
Base and LoRA outputs come from ONE model: `adapter_mode` (in `comparison.lora_attach`,
shared with the embeddings) switches it off for the base pass and sets the strength dial.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from comparison.adapters import check_adapter_dir, fetch_hub_adapter, unpack_adapter
from comparison.lora_attach import MAX_SCALE, adapter_mode, attach_lora, check_scale, has_lora

__all__ = ["ADAPTER_NAME", "MAX_SCALE", "adapter_folder", "adapter_mode", "attach_adapter", "check_scale",
           "has_lora"]  # the strength dial and on/off switch live in comparison.lora_attach (embeddings use them too)

ADAPTER_NAME = "explorer"


def adapter_folder(spec: str | Path, work_dir: Path) -> Path:
    """A vetted adapter folder from a local folder, an uploaded .zip or a Hub id."""
    path = Path(str(spec)).expanduser()
    folder = unpack_adapter(path, work_dir) if path.exists() else fetch_hub_adapter(str(spec))
    check_adapter_dir(folder)
    return folder


def attach_adapter(model: Any, folder: Path, name: str = ADAPTER_NAME) -> Any:
    """Add the adapter in `folder` to `model` under `name`; strict or AdapterError."""
    return attach_lora(model, folder, name)
