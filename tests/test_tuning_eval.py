"""Retrieval metrics: known answers on hand-made vectors, and base vs adapter from one model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuning.config import TrainConfig
from tuning.evaluate import METRICS, evaluate, group_metrics, pair_metrics, read_dev
from tuning.train import train


def _unit(rows: list[list[float]]) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_pair_metrics_known_values() -> None:
    q = _unit([[1, 0], [1, 0.05]])
    pos = _unit([[1, 0], [0, 1]])  # query 2 is nearer to query 1's positive than to its own
    neg = _unit([[0, 1], [1, 0]])
    m = pair_metrics(q, pos, neg)
    assert m["recall@1"] == 0.5 and m["mrr"] == pytest.approx(0.75)
    # positive sims [1, .05] vs negative sims [0, .9988]: 3 of 4 (pos, neg) orderings right
    assert m["hard_neg_auc"] == pytest.approx(0.75)


def test_group_metrics_known_values() -> None:
    emb = _unit([[1, 0], [1, 0.1], [0, 1], [0.1, 1]])
    m = group_metrics(emb, np.array(["a", "a", "b", "b"]))
    assert m["recall@1"] == 1.0 and m["mrr"] == 1.0 and m["hard_neg_auc"] == 1.0
    assert -1 <= m["mean_cosine"] <= 1


def test_read_dev_refuses_unknown_layout(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": ["x"], "b": ["y"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="query, positive, hard_negative"):
        read_dev(path)


def test_evaluate_base_and_adapter_from_one_model(tiny_encoder: Path, tmp_path: Path) -> None:
    texts = ["смартфон apple iphone черный", "кофемашина nespresso для дома", "наушники xiaomi белый",
             "умные часы samsung", "чайник белый для дома", "пылесос samsung черный"]
    cfg = TrainConfig(r=4, lora_alpha=8.0, batch_size=3, use_4bit=False, learning_rate=1e-2, epochs=2)
    out = train(cfg, texts, str(tiny_encoder), tmp_path / "a").adapter_dir
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"query": ["телефон apple", "кофемашина", "часы samsung"],
                  "positive": ["смартфон apple iphone", "кофемашина nespresso", "умные часы samsung"],
                  "hard_negative": ["чайник apple", "пылесос", "наушники samsung"],
                  "category": ["phones", "kitchen", "wear"]}).to_csv(pairs, index=False)
    frame = evaluate(tiny_encoder, out, pairs)
    assert list(frame.index) == ["base", "base + adapter"] and list(frame.columns) == METRICS
    assert frame.loc["base"].to_dict() != frame.loc["base + adapter"].to_dict()
    alone = evaluate(tiny_encoder, None, pairs)
    assert np.allclose(alone.loc["base"].to_numpy(), frame.loc["base"].to_numpy(), atol=1e-6)
    groups = tmp_path / "groups.csv"
    pd.DataFrame({"text": texts, "group": ["phone", "kitchen", "audio", "wear", "kitchen", "home"]}
                 ).to_csv(groups, index=False)
    g = evaluate(tiny_encoder, out, groups)
    assert g.notna().all().all() and ((g["recall@1"] >= 0) & (g["recall@1"] <= 1)).all()


def test_cli_trains_and_writes_dev_metrics_into_the_card(tiny_encoder: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from tuning.cli import cli

    corpus = tmp_path / "c.csv"
    pd.DataFrame({"sku": range(6), "title": ["смартфон apple iphone", "кофемашина nespresso",
                                             "наушники xiaomi белый", "умные часы samsung",
                                             "чайник белый для дома", "пылесос samsung"]}).to_csv(corpus, index=False)
    dev = tmp_path / "dev.csv"
    pd.DataFrame({"query": ["телефон apple", "часы samsung"], "positive": ["смартфон apple", "умные часы"],
                  "hard_negative": ["чайник apple", "наушники samsung"]}).to_csv(dev, index=False)
    out = tmp_path / "adapter"
    code = cli(["train", "--corpus", str(corpus), "--out", str(out), "--base", str(tiny_encoder),
                "--no-use-4bit", "--r", "2", "--batch-size", "3", "--max-steps", "2", "--dev", str(dev)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "6 texts from column 'title'" in printed and '"status": "completed"' in printed
    log = json.loads((out / "training_log.json").read_text())
    assert set(log["dev_metrics"]) == {"dev_set", "base", "base + adapter"}
    assert "| model | recall@1 |" in (out / "README.md").read_text()
    assert cli(["eval", "--adapter", str(out), "--dev", str(dev), "--base", str(tiny_encoder)]) == 0
    assert "base + adapter" in capsys.readouterr().out
