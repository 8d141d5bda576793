"""Is the Hugging Face Hub reachable from here?

The app picks its defaults (base model, demo adapter) from the Hub when it can and from
offline copies when it cannot. Asking must never stall the UI: an offline flag answers
at once, and the network probe runs in a daemon thread so even a DNS lookup that hangs
cannot keep the caller waiting longer than `timeout`. The probe's answer is cached for
the process, because reachability does not change while a demo is being shown and a
second slow probe per click would be noticeable.
"""
from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlparse

from comparison.basics import HUB_ID_RE

__all__ = ["HUB_ID_RE", "hub_reachable", "offline_forced", "reset_cache"]
_TRUTHY = {"1", "true", "yes", "on", "y"}
_lock = threading.Lock()
_cached: bool | None = None


def offline_forced() -> bool:
    """True when HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE asks for offline mode."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUTHY
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _hub_address() -> tuple[str, int]:
    """Host and port of the Hub endpoint (HF_ENDPOINT lets mirrors stand in for it)."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = url.port or (80 if url.scheme == "http" else 443)
    return url.hostname or "huggingface.co", port


def _probe(timeout: float) -> bool:
    """One TCP connection to the Hub, bounded by `timeout` including name resolution."""
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection(_hub_address(), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, name="hub-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def hub_reachable(timeout: float = 1.5) -> bool:
    """True if the Hub answers; False at once when offline mode is set. Cached per process."""
    global _cached
    if offline_forced():
        return False
    with _lock:
        if _cached is None:
            _cached = _probe(timeout)
        return _cached


def reset_cache() -> None:
    """Forget the cached probe result (tests, or a UI "retry" button)."""
    global _cached
    with _lock:
        _cached = None
