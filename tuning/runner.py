"""One training run as the UI sees it: submit, then a stream of typed progress reports.

Why: the bookkeeping between the queue and a progress bar (which reports are new, the loss
curve so far, the place in line, the final result) is the same for any front end; the UI
only renders each `TrainingReport` (LLaMA-Factory's webui has the same split: one runner
the UI drives).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tuning.config import TrainConfig
from tuning.data import load_corpus
from tuning.jobs import Job, TrainingQueue
from tuning.train import TrainProgress, TrainResult


@dataclass
class TrainingReport:
    """The state of a run at one moment; `result` is set on the last report only."""

    ahead: int
    n_texts: int
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    last: TrainProgress | None = None
    result: TrainResult | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None


def start(queue: TrainingQueue, session: str, corpus_file: Path, text_column: str | None,
          cfg: TrainConfig, base_path: str, out_dir: Path, encoding: str | None = None) -> Job:
    """Load and check the corpus (in `encoding`, else detected), then queue the job (errors raise here)."""
    corpus = load_corpus(Path(corpus_file), text_column or None, encoding=encoding or None)
    return queue.submit(session, cfg, corpus.texts, base_path, out_dir)


def follow(queue: TrainingQueue, job: Job, poll_s: float = 0.7) -> Iterator[TrainingReport]:
    """Reports every `poll_s` while the job runs, then one final report."""
    report = TrainingReport(ahead=queue.ahead_of(job), n_texts=job.n_texts)
    while not job.done.wait(poll_s):
        for p in job.drain():  # the last step is reported twice (step, then "saved"): keep one
            if p.loss is not None and (not report.steps or p.step > report.steps[-1]):
                report.steps.append(p.step)
                report.losses.append(p.loss)
            report.last = p
        report.ahead = queue.ahead_of(job)
        yield report
    report.ahead = 0
    if job.error or job.result is None:
        report.error = job.error or "no result"
    else:
        report.result = job.result
        report.steps = list(range(1, len(job.result.losses) + 1))
        report.losses = list(job.result.losses)
    yield report


def run(queue: TrainingQueue, session: str, corpus_file: Path, text_column: str | None,
        cfg: TrainConfig, base_path: str, out_dir: Path,
        poll_s: float = 0.7, encoding: str | None = None) -> Iterator[TrainingReport]:
    """`start` then `follow`: the whole run as one stream (bad input raises on the first step)."""
    job = start(queue, session, corpus_file, text_column, cfg, base_path, out_dir, encoding)
    yield from follow(queue, job, poll_s)
