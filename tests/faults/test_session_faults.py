"""Many users on one shared model: sessions never see, use or delete each other's things.

Why: the app keeps ONE encoder for everybody and attaches every uploaded or trained
adapter to it, named "<session>/<label>", and keeps files in a folder named after the
session. The session id comes from the client, so a hand-made id ("..", "a/b") must
never turn into a path outside the sessions folder or into another session's prefix.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from comparison.runtime import DEFAULT_ADAPTER, EncoderService, SessionError, session_dir
from tests.lora_helpers import make_adapter
from tuning.config import TrainConfig
from tuning.jobs import TrainingQueue
from tuning.train import TrainResult

pytestmark = pytest.mark.fault

ALICE = "k3j9x0q2m1a"  # the shape of a browser session hash
BOB = "0f8c7a52-5d1e-4c59-9d0e-3b2f7a1c9e44"  # the shape of a gradio_client one


@pytest.fixture(scope="module")
def adapter(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_adapter(tiny_encoder, tmp_path_factory.mktemp("ad") / "adapter")


@pytest.fixture()
def service(tiny_encoder: Path, monkeypatch: pytest.MonkeyPatch) -> EncoderService:
    monkeypatch.setenv("LORA_LENS_ADAPTER", "none")
    return EncoderService(str(tiny_encoder))


def test_sessions_see_only_their_own_adapters(service: EncoderService, adapter: Path) -> None:
    a_name, _ = service.add_session_adapter(ALICE, "mine", adapter)
    b_name, _ = service.add_session_adapter(BOB, "mine", adapter)
    assert a_name != b_name
    assert [n for _, n in service.adapter_choices(ALICE)] == [a_name]
    assert [n for _, n in service.adapter_choices(BOB)] == [b_name]
    assert service.can_use(ALICE, a_name) and not service.can_use(ALICE, b_name)
    assert service.can_use(BOB, DEFAULT_ADAPTER) and not service.can_use(BOB, a_name)


def test_ending_one_session_keeps_the_other(service: EncoderService, adapter: Path) -> None:
    a_name, _ = service.add_session_adapter(ALICE, "x", adapter)
    b_name, _ = service.add_session_adapter(BOB, "x", adapter)
    service.drop_session(ALICE)
    assert set(service.get().adapters) == {b_name}
    assert service.get().embed_both(["смартфон"], "query: ", b_name)[1].shape == (1, 32)


def test_a_session_id_that_is_a_prefix_of_another_gets_nothing(service: EncoderService,
                                                               adapter: Path) -> None:
    a_name, _ = service.add_session_adapter(ALICE, "x", adapter)
    prefix = ALICE[:5]
    assert service.adapter_choices(prefix) == []
    assert not service.can_use(prefix, a_name)
    service.drop_session(prefix)
    assert a_name in service.get().adapters


@pytest.mark.parametrize("bad", ["..", ".", "", "a/b", f"{ALICE}/x", "../../etc", "a\\b", "x" * 65,
                                 "a b", "a\x00b"])
def test_hand_made_session_ids_are_refused(service: EncoderService, adapter: Path,
                                           tmp_path: Path, bad: str) -> None:
    with pytest.raises(SessionError, match="not valid"):
        session_dir(tmp_path / "sessions", bad)
    with pytest.raises(SessionError):
        service.add_session_adapter(bad, "x", adapter)
    assert not (tmp_path / "sessions").exists() or list((tmp_path / "sessions").iterdir()) == []


def test_forged_slash_session_cannot_plant_an_adapter_in_anothers_list(
        service: EncoderService, adapter: Path) -> None:
    with pytest.raises(SessionError):
        service.add_session_adapter(f"{ALICE}/evil", "x", adapter)  # would be "ALICE/evil/x"
    service.get()
    assert service.adapter_choices(ALICE) == []


def test_session_folders_are_distinct_and_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    a, b = session_dir(root, ALICE), session_dir(root, BOB)
    assert a != b and a.parent == root and b.parent == root and a.is_dir() and b.is_dir()
    assert session_dir(root, ALICE) == a  # idempotent


def test_another_session_cannot_cancel_my_training(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_train(cfg, texts, base, out_dir, on_progress=None, stop=None) -> TrainResult:
        started.set()
        while not release.is_set():
            if stop is not None and stop.wait(0.01):
                return TrainResult("cancelled", False, None, 0, 0)
        return TrainResult("completed", False, None, 1, 1)

    jobs = TrainingQueue(slots=1, train_fn=slow_train)
    job = jobs.submit(ALICE, TrainConfig(), ["a b c"], "base", tmp_path / "a")
    assert started.wait(5)
    assert jobs.cancel(BOB) is False and jobs.cancel(ALICE[:5]) is False
    assert not job.stop.is_set()
    release.set()
    assert job.done.wait(5) and job.result.status == "completed"
