"""One compare click on the tiny LM/VLM: pass counts, range checks first, verdict direction, charts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comparison.charts.explorer import compare_figures, singular_values_figure
from comparison.explorer import CompareRequest, Explorer, model_limits
from comparison.explorer.probes import verdict
from ui.locales import chart_labels
from tests.test_explorer_text import PROMPT, build_adapter, build_tiny_lm, make_explorer


@pytest.fixture(scope="module")
def explorers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Explorer, Explorer]:
    folder = build_tiny_lm(tmp_path_factory.mktemp("lm"))
    return (make_explorer(folder, build_adapter(folder, tmp_path_factory.mktemp("r"), zero_b=False)),
            make_explorer(folder, build_adapter(folder, tmp_path_factory.mktemp("z"), zero_b=True)))


def test_limits_follow_the_model_and_bad_ranges_fail_before_any_work(explorers, monkeypatch) -> None:
    trained, _ = explorers
    assert trained.limits == model_limits(trained.model.config)
    from comparison.explorer.core import limits_of

    assert limits_of(trained.loaded.source.path) == trained.limits  # from config.json, before loading
    assert (trained.limits.layers, trained.limits.heads, trained.limits.is_vlm) == (2, 2, False)

    def no_work(*_a, **_k):
        raise AssertionError("model work started before the request was checked")

    monkeypatch.setattr(trained, "encode", no_work)
    with pytest.raises(ValueError, match=r"head: this model has 2 attention heads, choose 0 … 1"):
        trained.compare(CompareRequest(PROMPT, head=31))
    with pytest.raises(ValueError, match=r"layer: this model has 2 layers, choose 0 … 1"):
        trained.compare(CompareRequest(PROMPT, layer=63))
    with pytest.raises(ValueError, match="text-only"):
        trained.compare(CompareRequest(PROMPT, image=np.zeros((4, 4, 3))))
    with pytest.raises(ValueError, match="max_new_tokens"):
        trained.compare(CompareRequest(PROMPT, max_new_tokens=999))


def test_one_report_from_the_fewest_passes(explorers) -> None:
    trained, _ = explorers
    report = trained.compare(CompareRequest(PROMPT, max_new_tokens=4, keywords=("Гена", "Колобок"),
                                            context="Чебурашка это друг Гена .", layer=0, head=1, top_k=4),
                              lang="ru")
    assert report.keywords["token"].iloc[0] == "(конец вопроса)"
    assert any(w in report.prompt_vs_lora.verdict for w in ("Промпт", "Адаптер"))
    assert report.passes == {"generate": 1, "forward": 2, "context_forward": 1}  # base + LoRA in one batch
    assert set(report.answers) == {"base", "lora"}
    # the key words follow the answer the user sees (the LoRA's), one step per token + the prompt end
    steps = report.keywords[report.keywords["word"] == "Гена"]
    assert len(steps) == len(report.answer_tokens) + 1
    assert trained.tokenizer.decode(report.answer_ids, skip_special_tokens=True).strip() == report.answers["lora"]
    assert report.attention["base"].shape == (len(report.queries), len(report.tokens))
    assert report.applies == {"answers": True, "image_attention": False, "keywords": True,
                              "prompt_vs_lora": True, "anatomy": True}
    figs = compare_figures(report, chart_labels("explorer", "ru"))
    assert figs["image_attention"] is None and figs["keywords"] is not None
    assert figs["attention"].layout.title.text == "Внимание по токенам, слой 0, голова 1"
    assert all(f.layout.title.text for f in figs.values() if f is not None)
    assert report.to_json()["layers"] == 2


def test_untrained_adapter_gives_exactly_the_base(explorers) -> None:
    _, zero = explorers
    for new in (0, 3):
        report = zero.compare(CompareRequest(PROMPT, max_new_tokens=new, keywords=("Гена",)))
        assert report.kl == 0.0 and np.array_equal(report.attention_base, report.attention_lora)
        assert (report.keywords["base"] == report.keywords["lora"]).all()
        assert report.passes["generate"] == (1 if new else 0)
    assert report.answers["base"] == report.answers["lora"]


def table(base: float, context: float, lora: float) -> pd.DataFrame:
    return pd.DataFrame({"token": [" Гена", " он"], "base": [base, 0.2], "context": [context, 0.2],
                         "lora": [lora, 0.2]})


def test_verdict_agrees_with_the_numbers_in_direction_and_size() -> None:
    against = verdict(table(0.30, 0.10, 0.60), kl_lora=0.5, kl_between=0.8)
    assert "down (30.0% → 10.0%)" in against and "up (30.0% → 60.0%)" in against and "against" in against
    assert "уводит" in verdict(table(0.30, 0.10, 0.60), 0.5, 0.8, "ru") and \
        "опускает" in verdict(table(0.30, 0.10, 0.60), 0.5, 0.8, "ru")
    partly = verdict(table(0.30, 0.45, 0.60), kl_lora=0.5, kl_between=0.25)
    assert "but less" in partly and "50.0% of it" in partly and "closes 50.0%" in partly
    assert "reproduces" in verdict(table(0.30, 0.58, 0.60), 0.5, 0.05)
    assert "further" in verdict(table(0.30, 0.95, 0.60), 0.5, 0.4)
    assert "hardly" in verdict(table(0.30, 0.31, 0.60), 0.5, 0.5)
    assert "nothing" in verdict(table(0.30, 0.10, 0.30), 0.0, 0.1)


def test_singular_value_chart_shows_labelled_top_modules(explorers) -> None:
    anatomy = explorers[0].anatomy()
    fig = singular_values_figure(anatomy, n=3)
    assert len(fig.data) == 3 and len(anatomy) == 8
    top = anatomy.sort_values("norm", ascending=False).iloc[0]
    assert fig.data[0].name.startswith(f"L{top['layer']} {top['module']}")


def test_vlm_compare_flags_image_attention(tmp_path: Path) -> None:
    from tests.test_explorer_vlm import IMAGE, PROMPT as VLM_PROMPT, build_tiny_vlm, build_vlm_adapter, vlm_explorer

    folder = build_tiny_vlm(tmp_path / "vlm")
    explorer = vlm_explorer(folder, build_vlm_adapter(folder, tmp_path / "a", zero_b=False))
    report = explorer.compare(CompareRequest(VLM_PROMPT, image=IMAGE, max_new_tokens=3))
    assert report.limits.is_vlm and report.applies["image_attention"]
    assert report.image_attention["base"].shape == (2, 4)
    assert compare_figures(report, image=IMAGE)["image_attention"] is not None
