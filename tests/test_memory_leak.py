"""A per-call or per-session leak in the running app fails here (tiny models, in a subprocess).

The numbers come from tests/load/leak_check.py: Python memory the server side still holds
after N calls past a warm-up, and after new sessions once the idle-session sweep ran.
Measured on this app (2026-12-05): ~0.0x KB per call, a few KB per session; gradio's own
per-session state (~370 KB, never released without ui/sessions.py) and a per-call record
(~0.35 KB per call until 10,000 calls) both break the bounds below.
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
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-m", "tests.load.leak_check", "--calls", "200",
                           "--sessions", "10", "--warmup", "150"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_python_growth_per_call(leak_report: dict) -> None:
    assert leak_report["kb_per_call"] <= KB_PER_CALL, leak_report["top_calls"]


def test_sessions_of_gone_clients_are_released(leak_report: dict) -> None:
    assert leak_report["kb_per_session"] <= KB_PER_SESSION, leak_report["top_sessions"]
