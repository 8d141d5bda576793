"""Key-word probabilities, prompt vs LoRA and the explorer charts on the tiny LM."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from comparison.charts import explorer as charts
from comparison.explorer import Explorer
from comparison.explorer.anatomy import norm_grid
from comparison.explorer.compare import keyword_probabilities, prompt_vs_lora
from comparison.explorer.probes import first_token_ids
from tests.test_explorer_text import PROMPT, build_adapter, build_tiny_lm, make_explorer


@pytest.fixture(scope="module")
def explorers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Explorer, Explorer]:
    folder = build_tiny_lm(tmp_path_factory.mktemp("lm"))
    random_b = build_adapter(folder, tmp_path_factory.mktemp("r"), zero_b=False)
    zero_b = build_adapter(folder, tmp_path_factory.mktemp("z"), zero_b=True)
    return make_explorer(folder, random_b), make_explorer(folder, zero_b)


def test_keyword_rows_cover_every_step_and_word(explorers: tuple[Explorer, Explorer]) -> None:
    trained, zero = explorers
    frame = keyword_probabilities(trained, PROMPT, ["Гена", "Колобок"], max_new_tokens=5)
    assert set(frame["word"]) == {"Гена", "Колобок"}
    steps = frame[frame["word"] == "Гена"]["step"].tolist()
    assert steps == list(range(len(steps))) and 2 <= len(steps) <= 6
    assert frame[["base", "lora"]].le(1).all().all() and not np.allclose(frame["base"], frame["lora"])
    same = keyword_probabilities(zero, PROMPT, ["Гена"], max_new_tokens=3)
    assert (same["base"] == same["lora"]).all()
    with pytest.raises(ValueError, match="words"):
        keyword_probabilities(trained, PROMPT, [" "])


def test_first_token_ids_are_distinct(explorers: tuple[Explorer, Explorer]) -> None:
    ids = first_token_ids(explorers[0].tokenizer, "Гена")
    assert ids and len(ids) == len(set(ids))


def test_prompt_vs_lora_numbers_and_verdict(explorers: tuple[Explorer, Explorer]) -> None:
    trained, zero = explorers
    result = prompt_vs_lora(trained, PROMPT, "Чебурашка это друг Гена .", top_k=5)
    assert result.kl_lora > 0 and result.kl_context > 0 and result.verdict
    assert list(result.table.columns) == ["token", "base", "context", "lora"]
    assert "nothing" in prompt_vs_lora(zero, PROMPT, "Гена", top_k=5).verdict


def test_every_chart_builds(explorers: tuple[Explorer, Explorer]) -> None:
    trained, _ = explorers
    result = trained.explore(PROMPT, top_k=4)
    assert len(charts.top_k_figure(result.top_k).data) == 3
    labels = [result.tokens[q] for q in result.queries]
    fig = charts.attention_figure(result.attention_base[0].mean(0), result.attention_lora[0].mean(0),
                                  labels, result.tokens)
    assert len(fig.data) == 3
    assert len(charts.layer_shift_figure(result.layer_shift).data[0].y) == 2
    anatomy = trained.anatomy()
    assert charts.anatomy_figure(norm_grid(anatomy)).data[0].z.shape == (2, 4)
    assert len(charts.singular_values_figure(anatomy).data) == min(8, len(anatomy))
    frame = keyword_probabilities(trained, PROMPT, ["Гена"], max_new_tokens=2)
    assert len(charts.keyword_figure(frame).data) == 2
    pvl = prompt_vs_lora(trained, PROMPT, "Гена", top_k=3)
    assert len(charts.prompt_vs_lora_figure(pvl.table).data) == 3
    image = np.zeros((28, 56, 3), dtype=np.uint8)
    grid = np.random.default_rng(0).random((2, 4))
    assert len(charts.image_attention_figure(image, grid, grid * 2).data) == 6
    assert isinstance(result.to_json()["top_k"], list)
