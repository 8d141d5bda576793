"""Training under torchrun / accelerate launch with 2 CPU processes (gloo) on the tiny encoder.

The faults of issue 11: an uneven corpus (33 texts, batch 16) used to hang rank 0 in the
gradient all-reduce; without a process group both ranks trained alone and raced for `--out`;
stops were decided per rank; a killed rank left `.partial` folders. Each launch runs in its
own session with a hard timeout, so a regression fails here instead of hanging CI.
"""
from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from tuning import distributed as dist

pytestmark = pytest.mark.fault
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIMEOUT_S = 240
WORDS = ("смартфон телефон apple iphone кофемашина nespresso наушники xiaomi часы samsung "
         "ноутбук чайник пылесос кроссовки куртка").split()


def _corpus(path: Path, n: int) -> Path:
    lines = [f"{WORDS[i % 15]} {WORDS[(i * 7 + 3) % 15]} {i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(launcher: str, corpus: Path, out: Path, base: Path, *flags: str,
            mark: str = "") -> subprocess.Popen:
    if launcher == "torchrun":
        cmd = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2"]
    else:  # accelerate's torchrun path; on a machine without GPUs tuning picks gloo itself
        cmd = [str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
               "--main_process_port", str(_free_port())]
    cmd += ["-m", "tuning", "train", "--corpus", str(corpus), "--out", str(out), "--base", str(base),
            "--no-use-4bit", "--max-length", "24", "--batch-size", "16", *flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LORA_LENS_DIST_TIMEOUT_S": "120",
           "LORA_LENS_TEST_MARK": mark, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _finish(proc: subprocess.Popen, timeout: float = TIMEOUT_S) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"2-process training did not end within {timeout} s (hang):\n{out[-3000:]}")
    return out


def _partials(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.partial-*"))


def _log(out: Path) -> dict:
    return json.loads((out / "training_log.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_uneven_corpus_trains_as_one_job_and_writes_one_adapter(
        launcher: str, tiny_encoder: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import BertModel

    out = tmp_path / "adapter"
    proc = _launch(launcher, _corpus(tmp_path / "c33.txt", 33), out, tiny_encoder, "--epochs", "2")
    text = _finish(proc)
    assert proc.returncode == 0, text[-3000:]
    per_epoch = math.ceil(33 / (16 * 2))  # padded shards: 17 texts a rank, 2 batches each
    log = _log(out)
    assert (log["status"], log["steps"], log["total_steps"]) == ("completed", 2 * per_epoch, 2 * per_epoch)
    assert (log["world_size"], log["rank_steps"]) == (2, [2 * per_epoch] * 2)
    assert len(log["losses"]) == log["steps"]
    # Rank 0 alone prints (progress, result) and writes; no half-written sibling is left.
    assert text.count('"status": "completed"') == 1 and text.count("corpus: 33 texts") == 1
    assert not _partials(out) and sorted(p.name for p in tmp_path.iterdir()) == ["adapter", "c33.txt"]
    base = BertModel.from_pretrained(tiny_encoder, add_pooling_layer=False)
    lora = [n for n, _ in PeftModel.from_pretrained(base, out).named_parameters() if ".lora_B." in n]
    assert len(lora) == 6 * 2  # every target Linear of both layers carries the loaded LoRA


def test_time_budget_stops_both_ranks_at_the_same_step(tiny_encoder: Path, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    proc = _launch("torchrun", _corpus(tmp_path / "c.txt", 400), out, tiny_encoder,
                   "--batch-size", "2", "--epochs", "200", "--time-budget-s", "4")
    text = _finish(proc)
    assert proc.returncode == 0, text[-3000:]
    log = _log(out)
    assert log["status"] == "time_budget" and 0 < log["steps"] < log["total_steps"]
    assert log["rank_steps"] == [log["steps"]] * 2
    assert not _partials(out)


def _rank_pids(mark: str) -> dict[int, int]:
    """{rank: pid} of the training processes started with LORA_LENS_TEST_MARK=mark."""
    found: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = dict(kv.split("=", 1) for kv in (proc / "environ").read_bytes().decode(
                "utf-8", "replace").split("\0") if "=" in kv)
        except OSError:
            continue
        if env.get("LORA_LENS_TEST_MARK") == mark and "RANK" in env and "TORCHELASTIC_RUN_ID" in env:
            found[int(env["RANK"])] = int(proc.name)
    return found


def _start_long_run(tiny_encoder: Path, tmp_path: Path, out: Path) -> tuple[subprocess.Popen, dict[int, int]]:
    """A long 2-process run that checkpoints every step, so rank 0 holds a partial folder."""
    mark = uuid.uuid4().hex
    proc = _launch("torchrun", _corpus(tmp_path / "c.txt", 400), out, tiny_encoder, "--batch-size", "1",
                   "--epochs", "500", "--checkpoint-every", "1", mark=mark)
    deadline = time.monotonic() + TIMEOUT_S
    while not _partials(out):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"training never wrote a checkpoint:\n{proc.communicate()[0][-3000:]}")
        time.sleep(0.2)
    pids = _rank_pids(mark)
    assert sorted(pids) == [0, 1], pids
    return proc, pids


@pytest.mark.parametrize("victim", [1, 0])
def test_a_killed_rank_leaves_no_partial_folder(victim: int, tiny_encoder: Path, tmp_path: Path) -> None:
    from tuning.config import TrainConfig
    from tuning.train import train

    out = tmp_path / "adapter"
    proc, pids = _start_long_run(tiny_encoder, tmp_path, out)
    os.kill(pids[victim], signal.SIGKILL)
    text = _finish(proc, 120)
    assert proc.returncode != 0, text[-3000:]
    assert not out.exists()
    if victim == 1:  # rank 0 saw its peer vanish (or torchrun's SIGTERM) and cleaned up itself
        assert not _partials(out), text[-3000:]
    else:  # a SIGKILLed writer cannot clean up; its folder names a dead pid, the next run removes it
        assert all(f"-{pids[0]}-" in p.name for p in _partials(out))
        cfg = TrainConfig(r=4, lora_alpha=8.0, batch_size=4, max_length=24, use_4bit=False, max_steps=1)
        train(cfg, ["смартфон apple iphone", "чайник белый для дома"], str(tiny_encoder), out)
        assert not _partials(out) and (out / "adapter_model.safetensors").exists()


# ---------------------------------------------------------------- the helpers, 2 ranks, no model
def _agreement_worker(rank: int, init: str, results: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    acc = SimpleNamespace(num_processes=2, device=torch.device("cpu"))
    stopped_at = None
    for step in range(10):  # rank 1 alone is cancelled at step 3, rank 0 alone is over budget at 5
        local = "cancelled" if rank == 1 and step >= 3 else "time_budget" if rank == 0 and step >= 5 else None
        if (reason := dist.agree_stop(acc, local)) is not None:
            stopped_at = (step, reason)
            break
    failed_at = None
    for step in range(10):  # rank 0 alone raises at step 2
        try:
            with dist.agree_errors(acc):
                if rank == 0 and step == 2:
                    raise ValueError("boom")
        except (ValueError, dist.RankFailed) as exc:
            failed_at = (step, type(exc).__name__)
            break
    loss = dist.mean_loss(acc, torch.tensor(float(rank + 1)))
    steps = dist.gather_steps(acc, 7 + rank)
    Path(results, f"{rank}.json").write_text(json.dumps([stopped_at, failed_at, loss, steps]))
    torch.distributed.destroy_process_group()


def test_stop_and_error_agreement_between_two_ranks(tmp_path: Path) -> None:
    init = f"file://{tmp_path / 'rendezvous'}"
    torch.multiprocessing.spawn(_agreement_worker, args=(init, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"{r}.json").read_text()) for r in (0, 1))
    assert r0[0] == r1[0] == [3, "cancelled"]
    assert (r0[1], r1[1]) == ([2, "ValueError"], [2, "RankFailed"])
    assert r0[2] == r1[2] == 1.5 and r0[3] == r1[3] == [7, 8]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 16, 17, 33, 34, 40])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shards_are_even_and_cover_every_text(n: int, world: int) -> None:
    order = list(range(n))[::-1]
    shards = [dist.shard(order, r, world) for r in range(world)]
    assert len({len(s) for s in shards}) == 1 and len(shards[0]) == math.ceil(n / world)
    assert set().union(*map(set, shards)) == set(order)
    for batch in (1, 4, 16):  # every rank: the same number of steps, ceil(N / (batch * world))
        assert math.ceil(len(shards[0]) / batch) == math.ceil(n / (batch * world))
