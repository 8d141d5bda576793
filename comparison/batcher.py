"""Concurrent embedding requests share forward passes (a micro-batcher).

Why: a classroom hits the app at once — 40 people scoring pairs, a few embedding lists.
Each request alone is a tiny forward (2–4 short titles) and the fixed cost of a forward
dominates; serialised one after another behind a queue of 2, a burst of 400 such requests
takes p95 14 s on 2 cores. Here requests that arrive while the model is busy (or within a
few ms of each other) are gathered, their texts deduplicated and grouped by what the pass
must be — (prefixed text, adapter, pooling, strength) — and each group runs as ONE padded,
length-sorted set of forwards; the rows are split back to their requests. Lone requests pay
only the gather window.

Results equal the unbatched path: every row is still encoded under an attention mask, so
its vector does not depend on its batch neighbours (tests check 1e-6). A request that
fails (an adapter removed meanwhile, a broken input) fails alone: on any error the cycle
is re-run request by request, so the others still get their vectors.

No gradio here: the batcher takes a plain ``run(inputs, key) -> array`` callable
(`DualEncoder._encode_one`), so it works under any front end and in tests.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

PassKey = tuple[str | None, str, float]
"""(adapter or None for the base, pooling, strength) — what one forward pass computes."""

Pass = tuple[Sequence[str], PassKey]
"""Inputs (already prefixed and cleaned) and the pass they need."""

Run = Callable[[list[str], PassKey], np.ndarray]


@dataclass(eq=False)
class _Job:
    """One caller's request: several passes, answered together."""

    passes: list[Pass]
    size: int = 0
    since: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: list[np.ndarray] | None = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.size = sum(len(inputs) for inputs, _ in self.passes)


def run_jobs(run: Run, jobs: Sequence[_Job]) -> None:
    """Answer `jobs` with one grouped, deduplicated run per pass key; errors stay per job.

    Unique inputs per key are handed to `run` once (it sorts by length and pads); every
    job then picks its rows. If anything fails, each job is re-run alone so one bad
    request cannot take the others down with it.
    """
    try:
        wanted: dict[PassKey, dict[str, int]] = {}
        for job in jobs:
            for inputs, key in job.passes:
                index = wanted.setdefault(key, {})
                for text in inputs:
                    index.setdefault(text, len(index))
        vectors = {key: run(list(index), key) for key, index in wanted.items() if index}
        for job in jobs:
            job.result = [_rows(vectors, wanted, inputs, key) for inputs, key in job.passes]
    except Exception:
        if len(jobs) == 1:
            raise
        for job in jobs:
            try:
                run_jobs(run, [job])
            except Exception as exc:  # this job's own failure, reported to its caller
                job.result, job.error = None, exc


def _rows(vectors: dict[PassKey, np.ndarray], wanted: dict[PassKey, dict[str, int]],
          inputs: Sequence[str], key: PassKey) -> np.ndarray:
    if not inputs:
        return np.zeros((0, 0), dtype=np.float32)
    index = wanted[key]
    return vectors[key][[index[text] for text in inputs]].copy()


def _pieces(passes: list[Pass], chunk: int) -> list[list[Pass]]:
    """`passes` cut into consecutive jobs of at most `chunk` texts (a pass may be cut across
    jobs; `_joined` glues its rows back in order). Small requests stay one job."""
    if sum(len(inputs) for inputs, _ in passes) <= chunk:
        return [passes]
    pieces: list[list[Pass]] = [[]]
    room = chunk
    for inputs, key in passes:
        start = 0
        while start < len(inputs):
            if room == 0:
                pieces.append([])
                room = chunk
            take = list(inputs[start:start + room])
            pieces[-1].append((take, key))
            start += len(take)
            room -= len(take)
    return pieces


def _joined(passes: Sequence[Pass], results: list[np.ndarray]) -> list[np.ndarray]:
    """Each pass's rows from the pieces' results, in order (the inverse of `_pieces`, which
    gives an empty pass no piece: here it takes no result either)."""
    out: list[np.ndarray] = []
    it = iter(results)
    for inputs, _ in passes:
        parts, got = [], 0
        while got < len(inputs):
            part = next(it)
            parts.append(part)
            got += len(part)
        out.append(np.concatenate(parts) if len(parts) > 1 else parts[0] if parts
                   else np.zeros((0, 0), dtype=np.float32))
    return out


class MicroBatcher:
    """One worker thread that runs everyone's passes; callers block until theirs are done.

    `window_s`: how long the worker waits after a request arrives for others that come
    with it (a burst's requests land within a few ms). `max_inputs`: the most texts one
    cycle takes. `chunk`: a request with more texts is split into jobs of at most this many.
    Cycles take the smallest requests first, so 40 people scoring pairs are not held behind
    one 200-title list; a request that has waited `max_wait_s` goes first, so a list is never
    starved by a stream of pairs.
    """

    def __init__(self, run: Run, window_s: float = 0.004, max_inputs: int = 256,
                 max_wait_s: float = 3.0, name: str = "embed-batcher", chunk: int = 64) -> None:
        self._run = run
        self.chunk = chunk
        self.window_s = window_s
        self.max_inputs = max_inputs
        self.max_wait_s = max_wait_s
        self._name = name
        self._cond = threading.Condition()
        self._pending: list[_Job] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self.cycles = 0  # how many grouped runs so far (tests and benchmarks read it)

    def submit(self, passes: list[Pass]) -> list[np.ndarray]:
        """Vectors for each pass, in order; raises what computing this request raised.

        A request bigger than `chunk` texts travels as several jobs of at most `chunk`: a
        cycle cannot be interrupted, so one 200-title list taken whole would hold every pair
        that arrives meanwhile for seconds; in pieces, pairs slip in between them.
        """
        jobs = [_Job(piece) for piece in _pieces(list(passes), self.chunk)]
        with self._cond:
            if self._closed:
                raise RuntimeError("the embedding batcher was closed")
            self._pending.extend(jobs)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        for job in jobs:
            job.done.wait()
        for job in jobs:
            if job.error is not None:
                raise job.error
        if len(jobs) == 1:  # not cut: its result is already one array per pass
            assert jobs[0].result is not None  # noqa: S101 — set by the worker before `done`
            return jobs[0].result
        return _joined(passes, [r for job in jobs for r in (job.result or [])])

    def close(self) -> None:
        """Stop the worker after the requests already queued are answered."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _take(self) -> list[_Job] | None:
        """The next cycle's jobs (waiting out the gather window), or None once closed and idle."""
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if not self._pending:
                return None
            deadline = time.monotonic() + self.window_s
            while (not self._closed and sum(j.size for j in self._pending) < self.max_inputs
                   and (left := deadline - time.monotonic()) > 0):
                self._cond.wait(left)
            # Smallest first (a pair waits for one short cycle, not behind a 200-title list),
            # except that a request waiting longer than `max_wait_s` goes before all others.
            now = time.monotonic()
            order = sorted(self._pending, key=lambda j: (now - j.since < self.max_wait_s, j.size, j.since))
            taken, total = [], 0
            for job in order:
                if taken and total + job.size > self.max_inputs:
                    break
                taken.append(job)
                total += job.size
            self._pending = [j for j in self._pending if j not in taken]
            return taken

    def _loop(self) -> None:
        while (jobs := self._take()) is not None:
            try:
                run_jobs(self._run, jobs)
            except BaseException as exc:  # never leave a caller waiting forever
                for job in jobs:
                    if job.result is None and job.error is None:
                        job.error = exc
            finally:
                self.cycles += 1
                for job in jobs:
                    if job.result is None and job.error is None:
                        job.error = RuntimeError("the request was not computed")
                    job.done.set()
