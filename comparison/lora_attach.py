"""The one strict way to put a vetted LoRA adapter onto a model (encoder or language model),
and the one way to run it as the base or at a strength (`adapter_mode`, `check_scale`), shared
by the embeddings and the explorer.

peft 0.21 alone only raises on shape mismatches: keys that match nothing are dropped
silently and missing ones stay at their initial values, which would show a "tuned" model
that no training produced. So before loading, every tensor in the file must name a LoRA
weight the model expects, with its shape, and every expected weight must be in the file;
after loading, every value must have landed. Base embedding weights inside an adapter file
count as "unused": loading them would overwrite the SHARED base for every user. On any
failure the new adapter is removed again and the caller's model is as it was.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from comparison.adapters import WEIGHTS_NAME, AdapterError, check_adapter_dir


def has_lora(model: Any) -> bool:
    """True if the model carries LoRA layers (a PeftModel)."""
    return hasattr(model, "disable_adapter") and hasattr(model, "peft_config")


MAX_SCALE = 2.0


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


def _short(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception, trimmed, for a user-facing message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:limit]


def _check_keys(file_sd: dict, model_sd: dict, made_for: str) -> None:
    unused = sorted(set(file_sd) - set(model_sd))
    missing = sorted(set(model_sd) - set(file_sd))
    if unused:
        raise AdapterError(f"adapter does not fit this model: {len(unused)} weights unused, "
                           f"they match nothing in it (made for {made_for}?), e.g. {unused[0]}",
                           "adapter_mismatch", n=len(unused), base=made_for)
    if missing:
        raise AdapterError(f"adapter file lacks {len(missing)} weights the config promises, "
                           f"e.g. {missing[0]}", "adapter_incomplete", n=len(missing))
    for key, tensor in file_sd.items():
        if tuple(model_sd[key].shape) != tuple(tensor.shape):
            raise AdapterError(f"adapter does not fit: its weights have other shapes than this model (made for "
                               f"{made_for}): {key} is {tuple(tensor.shape)}, the model needs "
                               f"{tuple(model_sd[key].shape)}", "adapter_shape", base=made_for)


def attach_lora(model: Any, folder: Path, name: str) -> Any:
    """`model` with the adapter in `folder` added under `name`; strict, or AdapterError.

    A plain model is wrapped in a PeftModel; a PeftModel gets one more named adapter, so one
    model in memory serves several adapters. Returns the PeftModel.
    """
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model_state_dict, set_peft_model_state_dict
    from safetensors.torch import load_file

    facts = check_adapter_dir(Path(folder))
    made_for = facts["base_model"]
    try:
        config = LoraConfig.from_pretrained(str(folder))
    except Exception as exc:
        raise AdapterError(f"adapter config could not be read by peft ({_short(exc)})",
                           "adapter_config") from exc
    # Never let an init method touch the shared base weights (PiSSA, OLoRA, LoftQ...).
    config.init_lora_weights = True
    config.inference_mode = True
    wrapped = has_lora(model)
    if wrapped and name in model.peft_config:
        raise AdapterError(f"an adapter named {name!r} is already loaded", "adapter_name")
    try:
        if wrapped:
            model.add_adapter(name, config)
            peft_model = model
        else:
            peft_model = PeftModel(model, config, adapter_name=name)
    except Exception as exc:  # peft: "Target modules ... not found in the base model"
        if wrapped and name in model.peft_config:
            model.delete_adapter(name)
        raise AdapterError(f"this adapter does not fit the model (made for {made_for}): "
                           f"{_short(exc)}", "adapter_mismatch", n=0, base=made_for) from exc
    try:
        file_sd = load_file(str(Path(folder) / WEIGHTS_NAME))
        model_sd = get_peft_model_state_dict(peft_model, adapter_name=name,
                                             save_embedding_layers=False)
        _check_keys(file_sd, model_sd, made_for)
        device = next(peft_model.parameters()).device
        set_peft_model_state_dict(peft_model, {k: v.to(device) for k, v in file_sd.items()},
                                  adapter_name=name)
        loaded = get_peft_model_state_dict(peft_model, adapter_name=name,
                                           save_embedding_layers=False)
        for key, tensor in file_sd.items():
            if not torch.equal(loaded[key].float().cpu(), tensor.float()):
                raise AdapterError(f"weight {key} did not load correctly", "adapter_load")
    except Exception as exc:
        detach_lora(peft_model, name)
        if isinstance(exc, AdapterError):
            raise
        raise AdapterError(f"adapter does not fit this model: {_short(exc)}",
                           "adapter_mismatch", n=0, base=made_for) from exc
    peft_model.eval()
    return peft_model


def detach_lora(peft_model: Any, name: str) -> Any:
    """Remove adapter `name`; with none left, the plain base model (cheapest forward)."""
    if name in peft_model.peft_config:
        peft_model.delete_adapter(name)
    if not peft_model.peft_config:
        base = peft_model.unload()
        base.eval()
        return base
    return peft_model
