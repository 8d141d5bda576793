"""TrainConfig validation, UI-string coercion, presets, noise statistics, CLI parser, chart."""
from __future__ import annotations

import random
from dataclasses import fields

import numpy as np
import pytest

from comparison.charts.training import loss_curve, smooth
from tuning.cli import build_parser, config_from_args
from tuning.config import PRESETS, TrainConfig
from tuning.noise import delete_words, noisy_batch


@pytest.mark.parametrize("field_name, value", [
    ("r", 0), ("lora_alpha", -1.0), ("lora_dropout", 1.0), ("target_modules", []),
    ("learning_rate", 0.0), ("epochs", 0), ("batch_size", 0), ("max_length", 2),
    ("deletion_ratio", 1.0), ("pooling", "max"), ("seed", -1), ("time_budget_s", 0.0),
    ("max_steps", 0), ("decoder_vocab", "bpe"), ("checkpoint_every", -1), ("warmup_ratio", 1.5),
])
def test_bad_values_name_the_field(field_name: str, value: object) -> None:
    with pytest.raises(ValueError, match=field_name):
        TrainConfig(**{field_name: value})


def test_every_field_has_help_text() -> None:
    assert all(f.metadata.get("help") for f in fields(TrainConfig))


def test_defaults() -> None:
    cfg = TrainConfig()
    assert cfg.target_modules == ["query", "key", "value", "dense"]
    assert (cfg.deletion_ratio, cfg.pooling, cfg.prefix, cfg.use_4bit) == (0.6, "mean", "query: ", False)
    assert cfg.decoder_vocab == "corpus"


def test_from_dict_tolerates_ui_strings() -> None:
    cfg = TrainConfig.from_dict({"r": "16", "lora_alpha": "32", "use_4bit": "false",
                                 "target_modules": "query, value", "time_budget_s": "",
                                 "max_steps": "5", "learning_rate": "1e-4"})
    assert (cfg.r, cfg.lora_alpha, cfg.use_4bit, cfg.max_steps) == (16, 32.0, False, 5)
    assert cfg.target_modules == ["query", "value"] and cfg.time_budget_s is None
    for bad, name in [({"r": "abc"}, "r"), ({"r": "1.5"}, "r"), ({"use_4bit": "maybe"}, "use_4bit"),
                      ({"epochs": "x"}, "epochs"), ({"objective": "magic"}, "objective"), ({"lorra": 1}, "lorra")]:
        with pytest.raises(ValueError, match=name):
            TrainConfig.from_dict(bad)


def test_presets_are_valid_default_is_the_cli_default_and_report_is_tsdae() -> None:
    assert list(PRESETS) == ["matching", "qlora_4bit", "variants", "report_tsdae"]
    assert TrainConfig.from_dict(PRESETS["matching"]) == TrainConfig()
    assert TrainConfig.from_dict(PRESETS["qlora_4bit"]) == TrainConfig(use_4bit=True)
    assert TrainConfig.from_dict(PRESETS["variants"]) == TrainConfig(ranking_weight=1.0)
    kit = TrainConfig.from_dict(PRESETS["report_tsdae"])
    assert (kit.objective, kit.r, kit.lora_alpha, kit.lora_dropout) == ("tsdae", 16, 32.0, 0.1)
    assert (kit.learning_rate, kit.epochs, kit.batch_size, kit.max_length) == (2e-4, 1, 16, 64)
    for values in PRESETS.values():
        TrainConfig.from_dict(values)


def test_deletion_rate_is_statistically_right() -> None:
    rng = random.Random(0)
    texts = [" ".join(f"w{i}_{j}" for j in range(10)) for i in range(2000)]
    noisy = noisy_batch(texts, 0.6, rng)
    kept = np.array([len(n.split()) for n in noisy])
    assert abs(1 - kept.mean() / 10 - 0.6) < 0.02
    assert (kept >= 1).all()
    assert sum(n != t for n, t in zip(noisy, texts)) > 0.99 * len(texts)
    for n, t in zip(noisy[:50], texts[:50]):  # deletion only: order kept, no new words
        words = t.split()
        assert [w for w in words if w in n.split()] == n.split()


def test_noise_is_seeded_and_keeps_one_word() -> None:
    text = "смартфон apple iphone 15 pro"
    assert delete_words(text, 0.6, random.Random(3)) == delete_words(text, 0.6, random.Random(3))
    assert all(len(delete_words(text, 0.99, random.Random(s)).split()) == 1 for s in range(30))
    assert delete_words("одно", 0.9, random.Random(0)) == "одно"
    with pytest.raises(ValueError):
        delete_words(text, 1.0, random.Random(0))


def test_cli_parser_is_built_from_the_dataclass() -> None:
    parser = build_parser()
    args = parser.parse_args(["train", "--corpus", "c.csv", "--out", "o", "--r", "4",
                              "--no-use-4bit", "--target-modules", "query,value", "--max-steps", "3"])
    cfg = config_from_args(args)
    assert (cfg.r, cfg.use_4bit, cfg.target_modules, cfg.max_steps) == (4, False, ["query", "value"], 3)
    help_text = parser._subparsers._group_actions[0].choices["train"].format_help()
    for f in fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in help_text


def test_loss_curve_has_raw_and_smoothed_lines() -> None:
    fig = loss_curve([1, 2, 3, 4], [4.0, 3.0, 3.5, 2.0], labels=["e1"] * 4)
    assert [t.name for t in fig.data] == ["loss per step", "smoothed"]
    assert np.allclose(smooth([2.0, 2.0, 2.0]), 2.0)
    with pytest.raises(ValueError):
        loss_curve([1], [1.0, 2.0])


@pytest.mark.parametrize("field_name, value", [
    ("lora_alpha", "abc"), ("r", True), ("epochs", True), ("max_steps", True), ("r", 2.5),
    ("use_4bit", 1), ("pooling", 3), ("prefix", 5), ("learning_rate", float("nan")),
    ("target_modules", "query,"), ("seed", "42"),
])
def test_wrong_types_raise_value_error_naming_the_field(field_name: str, value: object) -> None:
    if field_name == "target_modules":
        value = [1, 2]
    with pytest.raises(ValueError, match=field_name):
        TrainConfig(**{field_name: value})


def test_choices_come_from_literal_types() -> None:
    from typing import get_args

    from tuning.config import field_types

    assert get_args(field_types()["pooling"]) == ("mean", "cls")
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--corpus", "c", "--out", "o", "--pooling", "max"])


def test_ui_values_zero_means_no_limit_and_integral_floats_are_ints() -> None:
    from tuning.config import ui_defaults

    values = ui_defaults("qlora_4bit")
    assert values["max_steps"] == 0 and values["time_budget_s"] == 0 and values["epochs"] == 0
    assert TrainConfig.from_ui(values) == TrainConfig(use_4bit=True)  # 0 epochs = auto
    cfg = TrainConfig.from_ui({**values, "max_steps": 0, "r": 8.0, "time_budget_s": 600})
    assert cfg.max_steps is None and cfg.time_budget_s == 600.0 and cfg.r == 8 and cfg.epochs is None
    with pytest.raises(ValueError, match="r"):
        TrainConfig.from_ui({"r": 8.5})


def test_an_automatic_setting_is_a_choice_in_the_form() -> None:
    """A rendered number box sends 0, never empty, so `ranking_weight` is a list with "auto"."""
    from tuning.config import form_values, ui_defaults

    assert ui_defaults("matching")["ranking_weight"] == "auto"
    assert ui_defaults("variants")["ranking_weight"] == "1"
    assert TrainConfig.from_ui({"ranking_weight": "auto"}).ranking_weight is None
    assert TrainConfig.from_ui({"ranking_weight": "0"}).ranking_weight == 0.0
    assert TrainConfig.from_ui({"ranking_weight": 0.5}).ranking_weight == 0.5  # typed by hand
    assert form_values(TrainConfig(ranking_weight=0.5))["ranking_weight"] == "0.5"
