"""The contrastive objective on the tiny encoder: it learns, mines real hard negatives, anchors."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from tuning.config import TrainConfig
from tuning.contrastive import mine_hard_negatives
from tuning.identity import same_identity
from tuning.model import embed, load_for_training
from tuning.objectives import build_objective
from tuning.plan import plan_run
from tuning.train import planned_epochs, planned_steps, train
from tuning.variants import (auto_ranking_weight, auto_sibling_negatives, auto_template_negatives,
                             auto_twin_positives)

TEXTS = ["смартфон apple iphone 15 128 гб черный", "смартфон apple iphone 15 pro 128 гб",
         "кофемашина nespresso для дома", "наушники xiaomi белый", "умные часы samsung 128 гб",
         "ноутбук для детей черный", "чайник белый для дома 1.7", "чайник белый для дома 1.2",
         "пылесос samsung черный", "кроссовки для детей белый", "куртка черный max",
         "шампунь крем для дома", "сумка книга игрушка", "телефон samsung pro"]


def _cfg(**kw: object) -> TrainConfig:
    base = {"r": 4, "lora_alpha": 8.0, "batch_size": 7, "max_length": 24, "learning_rate": 1e-2,
            "use_4bit": False, "seed": 0, "epochs": 1}
    return TrainConfig(**{**base, **kw})


def test_contrastive_loss_goes_down_and_every_lora_weight_moves(tiny_encoder: Path) -> None:
    cfg = _cfg()
    loaded = load_for_training(tiny_encoder, cfg)
    obj = build_objective(cfg, loaded, TEXTS)
    module = obj.module
    lora = {n: p.detach().clone() for n, p in module.named_parameters() if ".lora_" in n}
    opt = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=1e-2)
    rng, fixed = random.Random(0), list(range(len(TEXTS)))
    module.train()
    losses = []
    for _ in range(30):
        loss = module(**obj.inputs(fixed, rng))
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5]), losses
    after = dict(module.named_parameters())
    assert lora and all(not torch.equal(p, after[n]) for n, p in lora.items())
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    assert trainable == set(lora)  # only LoRA trains: no decoder, no head


def test_hard_negatives_are_neighbours_with_a_conflicting_identity(tiny_encoder: Path) -> None:
    cfg = _cfg()
    loaded = load_for_training(tiny_encoder, cfg)
    base = embed(loaded.model, loaded.tokenizer, TEXTS, cfg.prefix)
    negatives = mine_hard_negatives(TEXTS, base)
    assert negatives[0] is not None and negatives[6] is not None
    for i, j in enumerate(negatives):
        if j is not None:
            assert j != i and same_identity(TEXTS[i], TEXTS[j]) is False
    # an exact neighbour structure: iPhone 15 vs 15 Pro, 1.7 vs 1.2 are conflicts
    assert same_identity(TEXTS[0], TEXTS[1]) is False and same_identity(TEXTS[6], TEXTS[7]) is False


@pytest.mark.parametrize("objective", ["contrastive", "tsdae", "tsdae+contrastive"])
def test_every_objective_trains_and_saves(objective: str, tiny_encoder: Path, tmp_path: Path) -> None:
    res = train(_cfg(objective=objective, anchor_weight=0.5, epochs=2), TEXTS, str(tiny_encoder),
                tmp_path / "a")
    assert res.status == "completed" and res.adapter_saved and res.steps == 4
    log = json.loads((tmp_path / "a" / "training_log.json").read_text())
    assert log["config"]["objective"] == objective and all(np.isfinite(log["losses"]))
    if "contrastive" in objective:
        assert log["hard_negatives_found"] >= 2
        # ranking_weight None (auto): decided from the titles' one-word siblings, and logged
        assert log["config"]["ranking_weight"] is None
        assert log["ranking_weight_used"] == auto_ranking_weight(log["template_sibling_share"])
        assert log["config"]["twin_positives"] is None  # auto, by the same rule
        assert log["twin_positives_used"] == auto_twin_positives(log["template_sibling_share"])
        assert log["config"]["template_negatives"] is None  # auto: made-up or mined siblings
        assert log["template_negatives_used"] == auto_template_negatives(log["template_sibling_share"])
        assert log["config"]["sibling_negatives"] is None  # auto: siblings mined in template catalogs
        assert log["sibling_negatives_used"] == auto_sibling_negatives(log["template_sibling_share"])


TWIN_TEXTS = ["Сок Добрый апельсиновый 1 л", "Добрый сок апельсин, пакет 1000 мл",
              "Сок Добрый яблочный 1 л", "Наушники Sony WH-CH720N беспроводные",
              "Сони WH-CH720N наушники полноразмерные", "Кабель Ugreen USB-C 2 м"]


@pytest.mark.parametrize("siblings", [True, False])
def test_template_siblings_are_mined_and_counted_when_on(siblings: bool, tiny_encoder: Path) -> None:
    """Three flavours in one template share every number: no identity rule separates them,
    so only `sibling_negatives` mines them as each other's negatives (and counts them)."""
    texts = ["Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л", "Сок Добрый мультифрукт 1 л",
             "Наушники беспроводные полноразмерные", "Кабель для зарядки телефона"]
    cfg = _cfg(sibling_negatives=siblings)
    obj = build_objective(cfg, load_for_training(tiny_encoder, cfg), texts)
    assert obj.info["sibling_negatives_used"] is siblings
    if siblings:
        assert [j in (0, 1, 2) and j != i for i, j in enumerate(obj.negatives[:3])] == [True] * 3
        assert obj.negatives[3:] == [None, None] and obj.info["sibling_negatives_found"] == 3
    else:
        assert obj.negatives == [None] * 5 and obj.info["sibling_negatives_found"] == 0


@pytest.mark.parametrize("rows", [True, False])
def test_twin_views_rewrite_the_other_sellers_wording(rows: bool, tiny_encoder: Path) -> None:
    """With `twin_positives` 1 a title with a catalog twin gets its second view rewritten
    from the twin; without, from itself (the shipped default's batches stay as they were)."""
    cfg = _cfg(negatives_as_rows=rows, twin_positives=1.0, hard_negatives=False, batch_size=6)
    loaded = load_for_training(tiny_encoder, cfg)
    obj = build_objective(cfg, loaded, TWIN_TEXTS)
    assert obj.info["twin_positives_used"] == 1.0 and obj.info["titles_with_twin"] >= 2
    twin_of = {i: j for i, j in enumerate(obj.twins) if j is not None}
    # all six titles are within the 10 neighbours searched, so the twins are exactly these
    assert twin_of == {0: 1, 1: 0, 3: 4, 4: 3}
    for i in twin_of:
        assert obj._view(i, random.Random(0)) == TWIN_TEXTS[twin_of[i]]
    if rows:  # a title and its twin never share a batch (the twin would be a negative there)
        batch, _ = obj._paired(list(range(len(TWIN_TEXTS))), random.Random(0))
        corpus_rows = {r for r in batch if not isinstance(r, str)}
        assert corpus_rows and not any(twin_of.get(r) in corpus_rows for r in corpus_rows)
    off = build_objective(_cfg(negatives_as_rows=rows, twin_positives=0.0), loaded, TWIN_TEXTS)
    assert off.info["titles_with_twin"] == 0
    assert all(off._view(i, random.Random(0)) == TWIN_TEXTS[i] for i in range(len(TWIN_TEXTS)))


@pytest.mark.parametrize("rows", [True, False])
def test_anchor_term_is_the_weighted_drift_from_the_base(rows: bool, tiny_encoder: Path) -> None:
    cfg = _cfg(negatives_as_rows=rows)
    loaded = load_for_training(tiny_encoder, cfg)
    obj = build_objective(cfg, loaded, TEXTS)
    inputs = obj.inputs(list(range(7)), random.Random(0))
    module = obj.module.eval()
    with torch.no_grad():
        plain = float(module(**inputs))
        module.anchor_weight = 3.0
        anchored = float(module(**inputs))
        columns = module.encode(inputs["input_ids"], inputs["attention_mask"]).chunk(module.columns)
        third = columns[0] if rows else columns[2]  # the clean titles: view a, or the negatives
    weight = inputs.get("anchored", torch.ones(len(third))).float()  # made-up variants: no base
    per_row = 1 - torch.nn.functional.cosine_similarity(third, inputs["base_rows"])
    drift = float((per_row * weight).sum() / weight.sum())
    assert anchored == pytest.approx(plain + 3.0 * drift, abs=1e-5)
    assert drift < 1e-4  # untrained LoRA: the base vectors of the mined titles are exact


@pytest.mark.parametrize("rows", [True, False])
def test_ranking_term_is_cosent_over_views_versus_title_and_negative(rows: bool, tiny_encoder: Path) -> None:
    cfg = _cfg(negatives_as_rows=rows, ranking_weight=2.0)
    obj = build_objective(cfg, load_for_training(tiny_encoder, cfg), TEXTS)
    inputs = obj.inputs([0, 1, 6, 7, 2, 3, 4, 5], random.Random(0))
    module = obj.module.eval()
    with torch.no_grad():
        ranked = float(module(**inputs))
        module.ranking_weight = 0.0
        plain = float(module(**inputs))
        emb = module.encode(inputs["input_ids"], inputs["attention_mask"]).chunk(module.columns)
    a, b = emb[0], emb[1]
    title, negative = (a[inputs["ranked"][:, 0]], a[inputs["ranked"][:, 1]]) if rows else (a, emb[2])
    assert len(title) >= 1
    cos = torch.nn.functional.cosine_similarity
    pos, neg = cos(a, b) * 20, cos(title, negative) * 20  # CoSENT: log(1 + sum exp(neg - pos))
    expected = float(torch.logsumexp(torch.cat([torch.zeros(1), (neg[:, None] - pos[None, :]).flatten()]), 0))
    assert ranked == pytest.approx(plain + 2.0 * expected, abs=1e-4)


def test_auto_epochs_follow_the_corpus_size() -> None:
    cfg = TrainConfig(batch_size=32, auto_steps=300)
    assert planned_epochs(cfg, 200) == 43          # 7 steps an epoch → 43 passes, 301 steps
    assert planned_epochs(cfg, 3360) == 3          # 105 steps an epoch
    assert planned_epochs(cfg, 100_000) == 1
    assert planned_epochs(TrainConfig(epochs=4), 100_000) == 4


def test_a_catalog_of_template_variants_trains_variant_steps() -> None:
    """Its sibling negatives, twins and ranking term keep gaining past `auto_steps`; TSDAE,
    set epochs and other catalogs keep the step count they had."""
    cfg = TrainConfig()
    assert planned_steps(cfg, 135, variants=True) == cfg.variant_steps != cfg.auto_steps
    assert planned_steps(cfg, 135) == cfg.auto_steps
    assert planned_steps(TrainConfig(objective="tsdae"), 135, variants=True) == cfg.auto_steps
    assert planned_steps(TrainConfig(epochs=2), 135, variants=True) == 10
    assert plan_run(cfg, 135, share=0.84).steps == cfg.variant_steps
    assert plan_run(cfg, 135, share=0.07).steps == cfg.auto_steps
    assert plan_run(cfg, 135, share=0.84).target == cfg.variant_steps  # what the plan line announces
    assert plan_run(cfg, 135, share=0.07).target == cfg.auto_steps
    assert plan_run(TrainConfig(epochs=2), 135, share=0.84).target is None
    with pytest.raises(ValueError, match="objective"):
        TrainConfig(objective="magic")


def test_plan_says_steps_and_time_before_the_start() -> None:
    small, large = plan_run(TrainConfig(use_4bit=False), 200), plan_run(TrainConfig(use_4bit=False), 5600)
    auto = TrainConfig().auto_steps
    assert small.steps == auto and large.steps == auto and not small.capped_by_budget
    assert large.seconds <= 120  # the default run on the example corpus fits a visitor's wait
    assert plan_run(TrainConfig(), 100_000).steps == auto  # part of a pass, not hours
    assert plan_run(TrainConfig(epochs=1), 1000).steps == 32
    assert plan_run(TrainConfig(epochs=1), 100_000).steps == 625  # trains on a 20,000-title pool
    assert plan_run(TrainConfig(epochs=1, objective="tsdae"), 100_000).steps == 3125
    capped = plan_run(TrainConfig(epochs=50, time_budget_s=120.0), 100_000)
    assert capped.capped_by_budget and capped.seconds == 120.0 and capped.steps < 200
    assert plan_run(TrainConfig(objective="tsdae+contrastive"), 1000).seconds > plan_run(TrainConfig(), 1000).seconds


def test_the_shipped_default_adapter_was_trained_with_the_default_settings() -> None:
    """So `python -m tuning train --corpus examples/products_corpus.csv --out X` re-makes it."""
    from comparison.adapters import SHIPPED_ADAPTER_DIR

    log = json.loads((SHIPPED_ADAPTER_DIR / "training_log.json").read_text(encoding="utf-8"))
    corpus = SHIPPED_ADAPTER_DIR.parents[1] / "products_corpus.txt"
    titles = [t for t in corpus.read_text(encoding="utf-8").splitlines() if t.strip()]
    assert log["config"] == TrainConfig().to_dict()
    assert log["n_texts"] == len(titles) and log["status"] == "completed"  # today's corpus, all of it


def test_length_grouped_epochs_cover_every_title_once_with_less_padding(tiny_encoder: Path) -> None:
    rng = random.Random(0)
    texts = [" ".join(["чай"] * rng.randint(1, 30)) + f" {i}" for i in range(256)]
    loaded = load_for_training(tiny_encoder, TrainConfig(r=4, max_length=128, use_4bit=False))
    grouped = build_objective(TrainConfig(r=4, max_length=128), loaded, texts)
    plain = build_objective(TrainConfig(r=4, max_length=128, group_by_length=False), loaded, texts)
    assert len(set(grouped.lengths)) > 10

    def padded(order: list[int]) -> int:
        return sum(max(grouped.lengths[j] for j in order[i:i + 8]) * 8 for i in range(0, 256, 8))

    g, p = grouped.epoch_order(random.Random(1), 8), plain.epoch_order(random.Random(1), 8)
    assert sorted(g) == sorted(p) == list(range(256))
    assert padded(g) < 0.8 * padded(p)
    assert g != grouped.epoch_order(random.Random(2), 8)  # still a fresh random order per epoch


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_template_negatives_ride_as_rows_without_an_anchor(share: float, tiny_encoder: Path) -> None:
    cfg = _cfg(template_negatives=share)
    obj = build_objective(cfg, load_for_training(tiny_encoder, cfg), TEXTS)
    assert obj.info["template_negatives_used"] == share
    batch = [0, 1, 6, 7, 2, 3, 4, 5]  # the first half all have numbers, so a variant exists
    rows, pairs = obj._paired(batch, random.Random(0))
    made = [r for r in rows if isinstance(r, str)]
    assert all(i < 4 <= k and rows[k] != rows[i] for i, k in pairs)  # a title row, then its own negative
    inputs = obj.inputs(batch, random.Random(0))
    assert len(rows) == 8 and inputs["input_ids"].shape[0] == 16
    if share == 0.0:
        assert not made and "anchored" not in inputs
    else:  # every title of the first half gets its own one-attribute variant as a row
        assert len(made) == 4 and all(m not in TEXTS for m in made)
        assert inputs["anchored"].tolist() == [True] * 4 + [False] * 4
        assert float(obj.module(**inputs)) > 0
