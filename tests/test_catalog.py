"""Catalog compute (comparison/catalog): index, store, search, what moved, label-free verdict."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comparison.base_encoder import BaseSource
from comparison.catalog import index as cindex
from comparison.catalog.index import CatalogError, IndexCancelled, build_index, embed_query
from comparison.catalog.moved import likely_duplicates, map_points, most_changed, neighbourhoods
from comparison.catalog.search import changes, search
from comparison.catalog.store import CatalogStore
from comparison.catalog.verdict import judge, marks_to_groups, propose_pairs, wilson
from comparison.embeddings import DualEncoder
from comparison.retrieval import dev_metrics
from tests.lora_helpers import make_adapter

BRANDS = ["Apple", "Samsung", "Xiaomi", "Sony", "Bosch", "Philips", "LG", "Huawei"]
KINDS = ["Смартфон", "Телефон", "Наушники", "Кофемашина", "Пылесос", "Телевизор", "Часы"]
TITLES = [f"{k} {b} {n}" for k in KINDS for b in BRANDS for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def enc(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> DualEncoder:
    root = tmp_path_factory.mktemp("cat_adapters")
    e = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    e.add_adapter("rand", str(make_adapter(tiny_encoder, root / "rand", seed=1)), "random")
    e.add_adapter("zero", str(make_adapter(tiny_encoder, root / "zero", zero_b=True)), "zero")
    return e


@pytest.fixture(scope="module")
def idx(enc: DualEncoder) -> cindex.CatalogIndex:
    return build_index(enc, TITLES, "rand", 1.0, bf16=False)


def test_index_matches_plain_embeddings(enc, idx):
    base, tuned = enc.embed_both(TITLES, "query: ", "rand")
    assert idx.n == len(TITLES) and idx.tuned is not None
    np.testing.assert_allclose(idx.base, base, atol=1e-5)
    np.testing.assert_allclose(idx.tuned, tuned, atol=1e-5)
    s = idx.summary()
    assert s["n_titles"] == len(TITLES) and s["seconds"] > 0 and s["memory_mb"] >= 0


def test_index_reuses_base_and_reports_progress(enc, idx):
    seen: list[tuple[int, int]] = []
    again = build_index(enc, TITLES, "rand", 0.5, base=idx.base, bf16=False,
                        progress=lambda d, t, s: seen.append((d, t)))
    assert again.base is idx.base and "base" not in again.seconds
    assert seen[-1] == (len(TITLES), len(TITLES))
    np.testing.assert_allclose(again.tuned, enc.embed(TITLES, "query: ", "rand", 0.5), atol=1e-5)


def test_index_progress_counts_both_passes(enc, monkeypatch):
    monkeypatch.setattr(cindex, "CHUNK", 50)
    seen: list[tuple[int, int]] = []
    build_index(enc, TITLES, "rand", bf16=False, progress=lambda d, t, s: seen.append((d, t)))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (2 * len(TITLES),) * 2


def test_cancel_stops_and_keeps_nothing(enc, monkeypatch):
    monkeypatch.setattr(cindex, "CHUNK", 20)
    stop = threading.Event()
    calls = []

    def progress(done: int, total: int, s: float) -> None:
        calls.append(done)
        stop.set()

    with pytest.raises(IndexCancelled):
        build_index(enc, TITLES, "rand", bf16=False, progress=progress, cancel=stop)
    assert len(calls) == 1


def test_limits(enc, monkeypatch):
    with pytest.raises(CatalogError, match="no titles"):
        build_index(enc, [], "rand")
    monkeypatch.setattr(cindex, "MAX_TITLES", 10)
    with pytest.raises(CatalogError, match="limit is 10"):
        build_index(enc, TITLES, "rand")


def test_bf16_index_is_close_to_fp32(enc, idx):
    half = build_index(enc, TITLES[:20], "rand", bf16=True)
    assert half.bf16
    cos = (half.tuned * idx.tuned[:20]).sum(1)
    assert cos.min() > 0.99


def test_search_finds_itself_and_ranks_in_other_list(enc, idx):
    q_b, q_t = embed_query(enc, idx, TITLES[7])
    res = search(idx.titles, idx.base, idx.tuned, q_b, q_t, k=5)
    assert res["base"][0].title == TITLES[7] and res["tuned"][0].title == TITLES[7]
    assert res["base"][0].score == pytest.approx(1.0, abs=1e-5)
    for name, other in (("base", idx.tuned @ q_t), ("tuned", idx.base @ q_b)):
        for hit in res[name]:
            assert hit.other_rank == int((other > other[hit.row]).sum()) + 1
    scores = [h.score for h in res["tuned"]]
    assert scores == sorted(scores, reverse=True)
    assert set(changes(res)) == {"only_base", "only_tuned", "first_changed"}
    with pytest.raises(ValueError):
        search(idx.titles, idx.base, idx.tuned, q_b, q_t, k=0)


def test_zero_adapter_moves_nothing(enc):
    z = build_index(enc, TITLES, "zero", bf16=False)
    moved = neighbourhoods(z.base, z.tuned, k=5)
    assert np.all(moved.overlap == 1.0)
    dup = likely_duplicates(moved, TITLES, z.base, z.tuned, share=0.1)
    assert dup.tuned_only.empty and dup.base_only.empty
    assert dup.threshold_base == pytest.approx(dup.threshold_tuned)


def test_neighbourhoods_are_exact_knn(idx):
    moved = neighbourhoods(idx.base, idx.tuned, k=4)
    sims = idx.tuned @ idx.tuned.T
    np.fill_diagonal(sims, -np.inf)
    for i in (0, 33, len(TITLES) - 1):
        assert set(moved.tuned_idx[i]) == set(np.argsort(-sims[i])[:4])
        assert moved.overlap[i] == len(set(moved.tuned_idx[i]) & set(moved.base_idx[i])) / 4
    assert moved.overlap.min() < 1.0  # a random adapter moves some neighbourhood
    table = most_changed(moved, idx.titles, top=5)
    assert list(table.columns) == ["title", "overlap", "before", "after"]
    assert table["overlap"].is_monotonic_increasing
    sampled = neighbourhoods(idx.base, idx.tuned, k=4, max_rows=30)
    assert sampled.sampled and len(sampled.rows) == 30
    pts = map_points(idx.tuned, moved, idx.titles)
    assert len(pts) == len(TITLES) and {"x", "y", "change", "title"} <= set(pts.columns)


def test_duplicates_only_one_model_finds(idx):
    moved = neighbourhoods(idx.base, idx.tuned, k=4)
    dup = likely_duplicates(moved, idx.titles, idx.base, idx.tuned, share=0.2)
    for _, row in dup.tuned_only.iterrows():
        assert row["tuned"] >= dup.threshold_tuned - 1e-6 and row["base"] < dup.threshold_base
    for _, row in dup.base_only.iterrows():
        assert row["base"] >= dup.threshold_base - 1e-6 and row["tuned"] < dup.threshold_tuned
    with pytest.raises(ValueError):
        likely_duplicates(moved, idx.titles, idx.base, idx.tuned, share=0)


def test_store_is_per_session_and_per_variant(idx, enc):
    store = CatalogStore(max_variants=2)
    store.put("s1", idx)
    assert store.get("s1", "rand", 1.0) is idx and store.get("s1") is idx
    with pytest.raises(CatalogError):
        store.get("s2")
    with pytest.raises(CatalogError):
        store.get("s1", "rand", 0.5)
    assert store.base_for("s1", TITLES, "query: ", False) is idx.base
    assert store.base_for("s1", TITLES[:-1], "query: ", False) is None
    for scale in (0.5, 0.7):
        store.put("s1", build_index(enc, TITLES, "rand", scale, base=idx.base, bf16=False))
    assert not store.has("s1", "rand", 1.0) and store.has("s1", "rand", 0.7)  # LRU of 2
    ev = store.start("s1")
    store.cancel("s1")
    assert ev.is_set() and not store.start("s1").is_set()
    store.drop_session("s1")
    with pytest.raises(CatalogError):
        store.get("s1")


def _proposal(idx):
    moved = neighbourhoods(idx.base, idx.tuned, k=4)
    return propose_pairs(idx.titles, idx.base, idx.tuned, moved, n_pairs=20, seed=0), moved


def test_proposal_mixes_disputed_and_random(idx):
    prop, moved = _proposal(idx)
    assert 18 <= len(prop) <= 21
    assert set(prop["source"]) == {"disputed", "random"}
    disputed = prop[prop["source"] == "disputed"]
    assert (disputed.groupby("q_row").size() == 2).all()  # both first hits of a disputed title
    for row in prop.itertuples():
        i = int(np.flatnonzero(moved.rows == row.q_row)[0])
        assert row.base_first == (row.c_row == moved.base_idx[i, 0])
        assert row.tuned_first == (row.c_row == moved.tuned_idx[i, 0])


def test_judge_counts_and_tests(idx):
    prop, _ = _proposal(idx)
    # the adapter's first hits are "same", the base's (where different) "different"
    marks = {int(r.pair): ("same" if r.tuned_first else "different") for r in prop.itertuples()}
    v = judge(prop, marks)
    n_disp = prop[prop["source"] == "disputed"]["q_row"].nunique()
    assert v.tuned_right == v.n_titles and v.tuned_only >= n_disp and v.base_only == 0
    assert v.p_value == pytest.approx(0.5 ** (v.tuned_only - 1) if v.tuned_only else 1.0)
    assert v.outcome == ("better" if v.p_value < 0.05 else "unclear")
    flipped = judge(prop, {p: {"same": "different", "different": "same"}[m] for p, m in marks.items()})
    assert flipped.base_only == v.tuned_only
    unsure = judge(prop, {p: "unsure" for p in marks})
    assert unsure.n_titles == 0 and unsure.outcome == "unclear"
    with pytest.raises(ValueError):
        judge(prop, {1: "maybe"})
    with pytest.raises(ValueError):
        judge(prop, {999: "same"})


def test_wilson_interval():
    lo, hi = wilson(15, 18)
    assert lo == pytest.approx(0.608, abs=0.005) and hi == pytest.approx(0.942, abs=0.005)
    assert wilson(0, 0) == (0.0, 1.0)


def test_marks_make_an_evaluation_file(idx, enc):
    prop, _ = _proposal(idx)
    marks = {int(r.pair): ("same" if r.tuned_first else "different") for r in prop.itertuples()}
    groups = marks_to_groups(prop, marks)
    assert list(groups.columns) == ["text", "group"] and groups["text"].is_unique
    for r in prop.itertuples():
        g = dict(zip(groups["text"], groups["group"]))
        if marks[r.pair] == "same":
            assert g[r.query] == g[r.candidate]
    metrics = dev_metrics(lambda t: enc.embed(t, "query: ", "rand"), groups)
    assert 0.0 <= metrics["recall@1"] <= 1.0
    with pytest.raises(CatalogError):
        marks_to_groups(prop, {p: "different" for p in marks})


def test_same_marks_join_transitively_and_unmarked_titles_stay_out():
    prop = pd.DataFrame({"pair": [1, 2, 3, 4], "query": ["a", "b", "d", "f"],
                         "candidate": ["b", "c", "e", "g"]})
    groups = marks_to_groups(prop, {1: "same", 2: "same", 3: "different", 4: "unsure"})
    g = dict(zip(groups["text"], groups["group"]))
    assert list(groups["text"]) == ["a", "b", "d", "c", "e"]  # queries first, then candidates
    assert g["a"] == g["b"] == g["c"] == "g1" and g["d"] == "g2" and g["e"] == "g3"


def test_catalog_passes_run_past_the_shared_batcher(enc):
    """Indexing is `bulk`: it never goes through the micro-batcher (whose thread would drop the
    caller's bf16 autocast and whose small-request cache it would flush), and gives the same
    vectors as the shared path."""
    from comparison.catalog.index import build_index, wants_bf16

    titles = ["смартфон apple iphone 15", "чайник bosch 1,7 л", "кабель usb-c 2 м"]
    shared = enc.share_passes()
    try:
        calls: list[int] = []
        original = shared.submit
        shared.submit = lambda *a, **k: calls.append(1) or original(*a, **k)  # type: ignore[method-assign]
        index = build_index(enc, titles, "rand", bf16=False)
        assert calls == [] and wants_bf16(enc, True) is True
        via_batcher = enc.embed(titles, "query: ", "rand")
        assert calls == [1]
        np.testing.assert_allclose(index.tuned, via_batcher, atol=1e-6)
    finally:
        shared.submit = original  # type: ignore[method-assign]
        enc.batcher = None
