"""A per-call or per-session leak in the running app fails here (tiny models, in a subprocess).

The numbers come from tests/load/leak_check.py: Python memory the server side still holds
after N calls past a warm-up, and after new sessions once the idle-session sweep ran.
Measured here before the fixes (tracemalloc, in-process, tiny models): gradio kept ~370 KB
per new API session for good (its SessionState: a config copy plus the last outputs), and
~0.35 KB per call in its record of recent events (bounded only at 10,000 events).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KB_PER_CALL = 0.2  # a 200-byte record per call is 0.2 MB per 1,000 calls and grows for good
KB_PER_SESSION = 40.0  # gradio keeps ~370 KB per session when sessions are never dropped


@pytest.fixture(scope="module")
def leak_report() -> dict:
    """The leak_check report (minutes of calls; the two tests that read it are `soak`)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-m", "tests.load.leak_check", "--calls", "200",
                           "--sessions", "10", "--warmup", "150"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.soak
def test_no_python_growth_per_call(leak_report: dict) -> None:
    assert leak_report["kb_per_call"] <= KB_PER_CALL, leak_report["top_calls"]


@pytest.mark.soak
def test_sessions_of_gone_clients_are_released(leak_report: dict) -> None:
    assert leak_report["kb_per_session"] <= KB_PER_SESSION, leak_report["top_sessions"]


def test_malloc_settings_from_env() -> None:
    from comparison.allocator import MallocSettings, settings_from_env

    assert settings_from_env("off") is None
    assert settings_from_env("") == MallocSettings()
    assert settings_from_env("arena_max=0,trim_every_s=0") == MallocSettings(arena_max=0, trim_every_s=0.0)
    with pytest.raises(ValueError, match="unknown setting 'arenas'"):
        settings_from_env("arenas=2")
    with pytest.raises(ValueError, match="arena_max"):
        settings_from_env("arena_max=-1")


def test_idle_api_sessions_go_open_pages_stay() -> None:
    import datetime as dt
    import threading
    from types import SimpleNamespace

    from ui import sessions

    now = dt.datetime(2026, 12, 5, 12, 0)
    old = now - dt.timedelta(hours=2)
    state = lambda closed: SimpleNamespace(is_closed=closed)  # noqa: E731
    holder = SimpleNamespace(
        session_data={"api": state(False), "page": state(False), "closed": state(True), "fresh": state(False)},
        time_last_used={"api": old, "page": old, "closed": old, "fresh": now},
        lock=threading.Lock(), delete_state=lambda session: None)
    sessions._open_pages.add("page")
    try:
        dropped = sessions.forget_idle_sessions(SimpleNamespace(state_holder=holder), now=now)
    finally:
        sessions._open_pages.discard("page")
    assert dropped == 2
    assert set(holder.session_data) == {"page", "fresh"}
