"""Attach a LoRA adapter to the explorer's model strictly, and switch it on and off.

The vetting of untrusted adapter folders (safetensors only, zip path escapes, plain
LoRA configs) is `comparison.adapters`; the strict model-side load is
`comparison.lora_attach`, the same one the similarity encoder uses.
Base and LoRA outputs come from ONE model: `disable_adapter()` for the base pass,
peft's `rescale_adapter_scale` for the strength dial (restored on exit).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from comparison.adapters import check_adapter_dir, fetch_hub_adapter, unpack_adapter
from comparison.lora_attach import attach_lora, has_lora

__all__ = ["ADAPTER_NAME", "adapter_folder", "adapter_mode", "attach_adapter", "check_scale",
           "has_lora"]

ADAPTER_NAME = "explorer"
MAX_SCALE = 2.0


def adapter_folder(spec: str | Path, work_dir: Path) -> Path:
    """A vetted adapter folder from a local folder, an uploaded .zip or a Hub id."""
    path = Path(str(spec)).expanduser()
    folder = unpack_adapter(path, work_dir) if path.exists() else fetch_hub_adapter(str(spec))
    check_adapter_dir(folder)
    return folder


def attach_adapter(model: Any, folder: Path, name: str = ADAPTER_NAME) -> Any:
    """Add the adapter in `folder` to `model` under `name`; strict or AdapterError."""
    return attach_lora(model, folder, name)


def check_scale(scale: float) -> float:
    """The adapter-strength dial: 0 = base, 1 = as trained, up to 2 = exaggerated."""
    if not isinstance(scale, (int, float)) or not 0.0 <= float(scale) <= MAX_SCALE:
        raise ValueError(f"scale: must be a number from 0 to {MAX_SCALE}, got {scale!r}")
    return float(scale)


@contextmanager
def adapter_mode(model: Any, lora: bool, scale: float = 1.0) -> Iterator[None]:
    """Run the block as the base model (lora=False) or with the LoRA at `scale`.

    Without an adapter both modes are the base model, so the UI still works (Δ = 0).
    """
    from peft.helpers import rescale_adapter_scale

    scale = check_scale(scale)
    if not has_lora(model):
        ctx: Any = nullcontext()
    elif not lora:
        ctx = model.disable_adapter()
    elif scale == 1.0:
        ctx = nullcontext()
    else:
        ctx = rescale_adapter_scale(model, scale)
    with ctx:
        yield
