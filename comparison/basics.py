"""The basics every part of LoRA Lens shares, in one home.

Why one module: training (`tuning/`) and scoring (`comparison/`) must agree on how a text
is cleaned, which e5 prefix means what, how token states become a sentence vector, where
the cache lives and how a result lands on disk. Written twice, these drift apart (they did:
"a\u200cb" trained as "a b" and scored as "ab"). Layering: `comparison` is the foundation
(base encoder, adapters, embeddings, metrics, charts) and `tuning` may import it, never the
reverse; this module imports nothing from either package, and no gradio anywhere below
`ui/` (tests/test_layering.py checks both).
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # torch is heavy; the UI imports this module for the prefix table
    import torch

Progress = Callable[[float, str], None]
"""A progress callback: (fraction 0..1, short message)."""

E5_SMALL_ID = "intfloat/multilingual-e5-small"
DEFAULT_HUB_ADAPTER = "TimeNtWait/e5-small-ru-products-qlora_v1"
# What a Hub repository id looks like ("owner/name"); a local path never should.
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")

Pooling = Literal["mean", "cls"]
POOLINGS: tuple[str, ...] = ("mean", "cls")

# ---------------------------------------------------------------- e5 prefixes
DEFAULT_PREFIX = "query: "
# e5 was trained with "query: " / "passage: "; its card advises "query: " on both sides for
# symmetric tasks such as comparing product names. Keys: what people type (lower-cased).
PREFIXES: dict[str, str] = {
    "query: ": "query: ", "query:": "query: ", "query": "query: ",
    "passage: ": "passage: ", "passage:": "passage: ", "passage": "passage: ",
    "": "", "none": "", "no": "",
}
PREFIX_VALUES: tuple[str, ...] = ("query: ", "passage: ", "")


class LensError(ValueError):
    """An error meant for a person: an English message plus a code and parameters.

    Packages stay language-free; the UI turns `code` + `params` into the user's language
    (ui/locales.py "err_<code>") and falls back to the English message for codes it lacks.
    """

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class InputError(LensError):
    """User input a package function refuses."""


class PrefixError(InputError):
    """A prefix that is none of the e5 prefixes."""


def parse_prefix(value: str | None) -> str:
    """The e5 prefix meant by `value` ("query", "query: ", "none", "" …); None = default.

    API callers should not have to know the exact trailing space the model was trained with.
    """
    key = DEFAULT_PREFIX if value is None else str(value)
    found = PREFIXES.get(key, PREFIXES.get(key.strip().lower()))
    if found is None:
        raise PrefixError(f"prefix must be 'query: ', 'passage: ' or '' (none), got {value!r}",
                          "bad_prefix", value=value)
    return found


# ---------------------------------------------------------------- text cleaning
_WORD_BREAKS = {"\u200b"}  # zero-width space: an invisible word break, so a space


def clean_text(text: str) -> str:
    """The one text cleaner of training and scoring.

    NFC (a letter + combining mark scores as the precomposed letter); every whitespace
    (NBSP, tabs, newlines, line separators), control character and zero-width space
    becomes a space; other invisible format characters (ZWNJ/ZWJ, soft hyphen, bidi marks,
    BOM) vanish, so a title pasted from a web page is the same text as one typed by hand;
    whitespace collapsed and stripped. Idempotent.
    """
    chars = []
    for ch in unicodedata.normalize("NFC", str(text)):
        cat = unicodedata.category(ch)
        if ch.isspace() or ch in _WORD_BREAKS or cat == "Cc":
            chars.append(" ")
        elif cat not in ("Cf", "Cs"):
            chars.append(ch)
    return " ".join("".join(chars).split())


# ---------------------------------------------------------------- pooling
def pool(hidden: "torch.Tensor", mask: "torch.Tensor", pooling: str = "mean") -> "torch.Tensor":
    """Sentence vector from token states: masked mean (e5's pooling) or the first token."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


# ---------------------------------------------------------------- files
def cache_dir() -> Path:
    """The app's cache folder: $LORA_LENS_CACHE, else ~/.cache/lora-lens."""
    env = os.environ.get("LORA_LENS_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lora-lens"


def model_folder_complete(folder: Path) -> bool:
    """A converted model folder that finished: written by `atomic_output`, so complete."""
    folder = Path(folder)
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Write a file or folder at the yielded temporary sibling; it becomes `final` on success.

    Readers trust what they find at `final`, so a crash, a kill or an exception must never
    leave a half-written model, adapter or zip there: on error the temporary path is
    removed and `final` is untouched; on success a previous `final` is moved aside, the new
    one renamed in (one `os.replace`) and the old one deleted. Nothing is committed when the
    block wrote nothing at the temporary path.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    tmp = final.with_name(f".{final.name}.partial-{tag}")
    try:
        yield tmp
        if not (tmp.exists() or tmp.is_symlink()):
            return
        if tmp.is_dir():
            os.chmod(tmp, 0o755)
        old = final.with_name(f".{final.name}.old-{tag}")
        if final.exists() or final.is_symlink():
            os.replace(final, old)
        os.replace(tmp, final)
        _remove(old)
    finally:
        _remove(tmp)


def busy_elsewhere(sample_s: float = 0.1) -> float:
    """CPU cores kept busy by OTHER processes during a short sample (0.0 … the core count).

    Why exclude this process: right after a call its idle torch/OpenMP workers still spin
    for a while and would look like a neighbour.
    """
    import time

    import psutil

    me = psutil.Process()

    def snapshot() -> tuple[float, float, float]:
        t, own = psutil.cpu_times(), me.cpu_times()
        busy = t.user + t.system + sum(getattr(t, k, 0.0) for k in ("nice", "irq", "softirq", "steal"))
        return time.perf_counter(), busy, own.user + own.system

    wall0, busy0, own0 = snapshot()
    time.sleep(sample_s)
    wall1, busy1, own1 = snapshot()
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / max(wall1 - wall0, 1e-3)


def idle_threads(sample_s: float = 0.1) -> int:
    """How many CPU threads are free right now: the cores this process may use minus what
    other processes keep busy (`busy_elsewhere`), at least 1.

    Why sample and not the load average: the 1-minute load counts this process's own last
    call and lags a neighbour that just started.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, int(cores - busy_elsewhere(sample_s) + 0.2)))


@contextmanager
def torch_threads(env: str = "LORA_LENS_EXPLORER_THREADS", default: str = "auto") -> Iterator[int]:
    """Run a block with torch's CPU thread count from `env` (a number, 0 = leave torch's
    default, or "auto" = `idle_threads()`), then restore.

    Why auto: measured on 2 shared cores (explorer_bench, eval_bench), two threads are
    ~1.5× faster than one on a quiet machine (click 2.9 vs 4.7 s, evaluation 66 vs
    103 s) but ~2× slower when a neighbour keeps a core busy (load ≈ 5: two threads
    spin-wait on each other). The count is process-wide, so callers keep such blocks to
    one at a time.
    """
    import torch

    value = (os.environ.get(env) or default).strip().lower()
    want = idle_threads() if value == "auto" else int(value or 0)
    before = torch.get_num_threads()
    if want > 0:
        torch.set_num_threads(want)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def native_bf16() -> bool:
    """Whether bf16 matmuls are fast here (not emulated): a CUDA GPU with bf16, or a CPU with
    AVX512-BF16 / AMX, where oneDNN runs them natively (measured on such a CPU: a LoRA training
    step of e5-small 1.6x faster than fp32). Elsewhere bf16 on CPU is emulated and slower."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


@contextmanager
def precision(bf16: bool) -> Iterator[None]:
    """bf16 autocast on CPU in this thread when asked (a no-op otherwise). Autocast state is
    thread-local: it must be entered in the thread that runs the forward."""
    import torch

    with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=bf16):
        yield


def served_bf16() -> bool:
    """LORA_LENS_SERVE_BF16: whether the app's shared passes (every interactive similarity
    request) run under bf16 autocast. "auto" (default) = where the CPU has native bf16; "0" /
    "1" force it. Measured on the classroom burst: app CPU 95 s -> 57 s; cosines move by
    less than 0.01 (the burst benchmark prints the largest difference to the fp32 path: 0.006)."""
    value = os.environ.get("LORA_LENS_SERVE_BF16", "auto").strip().lower()
    if value in ("", "auto"):
        return native_bf16()
    if value not in ("0", "1", "on", "off", "true", "false"):
        raise ValueError(f"LORA_LENS_SERVE_BF16: auto, 0/off/false or 1/on/true, got {value!r}")
    return value in ("1", "on", "true")
