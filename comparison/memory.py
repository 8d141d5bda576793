"""Will this model fit? Asked before any weight is downloaded or loaded.

Why: every visitor of a Space shares ONE process (similarity, training and explorer), so a
model too big for what is left gets that process OOM-killed for everybody. The limit is
the cgroup's (what the container may use: /sys/fs/cgroup/memory.max, v2, else v1), else
the machine's RAM; `LORA_LENS_MEMORY_LIMIT` may lower it (e.g. `16GB`, so a test plays a
free Space on a bigger machine). What a model needs comes from its metadata only — the
safetensors headers (local files, or a few KB per file from the Hub through
`HfApi.get_safetensors_metadata`) or, lacking those, config.json — counted in the dtype
it would load in.
"""
from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import psutil

from comparison.basics import LensError

LIMIT_ENV = "LORA_LENS_MEMORY_LIMIT"
MARGIN_BYTES = 512 * 2**20  # the web server, tokenizers, one request's activations
LOAD_OVERHEAD = 1.15  # loading briefly holds more than the weights (buffers, conversion)
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
               "float32": 4, "float16": 2, "bfloat16": 2}
_CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20,
          "mib": 2**20, "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}
MAX_HEADER_BYTES = 100 * 2**20


class MemoryGuardError(LensError):
    """A model refused because it would not fit (`code` memory_too_big / memory_unknown)."""


@dataclass(frozen=True)
class Estimate:
    """What loading a model would take: parameters, the dtype it loads in, bytes needed."""

    model: str
    params: int
    dtype: str
    need_bytes: int
    source: str  # "safetensors", "hub safetensors", "config"

    def __post_init__(self) -> None:
        if self.params <= 0 or self.need_bytes <= 0:
            raise ValueError("params / need_bytes: must be positive")


def parse_size(text: str) -> int:
    """'16GB', '16 GiB', '512M', '17179869184' → bytes (GB = GiB = 2**30, like the cgroup)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"{LIMIT_ENV}: not a size like 16GB or 512MB: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _cgroup_limit() -> int | None:
    for name in _CGROUP_FILES:
        try:
            raw = Path(name).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 2**60:  # v1 writes a huge number for "no limit"
            return int(raw)
    return None


def memory_limit() -> tuple[int, str]:
    """(bytes this process may use, where that number comes from)."""
    limit, source = psutil.virtual_memory().total, "RAM"
    cgroup = _cgroup_limit()
    if cgroup is not None and cgroup < limit:
        limit, source = cgroup, "cgroup"
    env = os.environ.get(LIMIT_ENV, "").strip()
    if env and parse_size(env) < limit:
        limit, source = parse_size(env), LIMIT_ENV
    return limit, source


def available_bytes() -> int:
    """What a new model may still take: the limit minus this process's RSS and a margin."""
    rss = psutil.Process().memory_info().rss
    return max(0, memory_limit()[0] - rss - MARGIN_BYTES)


def need_bytes(params: int, dtype: str) -> int:
    """Bytes to load `params` parameters in `dtype` (torch name or safetensors code)."""
    return int(params * DTYPE_BYTES[dtype] * LOAD_OVERHEAD)


def _header_params(file: Path) -> int:
    """Parameter count from one safetensors file's header (no tensor data read)."""
    with open(file, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        if size > MAX_HEADER_BYTES:
            raise ValueError(f"{file.name}: safetensors header of {size} bytes")
        header = json.loads(fh.read(size))
    total = 0
    for key, info in header.items():
        if key != "__metadata__":
            n = 1
            for d in info["shape"]:
                n *= int(d)
            total += n
    return total


def _config_params(config: dict) -> int:
    """A transformer's parameter count from config.json (embeddings + attention + MLP)."""
    cfg = config.get("text_config") or config
    h = int(cfg.get("hidden_size") or cfg.get("d_model") or 0)
    layers = int(cfg.get("num_hidden_layers") or cfg.get("n_layer") or 0)
    ffn = int(cfg.get("intermediate_size") or 4 * h)
    vocab = int(cfg.get("vocab_size") or 0)
    return vocab * h + layers * (4 * h * h + 3 * h * ffn)


def estimate_local(folder: Path, dtype: str) -> Estimate:
    """The estimate for a model folder: its safetensors headers, else its config.json."""
    folder = Path(folder)
    files = sorted(folder.glob("*.safetensors"))
    params, source = 0, "safetensors"
    try:
        params = sum(_header_params(f) for f in files)
    except (OSError, ValueError, KeyError, struct.error):
        params = 0
    if params <= 0 and (folder / "config.json").is_file():
        params = _config_params(json.loads((folder / "config.json").read_text(encoding="utf-8")))
        source = "config"
    if params <= 0:
        raise MemoryGuardError(f"cannot tell how much memory {folder.name} needs (no safetensors "
                               "header, no config.json): not loaded", "memory_unknown", model=folder.name)
    return Estimate(folder.name, params, dtype, need_bytes(params, dtype), source)


def estimate_hub(repo_id: str, dtype: str, timeout: float = 10.0) -> Estimate:
    """The estimate for a Hub repo from its safetensors headers (a few KB read per file).

    Raises the Hub client's own exception when the Hub fails (the caller says why), and
    MemoryGuardError for a repo without safetensors weights (this app loads no pickles).
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import NotASafetensorsRepoError

    api = HfApi()
    api.model_info(repo_id, timeout=timeout)  # a missing or gated repo fails here, with its reason
    try:
        meta = api.get_safetensors_metadata(repo_id, timeout=timeout)
    except NotASafetensorsRepoError as exc:
        raise MemoryGuardError(f"{repo_id} has no safetensors weights: not loaded", "memory_unknown",
                               model=repo_id) from exc
    params = int(sum(meta.parameter_count.values()))
    if params <= 0:
        raise MemoryGuardError(f"cannot tell how much memory {repo_id} needs: not loaded",
                               "memory_unknown", model=repo_id)
    return Estimate(repo_id, params, dtype, need_bytes(params, dtype), "hub safetensors")


def gb(n: int) -> float:
    return round(n / 2**30, 1)


def check_fits(est: Estimate) -> Estimate:
    """`est` when it fits in what this process may still use, else MemoryGuardError naming both."""
    have = available_bytes()
    if est.need_bytes > have:
        limit, source = memory_limit()
        raise MemoryGuardError(
            f"{est.model} needs about {gb(est.need_bytes)} GB in {est.dtype} "
            f"({est.params / 1e9:.2f} B parameters), but only {gb(have)} GB of memory is left "
            f"(limit {gb(limit)} GB from {source}): not loaded",
            "memory_too_big", model=est.model, need=gb(est.need_bytes), have=gb(have),
            dtype=est.dtype, limit=gb(limit))
    return est


def estimate(spec: str, dtype: str, timeout: float = 10.0) -> Estimate:
    """The estimate for a local folder or a Hub id; a Hub that fails is a HubError saying why."""
    from comparison.hub import HubError, classify, within

    folder = Path(spec).expanduser()
    if folder.is_dir():
        return estimate_local(folder, dtype)
    try:
        return within(lambda: estimate_hub(spec, dtype, timeout), 3 * timeout, spec)
    except (MemoryGuardError, HubError):
        raise
    except Exception as exc:  # 404, 5xx, stall, unreachable: one sentence with the reason
        reason = classify(exc).reason
        raise HubError(f"could not read {spec} from the Hub ({reason})", "hub_failed",
                       model=spec, reason=reason) from exc


def guard(spec: str, dtype: str, timeout: float = 10.0) -> Estimate:
    """Estimate a local folder or a Hub id in `dtype` and refuse it if it cannot fit."""
    return check_fits(estimate(spec, dtype, timeout))
