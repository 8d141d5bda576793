"""Shared forward passes (comparison/batcher.py): same vectors as one request per pass,
fewer passes, a bad request fails alone, many threads at once stay correct."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from comparison import similarity
from comparison.adapters import AdapterError
from comparison.base_encoder import BaseSource
from comparison.batcher import MicroBatcher, _Job, run_jobs
from comparison.embeddings import DualEncoder
from comparison.runtime import EncoderService
from tests.lora_helpers import make_adapter

TITLES = ["Смартфон Apple iPhone 15 128 ГБ", "Телефон Apple iPhone 15", "Кофемашина Nespresso",
          "наушники xiaomi", "Умные часы Samsung Galaxy Watch 6", "Смартфон Apple iPhone 15 128 ГБ",
          "Пылесос Dyson V15 Detect — беспроводной, с лазерной подсветкой пыли", "x"]
# (prefix, adapter, scale): base, two adapters (one recording cls pooling + its own prefix),
# strengths 0 (= base), 0.5, 1, 2 and every prefix the app offers.
MIXES = [("query: ", None, 1.0), ("passage: ", "x", 1.0), ("", "x", 0.5), ("query: ", "x", 0.0),
         ("query: ", "cls", 1.0), ("query: ", "cls", 2.0), ("passage: ", "y", 1.5), ("", None, 1.0)]


@pytest.fixture(scope="module")
def encoder(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> DualEncoder:
    """A tiny encoder with three adapters; its batcher is attached by the tests that want it."""
    root = tmp_path_factory.mktemp("batcher_adapters")
    cls = root / "cls"
    shutil.copytree(make_adapter(tiny_encoder, root / "rand", seed=1), cls)
    (cls / "training_log.json").write_text(json.dumps({"config": {"prefix": "passage: ", "pooling": "cls"}}),
                                           encoding="utf-8")
    enc = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    enc.add_adapter("x", str(root / "rand"), "x")
    enc.add_adapter("y", str(make_adapter(tiny_encoder, root / "rand2", seed=2, r=2,
                                          targets=("query", "key", "dense"))), "y")
    enc.add_adapter("cls", str(cls), "cls")
    return enc


def _expected(enc: DualEncoder) -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """Every mix computed on the direct path (no batcher), one call at a time."""
    saved, enc.batcher = enc.batcher, None
    try:
        return {mix: enc.embed_both(TITLES, *mix) for mix in MIXES}
    finally:
        enc.batcher = saved


def _hammer(enc: DualEncoder, want: dict, rounds: int = 3) -> list[str]:
    """All mixes from 2 threads each, started together; returns mismatches and errors."""
    problems: list[str] = []
    barrier = threading.Barrier(2 * len(MIXES))

    def work(mix: tuple) -> None:
        barrier.wait()
        for _ in range(rounds):
            try:
                base, tuned = enc.embed_both(TITLES, *mix)
                for got, ref in ((base, want[mix][0]), (tuned, want[mix][1])):
                    if got.shape != ref.shape or np.abs(got - ref).max() > 1e-6:
                        problems.append(f"{mix}: differs by {np.abs(got - ref).max():.2e}")
            except Exception as exc:  # reported, so the assertion names it
                problems.append(f"{mix}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(mix,)) for mix in MIXES * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return problems


def test_concurrent_mixed_requests_equal_the_direct_path_and_share_passes(encoder):
    want = _expected(encoder)
    batcher = MicroBatcher(encoder._encode_one, window_s=0.05)
    encoder.batcher = batcher
    try:
        assert _hammer(encoder, want) == []
        # 16 threads × 3 rounds = 48 requests; gathered, they need far fewer grouped runs.
        assert 0 < batcher.cycles < 48 / 2
        # Vectors are unit length and the strength-0 row is the base exactly.
        base, tuned = encoder.embed_both(TITLES, "query: ", "x", 0.0)
        np.testing.assert_array_equal(base, tuned)
    finally:
        encoder.batcher = None
        batcher.close()


def test_pairs_and_lists_through_the_batcher_equal_the_direct_path(encoder):
    pairs = list(zip(TITLES[::2], TITLES[1::2]))
    direct = similarity.score_pairs(encoder, pairs, "query: ", "x", 0.7)
    direct_list = similarity.similarity_matrices(encoder, TITLES, "query: ", "cls", scale=1.0)
    encoder.share_passes()
    try:
        batched = similarity.score_pairs(encoder, pairs, "query: ", "x", 0.7)
        batched_list = similarity.similarity_matrices(encoder, TITLES, "query: ", "cls", scale=1.0)
    finally:
        encoder.batcher.close()
        encoder.batcher = None
    np.testing.assert_allclose(batched[["base", "tuned", "delta"]].to_numpy(),
                               direct[["base", "tuned", "delta"]].to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(batched_list.tuned, direct_list.tuned, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batched_list.base, direct_list.base, rtol=0, atol=1e-6)


def test_a_bad_request_fails_alone(encoder):
    """An adapter that vanished between check and pass fails its own request only."""
    want = encoder._encode_one(["query: " + t for t in TITLES], ("x", "mean", 1.0))
    batcher = MicroBatcher(encoder._encode_one, window_s=0.2)
    results: dict[str, object] = {}
    barrier = threading.Barrier(4)

    def work(tag: str, key: tuple) -> None:
        barrier.wait()
        try:
            results[tag] = batcher.submit([(["query: " + t for t in TITLES], key)])[0]
        except Exception as exc:  # the bad one must land here
            results[tag] = exc

    keys = {"good1": ("x", "mean", 1.0), "bad": ("gone", "mean", 1.0), "good2": ("x", "mean", 1.0),
            "good3": ("x", "mean", 1.0)}
    threads = [threading.Thread(target=work, args=item) for item in keys.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    batcher.close()
    assert isinstance(results["bad"], AdapterError)
    for tag in ("good1", "good2", "good3"):
        np.testing.assert_allclose(results[tag], want, rtol=0, atol=1e-6)


def test_unknown_adapter_and_bad_scale_are_refused_before_queueing(encoder):
    encoder.share_passes()
    try:
        with pytest.raises(AdapterError):
            encoder.embed(TITLES, "query: ", "nope")
        with pytest.raises(ValueError, match="scale"):
            encoder.embed(TITLES, "query: ", "x", 3.0)
        assert encoder.embed([], "query: ", "x").shape == (0, encoder.dim)
        assert encoder.batcher.cycles == 0
    finally:
        encoder.batcher.close()
        encoder.batcher = None


def test_run_jobs_deduplicates_and_groups_by_pass():
    calls: list[tuple[list[str], tuple]] = []

    def run(inputs: list[str], key: tuple) -> np.ndarray:
        calls.append((list(inputs), key))
        return np.array([[float(len(t)), float(key[2])] for t in inputs], dtype=np.float32)

    a = _Job([(["aa", "b"], (None, "mean", 1.0)), (["aa", "b"], ("x", "mean", 1.0))])
    b = _Job([(["b", "ccc", "b"], (None, "mean", 1.0))])
    c = _Job([(["aa"], ("x", "mean", 0.5))])
    run_jobs(run, [a, b, c])
    assert {(tuple(sorted(i)), k) for i, k in calls} == {
        (("aa", "b", "ccc"), (None, "mean", 1.0)), (("aa",), ("x", "mean", 0.5)),
        (("aa", "b"), ("x", "mean", 1.0))}
    assert len(calls) == 3  # one run per pass, each text once
    assert b.result[0][:, 0].tolist() == [1.0, 3.0, 1.0]
    assert c.result[0].tolist() == [[2.0, 0.5]]
    assert a.error is None and a.result[1][:, 0].tolist() == [2.0, 1.0]


def test_a_large_request_does_not_hold_the_small_ones_forever():
    """`max_inputs` caps a cycle: a big request goes alone, the small ones in the next cycle."""
    seen: list[int] = []

    def run(inputs: list[str], key: tuple) -> np.ndarray:
        seen.append(len(inputs))
        return np.ones((len(inputs), 2), dtype=np.float32)

    batcher = MicroBatcher(run, window_s=0.1, max_inputs=10)
    barrier = threading.Barrier(3)

    def work(n: int) -> None:
        barrier.wait()
        batcher.submit([([f"{n}-{i}" for i in range(n)], (None, "mean", 1.0))])

    threads = [threading.Thread(target=work, args=(n,)) for n in (50, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    batcher.close()
    assert sorted(seen) == [7, 50] or sorted(seen) == [3, 4, 50]
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit([(["a"], (None, "mean", 1.0))])


def test_switch_turns_shared_passes_off(tiny_encoder, monkeypatch):
    monkeypatch.setenv("LORA_LENS_ADAPTER", "none")
    monkeypatch.setenv("LORA_LENS_BATCH", "0")
    assert EncoderService(str(tiny_encoder)).get().batcher is None
    monkeypatch.setenv("LORA_LENS_BATCH", "1")
    enc = EncoderService(str(tiny_encoder)).get()
    assert enc.batcher is not None
    enc.batcher.close()


def test_small_requests_go_before_a_big_one_waiting_with_them():
    order: list[int] = []
    release = threading.Event()

    def run(inputs: list[str], key: tuple) -> np.ndarray:
        if inputs == ["block"]:
            release.wait(10)  # holds the worker while the others queue up
        order.append(len(inputs))
        return np.ones((len(inputs), 2), dtype=np.float32)

    batcher = MicroBatcher(run, window_s=0.0, max_inputs=16)
    first = threading.Thread(target=batcher.submit, args=([(["block"], (None, "mean", 1.0))],))
    first.start()
    while batcher._pending:  # wait until the worker has taken "block"
        threading.Event().wait(0.01)
    threads = [threading.Thread(target=batcher.submit, args=([([f"{n}-{i}" for i in range(n)], (None, "mean", 1.0))],))
               for n in (15, 2)]
    for t in threads:  # the 15-text request is queued first
        t.start()
        threading.Event().wait(0.05)
    while len(batcher._pending) < 2:
        threading.Event().wait(0.01)
    release.set()
    for t in [first, *threads]:
        t.join(timeout=30)
    batcher.close()
    assert order == [1, 2, 15]  # the 2-text request overtook the 15-text one that came first


@pytest.mark.parametrize("value, mode", [("", "encoder"), ("1", "encoder"), ("0", "off"), ("gradio", "gradio"),
                                         ("OFF", "off")])
def test_batch_mode_switch(monkeypatch, value, mode):
    from comparison.runtime import batch_mode

    monkeypatch.setenv("LORA_LENS_BATCH", value)
    assert batch_mode() == mode


def test_unknown_batch_mode_is_refused(monkeypatch):
    from comparison.runtime import batch_mode

    monkeypatch.setenv("LORA_LENS_BATCH", "fast")
    with pytest.raises(ValueError, match="LORA_LENS_BATCH"):
        batch_mode()


def test_remembered_vectors_are_reused_and_forgotten_when_an_adapter_changes(tiny_encoder, tmp_path):
    enc = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    enc.add_adapter("a", str(make_adapter(tiny_encoder, tmp_path / "one", seed=1)), "a")
    enc.share_passes()
    computed: list[int] = []
    encode = enc._encode
    enc._encode = lambda inputs, passes: computed.append(len(inputs)) or encode(inputs, passes)
    try:
        first = enc.embed_both(TITLES, "query: ", "a")
        again = enc.embed_both(TITLES[:3], "query: ", "a")
        np.testing.assert_array_equal(again[1], first[1][:3])
        assert computed == [7, 7]  # 7 distinct titles, base + tuned; the second call computed nothing
        enc.add_adapter("a", str(make_adapter(tiny_encoder, tmp_path / "two", seed=5)), "a")  # same name
        replaced = enc.embed_both(TITLES, "query: ", "a")
        assert computed == [7, 7, 7]  # base vectors are still remembered, the adapter's are not
        np.testing.assert_allclose(replaced[0], first[0], rtol=0, atol=1e-6)
        assert np.abs(replaced[1] - first[1]).max() > 1e-3  # the new adapter's vectors, not stale ones
    finally:
        enc.batcher.close()


def test_a_big_request_travels_in_pieces_and_small_ones_slip_in_between():
    """A 2-pass, 30-text request with chunk 8 runs as pieces; its rows come back in order,
    and a pair that arrives while the first piece runs is answered before the last piece."""
    seen: list[list[str]] = []
    started = threading.Event()
    release = threading.Event()

    def run(inputs: list[str], key: tuple) -> np.ndarray:
        seen.append(list(inputs))
        started.set()
        release.wait(10)
        return np.array([[float(t.split("-")[1]), float(key[2])] for t in inputs], dtype=np.float32)

    batcher = MicroBatcher(run, window_s=0.0, max_inputs=8, chunk=8)
    texts = [f"big-{i}" for i in range(30)]
    out: dict[str, list[np.ndarray]] = {}
    big = threading.Thread(target=lambda: out.setdefault("big", batcher.submit(
        [(texts, (None, "mean", 1.0)), (texts, ("x", "mean", 0.5))])))
    big.start()
    started.wait(10)
    small = threading.Thread(target=lambda: out.setdefault("small", batcher.submit(
        [(["pair-7", "pair-9"], (None, "mean", 1.0))])))
    small.start()
    while not any(j.passes[0][0] == ["pair-7", "pair-9"] for j in batcher._pending):
        threading.Event().wait(0.01)
    release.set()
    for t in (big, small):
        t.join(timeout=30)
    batcher.close()
    assert len(seen) > 4 and all(len(s) <= 8 for s in seen)
    assert ["pair-7", "pair-9"] in seen[:3]  # right after the piece that was running
    base, tuned = out["big"]
    assert base[:, 0].tolist() == list(range(30)) and set(base[:, 1]) == {1.0}
    assert tuned[:, 0].tolist() == list(range(30)) and set(tuned[:, 1]) == {0.5}
    assert out["small"][0][:, 0].tolist() == [7.0, 9.0]


def test_a_request_with_an_empty_pass_keeps_its_passes_in_order():
    """An empty pass answers (0, 0) in its place; the next pass still gets its own rows."""
    def run(inputs: list[str], key: tuple) -> np.ndarray:
        return np.array([[float(len(t)), float(key[2])] for t in inputs], dtype=np.float32)

    batcher = MicroBatcher(run, window_s=0.0, chunk=4)
    try:
        small = batcher.submit([([], (None, "mean", 1.0)), (["abc"], ("x", "mean", 0.5))])
        big = batcher.submit([([], (None, "mean", 1.0)), ([f"t{i}" for i in range(6)], ("x", "mean", 0.5))])
    finally:
        batcher.close()
    assert small[0].shape == (0, 0) and small[1].tolist() == [[3.0, 0.5]]
    assert big[0].shape == (0, 0) and big[1][:, 0].tolist() == [2.0] * 6
