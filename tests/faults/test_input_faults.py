"""Odd text and numbers from users and API callers: handled, or refused with a named reason.

Why: the JSON API lets a program send what no text box allows — 10,000 characters, lone
surrogates, control characters, NaN and infinity, true for a rank — so every compute
entry point is probed with them here, on the tiny encoder (milliseconds each).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from comparison import similarity as sim
from comparison.base_encoder import BaseSource
from comparison.embeddings import DualEncoder
from comparison.explorer.inputs import MAX_PROMPT_CHARS, check_prompt
from comparison.basics import parse_prefix
from tests.lora_helpers import make_adapter
from tuning.config import TrainConfig

pytestmark = pytest.mark.fault


@pytest.fixture(scope="module")
def enc(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> DualEncoder:
    e = DualEncoder(BaseSource(path=str(tiny_encoder), kind="local", label="tiny"))
    e.add_adapter("rand", str(make_adapter(tiny_encoder, tmp_path_factory.mktemp("a") / "r")), "r")
    return e


@pytest.mark.parametrize("text", [
    "Смартфон 📱🔥 Apple", "🔥" * 900, "a\u202eb (right-to-left override)", "\u0301\u0301 combining",
    "x\ud800y lone surrogate", "tab\tnew\nline\rcr", "\x1b[31mred\x1b[0m", "e\u0301 vs \u00e9",
    "x" * sim.MAX_CHARS,
])
def test_odd_texts_get_finite_scores(enc: DualEncoder, text: str) -> None:
    row = sim.score_pairs(enc, [(text, "Телефон Apple")], "query: ", "rand").iloc[0]
    assert math.isfinite(row["base"]) and math.isfinite(row["tuned"])
    assert -1.0001 <= row["base"] <= 1.0001


@pytest.mark.parametrize("text, message", [
    ("", "first text of pair 1 is empty"),
    ("   \n\t ", "first text of pair 1 is empty"),
    ("\x00\x01\x02\u200b\ufeff", "first text of pair 1 is empty"),
    ("x" * 10_000, "longer than 1000 characters"),
    ("🔥" * 1001, "longer than 1000 characters"),
])
def test_empty_and_oversized_texts_are_named(enc: DualEncoder, text: str, message: str) -> None:
    with pytest.raises(sim.InputError, match=message):
        sim.score_pairs(enc, [(text, "b")], "query: ", None)


def test_non_text_from_json_is_refused(enc: DualEncoder) -> None:
    with pytest.raises(sim.InputError):
        sim.check_texts([None], what="text")  # type: ignore[list-item]
    with pytest.raises(sim.InputError, match="at most 200 texts"):
        sim.check_texts(["a"] * 201)


def test_control_characters_do_not_change_the_vector(enc: DualEncoder) -> None:
    clean = enc.embed(["Смартфон Apple"], prefix="query: ")
    dirty = enc.embed(["Смартфон\x07\u200b  Apple\x1f"], prefix="query: ")
    np.testing.assert_allclose(clean, dirty, atol=1e-6)


@pytest.mark.parametrize("value", ["question: ", "query: ; rm -rf /", "x" * 10_000, "\x00"])
def test_unknown_prefixes_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="prefix must be"):
        parse_prefix(value)


@pytest.mark.parametrize("field_name, value", [
    ("r", 0), ("r", -4), ("r", 513), ("r", "eight"), ("r", 2.5),
    ("lora_alpha", float("inf")), ("lora_alpha", float("nan")), ("lora_alpha", 0),
    ("learning_rate", float("nan")), ("learning_rate", 5), ("lora_dropout", 1.0),
    ("epochs", 0), ("batch_size", 10**9), ("max_length", 2), ("deletion_ratio", float("nan")),
    ("time_budget_s", -1), ("max_steps", 0), ("seed", -1), ("use_4bit", "maybe"),
    ("warmup_ratio", 1.5), ("target_modules", "query, ../evil"),
])
def test_bad_hyper_parameters_name_the_field(field_name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field_name} "):
        TrainConfig.from_dict({field_name: value})


def test_unknown_setting_is_named() -> None:
    with pytest.raises(ValueError, match="lr is not a training setting"):
        TrainConfig.from_dict({"lr": 1e-3})


@pytest.mark.parametrize("prompt, message", [
    ("", "must not be empty"), ("  \n ", "must not be empty"),
    ("x" * 10_000, f"at most {MAX_PROMPT_CHARS} characters, got 10000"),
])
def test_explorer_prompt_limits(prompt: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"prompt: {message}"):
        check_prompt(prompt)


def test_explorer_accepts_emoji_and_the_longest_allowed_prompt() -> None:
    assert check_prompt("Кто такой Чебурашка? 🐻") == "Кто такой Чебурашка? 🐻"
    assert len(check_prompt("я" * MAX_PROMPT_CHARS)) == MAX_PROMPT_CHARS


def test_a_bool_is_not_a_rank_when_built_directly() -> None:
    with pytest.raises(ValueError, match="^r must be an integer"):
        TrainConfig(r=True)
