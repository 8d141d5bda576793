"""Was matching better? ✓/✗ per labelled pair, list retrieval, verdicts, the strength dial."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comparison import matching, similarity as sim
from comparison.base_encoder import BaseSource
from comparison.dev_eval import evaluate_dev, sweep_dev
from comparison.embeddings import DualEncoder
from tests.lora_helpers import make_adapter

TEXTS = ["Смартфон Apple iPhone", "Телефон Apple iPhone", "Кофемашина Nespresso", "Наушники Xiaomi",
         "Умные часы Samsung", "Смартфон Samsung"]


@pytest.fixture(scope="module")
def enc(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> DualEncoder:
    root = tmp_path_factory.mktemp("match_adapters")
    e = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    e.add_adapter("rand", str(make_adapter(tiny_encoder, root / "rand")), "random")
    return e


def test_strength_zero_is_the_base_exactly_and_strength_moves_monotonically(enc: DualEncoder) -> None:
    base = enc.embed(TEXTS, "query: ")
    assert np.array_equal(enc.embed(TEXTS, "query: ", "rand", 0.0), base)
    drift = [float(np.mean(1 - (base * enc.embed(TEXTS, "query: ", "rand", s)).sum(1)))
             for s in (0.25, 1.0, 2.0)]
    assert drift[0] < drift[1] < drift[2]
    assert np.array_equal(enc.embed(TEXTS, "query: ", "rand", 1.0), enc.embed(TEXTS, "query: ", "rand"))
    with pytest.raises(ValueError, match="scale"):
        enc.embed(TEXTS, "query: ", "rand", 3.0)


def test_pairs_get_a_mark_only_where_labelled(enc: DualEncoder) -> None:
    frame = sim.score_pairs(enc, [(TEXTS[0], TEXTS[1]), (TEXTS[1], TEXTS[2]), (TEXTS[3], TEXTS[4])],
                            "query: ", "rand")
    judged = matching.judge_pairs(frame, ["да", "no", ""])
    assert list(judged["same"]) == [True, False, None]
    assert judged.loc[0, "right_way"] == bool(frame.loc[0, "delta"] > 0)
    assert judged.loc[1, "right_way"] == bool(frame.loc[1, "delta"] < 0)
    assert judged.loc[2, "right_way"] is None
    t = matching.tally(judged)
    assert t.labelled == 2 and t.right == sum(bool(x) for x in judged["right_way"][:2])


def test_list_retrieval_needs_groups_and_scores_both(enc: DualEncoder) -> None:
    m = sim.similarity_matrices(enc, TEXTS, "query: ", "rand", ["ph", "ph", "c", "a", "w", "ph"])
    table = matching.list_retrieval(m.emb_base, m.emb_tuned, m.categories)
    assert list(table.index) == ["base", "tuned"] and 0 <= table.loc["base", "recall@1"] <= 1
    assert matching.list_retrieval(m.emb_base, m.emb_tuned, None) is None
    assert matching.list_retrieval(m.emb_base, m.emb_tuned, ["a", "b", "c", "d", "e", "f"]) is None


def test_verdicts_know_which_way_is_better() -> None:
    frame = pd.DataFrame({"model": ["base", "base + adapter"], "recall@1": [0.5, 0.6],
                          "mrr": [0.7, 0.7], "hard_neg_auc": [0.8, 0.7], "mean_cosine": [0.8, 0.5]})
    items = {v.metric: v for v in matching.verdicts(frame)}
    assert items["recall@1"].better is True and items["hard_neg_auc"].better is False
    assert items["mrr"].better is None and items["mean_cosine"].better is None
    assert matching.helped(list(items.values())) is False
    frame.loc[1, "hard_neg_auc"] = 0.9
    assert matching.helped(matching.verdicts(frame)) is True


def test_any_adapter_is_scored_and_swept(enc: DualEncoder, tmp_path: Path) -> None:
    dev = tmp_path / "dev.csv"
    pd.DataFrame({"query": TEXTS[:3], "positive": TEXTS[1:4], "hard_negative": TEXTS[2:5]}).to_csv(dev, index=False)
    frame = evaluate_dev(enc, "rand", dev)
    assert list(frame["model"]) == ["base", "base + adapter"]
    table = sweep_dev(enc, "rand", dev, scales=(0.0, 0.5, 1.0))
    assert list(table["scale"]) == [0.0, 0.5, 1.0]
    base_row = frame.set_index("model").loc["base"]
    assert table.loc[0, "recall@1"] == base_row["recall@1"]  # strength 0 is the base
    assert matching.best_scale(table) in (0.0, 0.5, 1.0)
    assert matching.parse_same("✓") is True and matching.parse_same("нет") is False
