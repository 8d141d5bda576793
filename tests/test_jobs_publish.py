"""The training queue and the adapter hand-over (zip / Hub push), without any model.

Why fakes here: the queue's promises (one run at a time, a second click of the same user
refused, a place in line, cancel before start, errors reported instead of lost) are about
threads and ordering, not about TSDAE; a fake `train_fn` that waits on events makes every
interleaving deterministic and each test take milliseconds.
"""
from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tuning import publish
from tuning.config import TrainConfig
from tuning.jobs import BusyError, Job, TrainingQueue
from tuning.publish import ADAPTER_FILES, PublishError, push_to_hub, zip_adapter
from tuning.train import TrainProgress, TrainResult

WAIT = 5.0  # seconds; generous, every wait normally ends in milliseconds


class FakeTrain:
    """A train_fn that reports one progress step, then blocks until released or stopped."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: dict[str, threading.Event] = {}
        self.calls: list[str] = []
        self.running = 0
        self.max_running = 0
        self.fail: dict[str, Exception] = {}
        self._lock = threading.Lock()

    def started_event(self, name: str) -> threading.Event:
        with self._lock:
            return self.started.setdefault(name, threading.Event())

    def __call__(self, cfg: TrainConfig, texts: list[str], base_path: str, out_dir: Path,
                 on_progress=None, stop: threading.Event | None = None) -> TrainResult:
        name = Path(out_dir).name
        with self._lock:
            self.calls.append(name)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            self.started_event(name).set()
            if name in self.fail:
                raise self.fail[name]
            on_progress(TrainProgress(1, 10, 0.1, 2.5, 0.1, 0.9, "step 1"))
            while not self.release.wait(0.01):
                if stop is not None and stop.is_set():
                    return TrainResult("cancelled", True, out_dir, 1, 10, [2.5])
            return TrainResult("completed", True, out_dir, 10, 10, [2.5, 2.0])
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture()
def fake() -> FakeTrain:
    return FakeTrain()


@pytest.fixture()
def jobs(fake: FakeTrain) -> TrainingQueue:
    return TrainingQueue(slots=1, train_fn=fake)


def _submit(jobs: TrainingQueue, session: str, tmp_path: Path, name: str | None = None) -> Job:
    return jobs.submit(session, TrainConfig(), ["a text", "another text"], "base",
                       tmp_path / (name or session))


def _finish(*job_list: Job) -> None:
    for job in job_list:
        assert job.done.wait(WAIT), f"job of {job.session} did not finish"


def test_one_training_at_a_time_in_submission_order(jobs, fake, tmp_path) -> None:
    a = _submit(jobs, "alice", tmp_path)
    assert fake.started_event("alice").wait(WAIT)
    b = _submit(jobs, "bob", tmp_path)
    c = _submit(jobs, "carol", tmp_path)
    assert a.state == "running" and b.state == "queued" and c.state == "queued"
    assert (jobs.ahead_of(a), jobs.ahead_of(b), jobs.ahead_of(c)) == (0, 1, 2)
    assert not fake.started_event("bob").wait(0.2)  # still waiting for the slot

    fake.release.set()
    _finish(a, b, c)
    assert fake.max_running == 1
    assert [j.result.status for j in (a, b, c)] == ["completed"] * 3
    assert fake.calls[0] == "alice" and sorted(fake.calls) == ["alice", "bob", "carol"]
    assert all(j.error is None and j.state == "done" for j in (a, b, c))
    assert jobs.ahead_of(c) == 0 and jobs.active("bob") is None


def test_second_job_of_a_session_is_refused_until_the_first_ends(jobs, fake, tmp_path) -> None:
    first = _submit(jobs, "alice", tmp_path, "one")
    with pytest.raises(BusyError, match="already running"):
        _submit(jobs, "alice", tmp_path, "two")
    assert jobs.active("alice") is first
    other = _submit(jobs, "bob", tmp_path)  # another session is not blocked, only queued
    assert other.state in ("queued", "running")

    fake.release.set()
    _finish(first, other)
    again = _submit(jobs, "alice", tmp_path, "three")
    _finish(again)
    assert again.result.status == "completed"
    assert fake.calls.count("two") == 0


def test_progress_reports_reach_the_job(jobs, fake, tmp_path) -> None:
    job = _submit(jobs, "alice", tmp_path)
    assert fake.started_event("alice").wait(WAIT)
    fake.release.set()
    _finish(job)
    reports = job.drain()
    assert [(p.step, p.loss) for p in reports] == [(1, 2.5)]
    assert job.drain() == []  # drained once, gone


def test_cancel_while_queued_never_starts(jobs, fake, tmp_path) -> None:
    a = _submit(jobs, "alice", tmp_path)
    assert fake.started_event("alice").wait(WAIT)
    b = _submit(jobs, "bob", tmp_path)
    assert jobs.cancel("bob") is True
    fake.release.set()
    _finish(a, b)
    assert "bob" not in fake.calls
    assert b.result.status == "cancelled" and not b.result.adapter_saved and b.result.steps == 0
    assert a.result.status == "completed"


def test_cancel_while_running_stops_the_job(jobs, fake, tmp_path) -> None:
    job = _submit(jobs, "alice", tmp_path)
    assert fake.started_event("alice").wait(WAIT)
    assert jobs.cancel("alice") is True
    _finish(job)
    assert job.result.status == "cancelled"
    assert jobs.cancel("alice") is False  # nothing left to cancel
    assert jobs.cancel("nobody") is False


def test_exception_becomes_job_error_and_frees_the_slot(jobs, fake, tmp_path) -> None:
    fake.fail["alice"] = RuntimeError("out of memory")
    bad = _submit(jobs, "alice", tmp_path)
    _finish(bad)
    assert bad.error == "RuntimeError: out of memory"
    assert bad.result is None and bad.state == "done"

    fake.release.set()
    good = _submit(jobs, "alice", tmp_path, "retry")  # the session may try again at once
    _finish(good)
    assert good.error is None and good.result.status == "completed"


# ---------------------------------------------------------------- publish
def _adapter(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 4}')
    save_file({"base_model.model.layer.lora_A.weight": torch.ones(4, 8)},
              str(folder / "adapter_model.safetensors"))
    (folder / "README.md").write_text("# card")
    (folder / "training_log.json").write_text('{"steps": 3}')
    return folder


def test_zip_is_flat_and_holds_only_the_adapter_files(tmp_path) -> None:
    folder = _adapter(tmp_path / "adapter")
    (folder / "notes.txt").write_text("private")
    (folder / "checkpoint-2").mkdir()
    (folder / "checkpoint-2" / "adapter_model.safetensors").write_bytes(b"x")
    (folder / "secret.json").symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text('{"token": "hf_x"}')

    dest = zip_adapter(folder, tmp_path / "out" / "adapter.zip")
    assert dest == tmp_path / "out" / "adapter.zip"
    with zipfile.ZipFile(dest) as zf:
        assert sorted(zf.namelist()) == sorted(ADAPTER_FILES)
        for name in ADAPTER_FILES:
            assert zf.read(name) == (folder / name).read_bytes()
    assert not list((tmp_path / "out").glob("*.partial"))


def test_zip_of_an_adapter_without_card_and_log(tmp_path) -> None:
    folder = _adapter(tmp_path / "adapter")
    (folder / "README.md").unlink()
    (folder / "training_log.json").unlink()
    with zipfile.ZipFile(zip_adapter(folder, tmp_path / "a.zip")) as zf:
        assert sorted(zf.namelist()) == ["adapter_config.json", "adapter_model.safetensors"]


def test_zip_without_weights_is_a_publish_error(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(PublishError, match="No trained adapter"):
        zip_adapter(tmp_path / "empty", tmp_path / "a.zip")
    assert not (tmp_path / "a.zip").exists()


class _NoHub:
    """Stands in for huggingface_hub.HfApi where the Hub must not even be contacted."""

    def __init__(self, *args, **kwargs) -> None:
        raise AssertionError("the Hub client must not be created")


@pytest.mark.parametrize("repo", ["", "   ", "no-slash", "a/b/c", "../x", "user/na me",
                                  "user/", "/name", "user/-bad"])
def test_push_rejects_bad_repo_ids(tmp_path, monkeypatch, repo: str) -> None:
    monkeypatch.setattr("huggingface_hub.HfApi", _NoHub)
    with pytest.raises(PublishError, match="user/name"):
        push_to_hub(_adapter(tmp_path / "ad"), repo, "hf_token")


@pytest.mark.parametrize("token", ["", "   ", None])
def test_push_needs_a_token(tmp_path, monkeypatch, token) -> None:
    monkeypatch.setattr("huggingface_hub.HfApi", _NoHub)
    with pytest.raises(PublishError, match="token"):
        push_to_hub(_adapter(tmp_path / "ad"), "user/my-adapter", token)


def test_push_without_adapter(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("huggingface_hub.HfApi", _NoHub)
    (tmp_path / "none").mkdir()
    with pytest.raises(PublishError, match="No trained adapter"):
        push_to_hub(tmp_path / "none", "user/my-adapter", "hf_token")


def test_push_offline_says_the_hub_is_unreachable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.HfApi", _NoHub)
    with pytest.raises(PublishError, match="not reachable.*download the zip"):
        push_to_hub(_adapter(tmp_path / "ad"), "user/my-adapter", "hf_token")


def test_push_turns_hub_client_errors_into_publish_error(tmp_path, monkeypatch) -> None:
    class FailingApi:
        def __init__(self, token: str) -> None:
            self.token = token

        def create_repo(self, *args, **kwargs):
            raise RuntimeError("401 Unauthorized: invalid token")

    monkeypatch.setattr(publish, "hub_reachable", lambda: True)
    monkeypatch.setattr("huggingface_hub.HfApi", FailingApi)
    with pytest.raises(PublishError, match="Hub push failed: 401 Unauthorized"):
        push_to_hub(_adapter(tmp_path / "ad"), "user/my-adapter", "hf_bad")


def test_push_uploads_only_the_adapter_files(tmp_path, monkeypatch) -> None:
    seen: dict[str, object] = {}

    class RecordingApi:
        def __init__(self, token: str) -> None:
            seen["token"] = token

        def create_repo(self, repo_id: str, private: bool, exist_ok: bool) -> str:
            seen.update(repo_id=repo_id, private=private, exist_ok=exist_ok)
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, folder_path: str, repo_id: str, allow_patterns: list[str],
                          commit_message: str) -> None:
            seen.update(folder=folder_path, patterns=allow_patterns)

    monkeypatch.setattr(publish, "hub_reachable", lambda: True)
    monkeypatch.setattr("huggingface_hub.HfApi", RecordingApi)
    folder = _adapter(tmp_path / "ad")
    url = push_to_hub(folder, " user/my-adapter ", " hf_good ", private=True)
    assert url == "https://huggingface.co/user/my-adapter"
    assert seen == {"token": "hf_good", "repo_id": "user/my-adapter", "private": True,
                    "exist_ok": True, "folder": str(folder), "patterns": list(ADAPTER_FILES)}
