"""Similarity data (pairs, matrices, 2-D map, summary) and the figures drawn from it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from comparison import similarity as sim
from comparison.base_encoder import BaseSource
from comparison.charts import similarity as charts
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter

TEXTS = ["Смартфон Apple iPhone", "Телефон Apple iPhone", "Кофемашина Nespresso", "Наушники Xiaomi",
         "Умные часы Samsung"]
CATS = ["phone", "phone", "coffee", "audio", ""]


@pytest.fixture(scope="module")
def enc(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> DualEncoder:
    root = tmp_path_factory.mktemp("sim_adapters")
    e = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    e.add_adapter("rand", str(make_adapter(tiny_encoder, root / "rand")), "random")
    e.add_adapter("zero", str(make_adapter(tiny_encoder, root / "zero", zero_b=True)), "zero")
    return e


def test_score_pairs(enc):
    pairs = [(TEXTS[0], TEXTS[1]), (TEXTS[1], TEXTS[2]), (TEXTS[3], TEXTS[3])]
    df = sim.score_pairs(enc, pairs, "query: ", "rand")
    assert list(df.columns) == ["text_a", "text_b", "base", "tuned", "delta"]
    assert len(df) == 3
    np.testing.assert_allclose(df["delta"], df["tuned"] - df["base"], atol=1e-6)
    assert df.loc[2, "base"] == pytest.approx(1.0, abs=1e-5)
    assert df.loc[2, "tuned"] == pytest.approx(1.0, abs=1e-5)
    base_vecs = enc.embed([TEXTS[0], TEXTS[1]], "query: ")
    assert df.loc[0, "base"] == pytest.approx(float(base_vecs[0] @ base_vecs[1]), abs=1e-6)
    assert df.loc[:1, "delta"].abs().max() > 1e-4


def test_score_pairs_without_adapter_and_with_identity(enc):
    df = sim.score_pairs(enc, [(TEXTS[0], TEXTS[2])], "none", None)
    assert df["tuned"].isna().all() and df["delta"].isna().all()
    same = sim.score_pairs(enc, [(TEXTS[0], TEXTS[2])], "passage: ", "zero")
    assert same.loc[0, "delta"] == 0.0


@pytest.mark.parametrize("pairs, message", [
    ([], "at least one pair"),
    ([("a", "")], "second text of pair 1 is empty"),
    ([("\x00\t", "b")], "first text of pair 1 is empty"),
    ([("a", "x" * 1001)], "longer than 1000"),
    ([("a", "b")] * 101, "at most 100 pairs"),
])
def test_score_pairs_refuses_bad_input(enc, pairs, message):
    with pytest.raises(sim.InputError, match=message):
        sim.score_pairs(enc, pairs, "query: ", None)


def test_unknown_prefix(enc):
    with pytest.raises(sim.InputError, match="prefix"):
        sim.score_pairs(enc, [("a", "b")], "question: ", None)


def test_similarity_matrices_properties(enc):
    m = sim.similarity_matrices(enc, TEXTS, "query: ", "rand", CATS)
    n = len(TEXTS)
    for mat in (m.base, m.tuned):
        assert mat.shape == (n, n) and mat.dtype == np.float32
        assert np.array_equal(mat, mat.T)
        assert np.all(np.diag(mat) == 1.0)
    assert np.allclose(m.delta, m.tuned - m.base)
    assert np.all(np.diag(m.delta) == 0.0)
    assert m.emb_base.shape == m.emb_tuned.shape == (n, 32)
    np.testing.assert_allclose(m.base, m.emb_base @ m.emb_base.T, atol=1e-6)


def test_matrices_without_adapter(enc):
    m = sim.similarity_matrices(enc, TEXTS[:3], "query: ", None)
    assert m.tuned is None and m.delta is None and m.emb_tuned is None and m.categories is None
    s = sim.summary(m)
    assert np.isnan(s["mean_cosine_tuned"]) and "within_base" not in s
    p = sim.project_2d(m)
    assert p["x_tuned"].isna().all() and not p["x_base"].isna().any()
    charts.heatmaps(m)
    charts.movement_map(p)


@pytest.mark.parametrize("texts, cats, message", [
    (["one"], None, "at least two"),
    (["t"] * 201, None, "at most 200"),
    (["a", " "], None, "text 2 is empty"),
    (["a", "b"], ["x"], "one category per text"),
])
def test_matrices_refuse_bad_input(enc, texts, cats, message):
    with pytest.raises(sim.InputError, match=message):
        sim.similarity_matrices(enc, texts, "query: ", None, cats)


def test_summary_matches_definition(enc):
    m = sim.similarity_matrices(enc, TEXTS, "query: ", "rand", CATS)
    s = sim.summary(m)
    iu = np.triu_indices(len(TEXTS), 1)
    assert s["n_texts"] == 5 and s["n_pairs"] == 10
    assert s["mean_cosine_base"] == pytest.approx(float(m.base[iu].mean()))
    assert s["mean_cosine_tuned"] == pytest.approx(float(m.tuned[iu].mean()))
    assert s["mean_cosine_delta"] == pytest.approx(s["mean_cosine_tuned"] - s["mean_cosine_base"])
    assert s["within_base"] == pytest.approx(float(m.base[0, 1]))  # only phone-phone
    between = [m.base[i, j] for i, j in zip(*iu) if CATS[i] and CATS[j] and CATS[i] != CATS[j]]
    assert s["between_base"] == pytest.approx(float(np.mean(between)))


def test_project_2d_shared_frame(enc):
    m = sim.similarity_matrices(enc, TEXTS, "query: ", "rand", CATS)
    p = sim.project_2d(m)
    assert list(p.columns) == ["text", "category", "x_base", "y_base", "x_tuned", "y_tuned"]
    assert len(p) == len(TEXTS) and np.isfinite(p[["x_base", "y_base", "x_tuned", "y_tuned"]].to_numpy()).all()
    moves = np.hypot(p["x_tuned"] - p["x_base"], p["y_tuned"] - p["y_base"])
    assert moves.max() > 0
    identity = sim.project_2d(sim.similarity_matrices(enc, TEXTS, "query: ", "zero"))
    np.testing.assert_allclose(identity["x_base"], identity["x_tuned"], atol=1e-6)
    np.testing.assert_allclose(identity["y_base"], identity["y_tuned"], atol=1e-6)


def test_check_texts_cleans():
    assert sim.check_texts([" a\n"], max_texts=2) == ["a"]


def test_prefix_table():
    from comparison.basics import PREFIX_VALUES, PREFIXES, parse_prefix

    assert PREFIXES["query: "] == "query: " and PREFIXES["none"] == ""
    assert set(PREFIXES.values()) == set(PREFIX_VALUES)
    assert [parse_prefix(v) for v in ("query", " Passage: ", "none", None)] == \
        ["query: ", "passage: ", "", "query: "]


def test_figures_build(enc):
    df = sim.score_pairs(enc, [(TEXTS[0], TEXTS[1]), (TEXTS[2], TEXTS[3])], "query: ", "rand")
    fig = charts.pair_chart(df, labels={"base": "база", "tuned": "дообученная"})
    assert isinstance(fig, go.Figure) and [t.name for t in fig.data] == ["база", "дообученная"]
    assert len(charts.pair_chart(sim.score_pairs(enc, [("a", "b")], "query: ", None)).data) == 1
    m = sim.similarity_matrices(enc, TEXTS, "query: ", "rand", CATS)
    heat = charts.heatmaps(m, labels={"delta": "разница"})
    assert len(heat.data) == 3 and heat.layout.annotations[2].text == "разница"
    assert heat.layout.coloraxis2.cmid == 0.0 and heat.data[0].coloraxis == heat.data[1].coloraxis
    assert tuple(heat.data[0].customdata[0][1]) == (TEXTS[0], TEXTS[1])
    move = charts.movement_map(sim.project_2d(m))
    assert len(move.layout.annotations) == len(TEXTS)
    assert len(move.data) == 2 * len(set(CATS))
    move.to_json()
    heat.to_json()
