"""Attach a LoRA adapter to the explorer's model strictly, and switch it on and off.

The vetting of untrusted adapter folders (safetensors only, zip path escapes, plain
LoRA configs) is `comparison.adapters`; this module adds the model-side check: every
tensor in the file must land on a LoRA weight of the right shape and every LoRA weight
must be filled, because a partial load shows effects that no trained adapter has.
Base and LoRA outputs come from ONE model: `disable_adapter()` for the base pass,
peft's `rescale_adapter_scale` for the strength dial (restored on exit).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from comparison.adapters import (WEIGHTS_NAME, AdapterError, check_adapter_dir,
                                 fetch_hub_adapter, unpack_adapter)

ADAPTER_NAME = "explorer"
MAX_SCALE = 2.0


def adapter_folder(spec: str | Path, work_dir: Path) -> Path:
    """A vetted adapter folder from a local folder, an uploaded .zip or a Hub id."""
    path = Path(str(spec)).expanduser()
    folder = unpack_adapter(path, work_dir) if path.exists() else fetch_hub_adapter(str(spec))
    check_adapter_dir(folder)
    return folder


def attach_adapter(model: Any, folder: Path, name: str = ADAPTER_NAME) -> Any:
    """Add the adapter in `folder` to `model` under `name`; strict or AdapterError.

    A plain model is wrapped in a PeftModel; a PeftModel gets one more named adapter (one
    model in memory serves several adapters). On any failure the new LoRA layers are
    removed again, so the caller's model is unchanged.
    """
    from peft import LoraConfig, PeftModel, set_peft_model_state_dict
    from safetensors.torch import load_file

    facts = check_adapter_dir(folder)
    config = LoraConfig.from_pretrained(str(folder))
    config.inference_mode = True
    wrapped = has_lora(model)
    if wrapped and name in model.peft_config:
        raise AdapterError(f"an adapter named {name!r} is already loaded")
    try:
        if wrapped:
            model.add_adapter(name, config)
            peft_model = model
        else:
            peft_model = PeftModel(model, config, adapter_name=name)
    except ValueError as exc:  # peft: "Target modules ... not found in the base model"
        if wrapped and name in model.peft_config:
            model.delete_adapter(name)
        raise AdapterError(
            f"this adapter does not fit the model (made for {facts['base_model']}): {exc}"
        ) from exc
    try:
        state = load_file(str(Path(folder) / WEIGHTS_NAME), device=str(peft_model.device))
        try:
            result = set_peft_model_state_dict(peft_model, state, adapter_name=name)
        except RuntimeError as exc:  # size mismatch
            raise AdapterError(
                f"adapter weights have other shapes than this model (made for {facts['base_model']})"
            ) from exc
        unexpected = list(result.unexpected_keys)
        missing = [k for k in result.missing_keys if "lora_" in k and f".{name}." in k]
        if unexpected or missing:
            keys = (unexpected or missing)[:3]
            kind = "unused by this model" if unexpected else "missing from the file"
            raise AdapterError(
                f"adapter does not match this model: {len(unexpected or missing)} weights {kind} "
                f"(e.g. {', '.join(keys)}); it was made for {facts['base_model']}"
            )
    except Exception:
        if wrapped:
            peft_model.delete_adapter(name)
        else:
            peft_model.unload()
        raise
    peft_model.eval()
    return peft_model


def has_lora(model: Any) -> bool:
    """True if the model carries LoRA layers (a PeftModel)."""
    return hasattr(model, "disable_adapter") and hasattr(model, "peft_config")


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
