"""Offline and degraded machines: no Hub, no 4-bit backend, a training cancelled mid-way.

Why: a free Space can lose the Hub, and a CPU box may have a bitsandbytes without a
working CPU kernel. In both cases the app must carry on with the offline default or with
plain LoRA — and say so in the label — instead of hanging or crashing. The Hub here is a
closed port on 127.0.0.1 (no traffic leaves the machine), and no offline flag is set, so
the real network probe runs.
"""
from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest

import comparison.base_encoder as base_mod
from comparison import defaults, hub
from comparison.adapters import default_adapter
from tuning import model as model_mod
from tuning.config import TrainConfig
from tuning.jobs import TrainingQueue
from tuning.train import train

pytestmark = pytest.mark.fault

TEXTS = ["смартфон apple iphone 15 pro", "кофемашина nespresso для дома", "наушники xiaomi белый",
         "умные часы samsung", "ноутбук для детей черный", "чайник белый для дома",
         "пылесос samsung черный", "кроссовки для детей белый"]


@pytest.fixture()
def hub_down(monkeypatch: pytest.MonkeyPatch):
    """The Hub endpoint is a loopback port nobody listens on; the offline flags are unset."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: connections are refused
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LORA_LENS_BASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    hub.reset_cache()
    yield
    hub.reset_cache()


def test_unreachable_hub_is_detected_quickly(hub_down) -> None:
    t0 = time.monotonic()
    assert hub.offline_forced() is False
    assert hub.hub_reachable(timeout=2.0) is False
    assert time.monotonic() - t0 < 3.0
    assert hub.hub_status().state == "unreachable"


def test_unreachable_hub_gives_the_labelled_offline_defaults(hub_down, monkeypatch) -> None:
    offline = base_mod.BaseSource(path="/offline/e5", kind="offline", label=base_mod.OFFLINE_LABEL)
    monkeypatch.setattr(defaults, "offline_base", lambda progress=None: offline)
    src = base_mod.resolve_base()
    assert src.path == offline.path and src.label == f"Hub unreachable: {base_mod.OFFLINE_LABEL}"
    path, label = default_adapter()
    assert Path(path).name == "e5-products-contrastive" and label.startswith("example:")


def test_no_4bit_backend_falls_back_to_labelled_plain_lora(tiny_encoder: Path, tmp_path: Path,
                                                           monkeypatch) -> None:
    """bitsandbytes that cannot even be imported (None in sys.modules makes import fail)."""
    monkeypatch.delenv("LORA_LENS_NO_4BIT", raising=False)
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)
    model_mod.probe_4bit.cache_clear()
    try:
        cfg = TrainConfig(r=4, lora_alpha=8.0, batch_size=4, max_length=16, max_steps=1,
                          use_4bit=True, seed=0)
        res = train(cfg, TEXTS, str(tiny_encoder), tmp_path / "a")
    finally:
        model_mod.probe_4bit.cache_clear()
    assert res.status == "completed" and res.adapter_saved and not res.quantized
    assert res.mode_label.startswith("plain LoRA (no 4-bit backend: ModuleNotFoundError")
    assert res.mode_label in (tmp_path / "a" / "README.md").read_text()


def test_cancel_through_the_queue_stops_within_one_step(tiny_encoder: Path, tmp_path: Path) -> None:
    """Cancel from 'another click' while the job runs: stops after the current step, says so.

    The click is made from the progress report of step 3 (tiny steps take milliseconds, so
    a click timed from the test thread could land any number of steps later).
    """
    session = "k3j9x0q2m1a"

    def train_clicking_cancel(cfg, texts, base, out, on_progress, stop):
        def report(p) -> None:
            on_progress(p)
            if p.step == 3:
                assert jobs.cancel(session) is True

        return train(cfg, texts, base, out, on_progress=report, stop=stop)

    jobs = TrainingQueue(slots=1, train_fn=train_clicking_cancel)
    cfg = TrainConfig(r=4, lora_alpha=8.0, batch_size=2, max_length=16, epochs=50,
                      use_4bit=False, seed=0)
    job = jobs.submit(session, cfg, TEXTS, str(tiny_encoder), tmp_path / "run")
    assert job.done.wait(120)
    res = job.result
    assert job.error is None and res is not None
    assert res.status == "cancelled" and res.adapter_saved
    assert 3 <= res.steps <= 4  # the step in flight at most
    assert res.steps < res.total_steps
    log = json.loads((tmp_path / "run" / "training_log.json").read_text())
    assert log["status"] == "cancelled"
    assert jobs.active(session) is None


def test_probe_survives_a_hub_that_accepts_but_never_answers(monkeypatch) -> None:
    """A listening socket that never speaks: the HTTP probe times out and says "stalled"."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    try:
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{srv.getsockname()[1]}")
        hub.reset_cache()
        t0 = time.monotonic()
        assert hub.hub_reachable(timeout=2.0) is False
        assert hub.hub_status().state == "stalled"
        assert time.monotonic() - t0 < 3.0
    finally:
        srv.close()
        hub.reset_cache()
