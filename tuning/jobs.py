"""One training at a time per app, many sessions waiting politely.

Why: a free Space has two cores; two concurrent TSDAE runs would each take twice as long
and double the memory. Jobs therefore run in background threads behind one semaphore;
a waiting job knows its place in line (so the UI can say "2 trainings ahead of you"), a
session can run only one job at a time (a second click is told, not silently queued),
and cancel is an event the training loop checks every step. Nothing here knows about
the UI: the app polls :meth:`Job.drain` and renders what it gets.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tuning.config import TrainConfig
from tuning.train import TrainProgress, TrainResult, train

TrainFn = Callable[..., TrainResult]


class BusyError(RuntimeError):
    """The session already has a training running."""


@dataclass
class Job:
    """A submitted training; its fields are written by the worker thread only."""

    session: str
    out_dir: Path
    n_texts: int
    stop: threading.Event = field(default_factory=threading.Event)
    events: "queue.Queue[TrainProgress]" = field(default_factory=queue.Queue)
    state: str = "queued"  # queued → running → done
    result: TrainResult | None = None
    error: str | None = None
    submitted: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)

    def drain(self) -> list[TrainProgress]:
        """Every progress report since the last call (non-blocking)."""
        out: list[TrainProgress] = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out


class TrainingQueue:
    """Runs at most `slots` trainings at once; the rest wait in submission order."""

    def __init__(self, slots: int = 1, train_fn: TrainFn = train) -> None:
        self._slots = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self._jobs: list[Job] = []
        self._train = train_fn

    def submit(self, session: str, cfg: TrainConfig, texts: list[str], base_path: str,
               out_dir: Path) -> Job:
        """Start (or queue) a training for `session`; BusyError if it already has one."""
        with self._lock:
            if any(j.session == session and j.state != "done" for j in self._jobs):
                raise BusyError("A training of yours is already running; cancel it or wait.")
            job = Job(session=session, out_dir=out_dir, n_texts=len(texts))
            self._jobs.append(job)
        threading.Thread(target=self._run, args=(job, cfg, texts, base_path), daemon=True,
                         name=f"train-{session[:8]}").start()
        return job

    def ahead_of(self, job: Job) -> int:
        """How many jobs will start before `job` (0 once it runs)."""
        with self._lock:
            if job.state != "queued":
                return 0
            return sum(1 for j in self._jobs if j.state != "done" and j.submitted < job.submitted)

    def active(self, session: str) -> Job | None:
        """The session's unfinished job, if any."""
        with self._lock:
            return next((j for j in self._jobs if j.session == session and j.state != "done"), None)

    def cancel(self, session: str) -> bool:
        """Ask the session's job to stop after its current step; True if there was one."""
        job = self.active(session)
        if job is None:
            return False
        job.stop.set()
        return True

    def _run(self, job: Job, cfg: TrainConfig, texts: list[str], base_path: str) -> None:
        try:
            with self._slots:
                if job.stop.is_set():  # cancelled while waiting: never started
                    job.result = TrainResult("cancelled", False, None, 0, 0,
                                             message="cancelled before it started")
                    return
                job.state = "running"
                job.result = self._train(cfg, texts, base_path, job.out_dir,
                                         on_progress=job.events.put, stop=job.stop)
        except Exception as exc:  # the UI must learn what went wrong, the app must live on
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                job.state = "done"
                self._jobs = [j for j in self._jobs if j.state != "done" or j is job]
            job.done.set()
