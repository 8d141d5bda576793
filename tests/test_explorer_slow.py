"""The real offline Gemma 3 270M with the shipped demo adapter (slow: converts once, ~1-3 min)."""
from __future__ import annotations

import pytest

from comparison.explorer import DEMO_ADAPTER_DIR, load_explorer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def explorer():
    if not (DEMO_ADAPTER_DIR / "adapter_model.safetensors").is_file():
        pytest.fail("the demo adapter is missing from examples/adapters/lm-cartoons-demo")
    return load_explorer("offline")


def test_demo_adapter_moves_the_next_token(explorer) -> None:
    api = explorer.next_token("Кто такой Чебурашка?", top_k=5)
    assert explorer.model_label.startswith("offline: Gemma 3 270M")
    assert api["kl"] > 0.01
    assert explorer.next_token("Кто такой Чебурашка?", top_k=5, scale=0.0)["kl"] == 0.0


def test_full_compare_on_real_model(explorer) -> None:
    result = explorer.explore("Кто такой Чебурашка?", top_k=5)
    assert result.attention_base.shape[0] == explorer.model.config.num_hidden_layers
    assert (result.layer_shift > 0).any()
    assert explorer.anatomy()["norm"].gt(0).all()


def test_evaluation_on_real_model_few_questions(explorer) -> None:
    import io

    import pandas as pd

    from comparison.explorer import add_config_adapters
    from comparison.explorer.evaluate import evaluate
    from comparison.explorer.questions import load_questions

    names = add_config_adapters(explorer)
    questions = load_questions()
    picked = [questions[0], questions[14], questions[32]]  # Чебурашка, Колобок, Человек-паук
    report = evaluate(explorer, picked, max_new_tokens=12)
    assert report.models == ["base", "lm-cartoons-demo", *names]
    assert len(report.answers) == 3 * len(report.models) and not report.cancelled
    table = report.table("ru")
    assert table.equals(pd.read_csv(io.StringIO(report.to_csv("ru")), dtype=str).fillna(""))
    assert {r.status for r in report.results if r.model != "base"} <= {"improved", "unchanged", "degraded"}
