"""What keeps N training processes one job: process group, even shards, agreed stops, cleanup.

Why a module of its own: DDP only works when every rank runs the same collectives in the same
order. A rank with one batch more than the others waits forever in the gradient all-reduce
(33 texts, batch 16, 2 ranks: shards of 17 and 16 -> 2 vs 1 batches), and a stop decided
from a local clock or a local Event splits the ranks the same way. The helpers here make
every such decision identical on all ranks; with one process they cost nothing and do
nothing, so the in-app (threaded) path is unchanged.

- `make_accelerator`: under torchrun / `accelerate launch` on a machine without GPUs,
  `Accelerator()` does not join a process group unless told the run is CPU (GUIDE §2), so
  two "ranks" would train the whole corpus independently. We pass `cpu=True` there (gloo);
  with CUDA, accelerate picks NCCL. A launch that still ends up with fewer processes than
  WORLD_SIZE is refused instead of racing for `out_dir`.
- `shard`: even shards by padding (like `DistributedSampler(drop_last=False)`): the
  shuffled order wraps around to a multiple of the world size, so each rank gets
  ceil(N / world) texts and ceil(N / (batch * world)) batches; up to world - 1 texts are
  seen twice per epoch. Nothing is dropped.
- `agree_stop` / `agree_errors`: one all-reduced flag per step (cancel, time budget) and
  one after the forward (an exception on any rank), so all ranks stop at the same step.
- `exit_on_sigterm` + `partial_dir` / `sweep_stale_partials`: a launcher kills the other
  ranks with SIGTERM when one dies; turning it into SystemExit runs the `finally` that
  removes the half-written folder. A SIGKILLed writer cannot clean up after itself, so its
  folder carries its pid and the next run into the same `out_dir` removes it.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import torch
from accelerate import Accelerator
from accelerate.utils import InitProcessGroupKwargs

_SIGTERM_GRACE_S = 3.0
STOP_CODES = {None: 0, "time_budget": 1, "cancelled": 2}  # the highest code of any rank wins
_STOP_NAMES = {v: k for k, v in STOP_CODES.items()}


class RankFailed(RuntimeError):
    """Another process of the job raised at this step (its traceback is in its own log)."""


def launched_world_size() -> int:
    """WORLD_SIZE as set by torchrun / accelerate launch (1 when started plainly)."""
    value = os.environ.get("WORLD_SIZE", "1").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


def is_main_launch() -> bool:
    """True on rank 0 (or when not launched): the one process that prints and writes."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


def _timeout_s() -> float:
    value = os.environ.get("LORA_LENS_DIST_TIMEOUT_S", "").strip()
    return float(value) if value.replace(".", "", 1).isdigit() and float(value) > 0 else 600.0


def make_accelerator() -> Accelerator:
    """One Accelerator for the run: a plain one alone, a joined process group when launched."""
    world = launched_world_size()
    if world <= 1:
        return Accelerator()
    on_cpu = not torch.cuda.is_available()
    accelerator = Accelerator(cpu=on_cpu, kwargs_handlers=[
        InitProcessGroupKwargs(timeout=timedelta(seconds=_timeout_s()))])
    if accelerator.num_processes != world:
        raise RuntimeError(f"launched as {world} processes but accelerate joined "
                           f"{accelerator.num_processes}; set ACCELERATE_USE_CPU=1 on CPU machines")
    return accelerator


def shard(order: list[int], rank: int, world: int) -> list[int]:
    """This rank's part of `order`, padded by wrap-around so every rank gets the same count."""
    if world <= 1 or not order:
        return list(order)
    per_rank = math.ceil(len(order) / world)
    padded = (order * math.ceil(per_rank * world / len(order)))[:per_rank * world]
    return padded[rank::world]


def _all_reduce_max(accelerator: Accelerator, value: int) -> int:
    flag = torch.tensor([value], dtype=torch.int64, device=accelerator.device)
    torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
    return int(flag.item())


def agree_stop(accelerator: Accelerator, local: str | None) -> str | None:
    """The stop reason of the job at this step: cancel on any rank beats a time budget."""
    if accelerator.num_processes == 1:
        return local
    return _STOP_NAMES[_all_reduce_max(accelerator, STOP_CODES[local])]


@contextmanager
def agree_errors(accelerator: Accelerator) -> Iterator[None]:
    """Wrap a step's local work: an exception on one rank is raised on every rank, here."""
    if accelerator.num_processes == 1:
        yield
        return
    try:
        yield
    except Exception:
        _all_reduce_max(accelerator, 1)
        raise
    if _all_reduce_max(accelerator, 0):
        raise RankFailed("another training process failed at this step; see its log")


def mean_loss(accelerator: Accelerator, loss: torch.Tensor) -> float:
    """The step's loss averaged over ranks (each rank saw a different batch)."""
    value = loss.detach().float().reshape(1)
    if accelerator.num_processes > 1:
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.SUM)
        value /= accelerator.num_processes
    return float(value.item())


def gather_steps(accelerator: Accelerator, step: int) -> list[int]:
    """Steps run by each rank (the training log's proof that they stayed together)."""
    if accelerator.num_processes == 1:
        return [step]
    mine = torch.tensor([step], dtype=torch.int64, device=accelerator.device)
    every = [torch.zeros_like(mine) for _ in range(accelerator.num_processes)]
    torch.distributed.all_gather(every, mine)
    return [int(t.item()) for t in every]


@contextmanager
def exit_on_sigterm(enabled: bool, out_dir: Path) -> Iterator[None]:
    """Turn the first SIGTERM into SystemExit so `finally` blocks clean up (main thread only).

    A rank blocked inside a collective (its peer died) never returns to Python, so the
    exception cannot fire; a watcher thread, woken through the signal wakeup fd, then removes
    this process's partial folders itself after a grace period and exits, before the
    launcher's SIGKILL would leave them behind.
    """
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:  # a second SIGTERM must not interrupt the cleanup of the first
            fired = True
            raise SystemExit(128 + signum)

    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def watch() -> None:
        while (got := os.read(read_fd, 1)) and got[0] != signal.SIGTERM:
            pass
        if got:
            time.sleep(_SIGTERM_GRACE_S)
            for path in _own_partials(out_dir):
                shutil.rmtree(path, ignore_errors=True)
            os._exit(128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, handler)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    threading.Thread(target=watch, name="sigterm-cleanup", daemon=True).start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGTERM, previous)
        os.close(write_fd)  # ends the watcher


def _own_partials(out_dir: Path) -> list[Path]:
    return list(out_dir.parent.glob(f".{out_dir.name}.partial-{os.getpid()}-*"))


def partial_dir(out_dir: Path) -> Path:
    """A hidden sibling of `out_dir` named after this process, created only when written."""
    return out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_partials(out_dir: Path) -> list[Path]:
    """Remove half-written siblings of `out_dir` whose writing process no longer exists."""
    pattern = re.compile(rf"\.{re.escape(out_dir.name)}\.partial-(\d+)-[0-9a-f]{{8}}")
    removed = []
    if out_dir.parent.is_dir():
        for path in out_dir.parent.iterdir():
            match = pattern.fullmatch(path.name)
            if match and path.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed
