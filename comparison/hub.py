"""Is the Hugging Face Hub usable from here, and if not, why not?

The app picks its defaults from the Hub when it can and from offline copies when it
cannot, and the header says which and why. A TCP connect is not enough to know: a Hub in
an outage accepts connections and answers 503, a stalled one accepts and never answers.
So the probe is one real HTTP request to the endpoint (HF_ENDPOINT honoured) with a
bounded timeout, run in a daemon thread so even a hanging DNS lookup cannot hold the
caller longer than `timeout`. Its answer is cached for the process: reachability does not
change while a demo is shown, and a second slow probe per click would be noticeable.

Every later Hub call is bounded too: `set_timeout_defaults()` (called by app.py before
huggingface_hub is imported, which reads them once) caps each request, and `within()`
gives a whole download an overall deadline, so a stalled Hub never holds a click.
"""
from __future__ import annotations

import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from comparison.basics import E5_SMALL_ID, HUB_ID_RE, LensError

__all__ = ["HUB_ID_RE", "HubError", "HubStatus", "classify", "endpoint", "hub_reachable",
           "hub_status", "offline_forced", "prepare_environment", "reset_cache", "set_timeout_defaults",
           "within"]

HubState = Literal["ok", "http_error", "stalled", "unreachable", "offline"]
PROBE_REPO = E5_SMALL_ID
PROBE_TIMEOUT_S = 5.0
# Per-request bounds for huggingface_hub (seconds); a stalled read fails after this long.
TIMEOUT_DEFAULTS = {"HF_HUB_ETAG_TIMEOUT": "10", "HF_HUB_DOWNLOAD_TIMEOUT": "20"}
_TRUTHY = {"1", "true", "yes", "on", "y"}
_lock = threading.Lock()
_cached: HubStatus | None = None
T = TypeVar("T")


class HubError(LensError):
    """A Hub request that failed or did not finish in time (the message names the reason)."""


@dataclass(frozen=True)
class HubStatus:
    """What the last probe found: a state, the HTTP code for an HTTP error, a short detail."""

    state: HubState
    code: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def reason(self) -> str:
        """The English words the header shows (ui/locales_space.py translates them)."""
        if self.state == "http_error" and self.code == 404:
            return "not found on the Hub (HTTP 404)"
        if self.state == "http_error" and self.code in (401, 403):
            return f"no access on the Hub (HTTP {self.code})"
        return {"ok": "Hub available",
                "http_error": f"Hub unavailable (HTTP {self.code})",
                "stalled": "Hub not answering (timed out)",
                "unreachable": "Hub unreachable",
                "offline": "offline mode (HF_HUB_OFFLINE)"}[self.state]


def offline_forced() -> bool:
    """True when HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE asks for offline mode."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUTHY
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def endpoint() -> str:
    """The Hub's base URL (HF_ENDPOINT lets a mirror or a test stand-in take its place)."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def set_timeout_defaults() -> None:
    """Bound every huggingface_hub request unless the deployer chose other bounds.

    Must run before huggingface_hub is first imported: it reads these variables once.
    """
    for var, value in TIMEOUT_DEFAULTS.items():
        os.environ.setdefault(var, value)


def prepare_environment(data: str = "/data") -> None:
    """App start, before huggingface_hub is imported: bounded Hub requests, and on a Space
    with persistent storage (`/data`) the caches there, so conversions and downloads
    survive restarts. A Hub cache preloaded into the image (`preload_from_hub`) wins over
    /data for HF_HOME: it is already complete."""
    set_timeout_defaults()
    root = Path(data)
    if not (root.is_dir() and os.access(root, os.W_OK)):
        return
    os.environ.setdefault("LORA_LENS_CACHE", str(root / "lora-lens"))
    preloaded = Path.home() / ".cache" / "huggingface" / "hub"
    if not (preloaded.is_dir() and any(preloaded.glob("models--*"))):
        os.environ.setdefault("HF_HOME", str(root / ".huggingface"))


def classify(exc: BaseException) -> HubStatus:
    """A Hub client exception (urllib, httpx, huggingface_hub) as a HubStatus."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, HubError) and isinstance(exc.params.get("status"), HubStatus):
            return exc.params["status"]
        response = getattr(exc, "response", None)
        code = getattr(response, "status_code", None) or getattr(exc, "code", None)
        if isinstance(code, int) and 400 <= code < 600:
            return HubStatus("http_error", code, str(exc)[:200])
        name = type(exc).__name__
        if isinstance(exc, (TimeoutError, socket.timeout)) or "Timeout" in name:
            return HubStatus("stalled", None, name)
        if isinstance(exc, (ConnectionError, socket.gaierror)) or name in ("ConnectError", "NetworkError"):
            return HubStatus("unreachable", None, name)
        reason = getattr(exc, "reason", None)
        exc = reason if isinstance(reason, BaseException) else (exc.__cause__ or exc.__context__)
    return HubStatus("unreachable", None, "no answer")


def _probe(timeout: float) -> HubStatus:
    """One GET of the probe repo's API page, bounded by `timeout` including name resolution."""
    result: list[HubStatus] = []
    url = f"{endpoint()}/api/models/{PROBE_REPO}"

    def attempt() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                answer.read(1 << 16)
            result.append(HubStatus("ok"))
        except Exception as exc:  # every failure is a state, never a crash of the caller
            status = classify(exc)
            # The server answered normally (the probe repo may be absent from a mirror):
            # only 5xx and 429 (rate limit) mean the Hub itself cannot serve now.
            answered = status.state == "http_error" and (status.code or 500) < 500 and status.code != 429
            result.append(HubStatus("ok") if answered else status)

    worker = threading.Thread(target=attempt, name="hub-probe", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return result[0] if result else HubStatus("stalled", None, f"no answer in {timeout:.0f} s")


def hub_status(timeout: float | None = None) -> HubStatus:
    """The Hub's state; `offline` at once when offline mode is set. Cached per process."""
    global _cached
    if offline_forced():
        return HubStatus("offline")
    with _lock:
        if _cached is None:
            _cached = _probe(timeout or PROBE_TIMEOUT_S)
        return _cached


def hub_reachable(timeout: float | None = None) -> bool:
    """True if the Hub answers HTTP requests normally (see `hub_status` for why not)."""
    return hub_status(timeout).ok


def reset_cache() -> None:
    """Forget the cached probe result (tests, or a later retry)."""
    global _cached
    with _lock:
        _cached = None


def within(call: Callable[[], T], deadline_s: float, what: str) -> T:
    """`call()` in a daemon thread, or HubError when it has not finished by `deadline_s`.

    Why a thread: per-request timeouts bound one read, but a Hub that trickles bytes or
    retries can still take minutes; the caller gets its answer (or a fallback) in time and
    the abandoned download finishes or fails on its own.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"hub-{what}"[:40], daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        status = HubStatus("stalled", None, f"{what}: no result in {deadline_s:.0f} s")
        raise HubError(f"{what}: the Hub did not finish within {deadline_s:.0f} s",
                       "hub_failed", model=what, reason=status.reason, status=status)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
