"""What the Similarity and Training tabs say, in both languages: verdicts, tallies, run plans.

Why: these sentences are the product ("7 of 11 pairs moved the right way", "finds the same
product first: 54 % → 61 %"); a wrong plural or a verdict that calls a worse adapter better
is a bug a shop owner acts on. Formatters only: no model, no browser.
"""
from __future__ import annotations

import pandas as pd
import pytest

from comparison.matching import PairTally, judge_pairs
from comparison.similarity import PairReport
from tuning.config import TrainConfig, ui_defaults
from tuning.plan import RunPlan, plan_run
from ui.evaluation import metric_table, verdict_md
from ui.similarity import _pairs, example_pairs, pairs_summary, retrieval_md, shown_pairs
from ui.training import shown_encoding
from ui.training_words import plan_md, plan_text

DEV = pd.DataFrame({"model": ["base", "base + adapter"], "recall@1": [0.542, 0.613],
                    "mrr": [0.66, 0.72], "hard_neg_auc": [0.721, 0.84], "mean_cosine": [0.82, 0.55]})


def _report(right: int, labelled: int) -> PairReport:
    frame = pd.DataFrame({"text_a": ["a"], "text_b": ["b"], "base": [0.9], "tuned": [0.8], "delta": [-0.1]})
    return PairReport(frame, PairTally(right, labelled))


def test_verdict_says_what_improved_in_plain_words_ru_and_en() -> None:
    ru, en = verdict_md(DEV, "ru"), verdict_md(DEV, "en")
    assert "Находит тот же товар первым: 54 % → 61 % запросов — больше — лучше: ✓ стало лучше" in ru
    assert "Finds the same product first: 54% → 61% of queries — higher is better: ✓ improved" in en
    assert "0,721 → 0,840" in ru and "0.721 → 0.840" in en
    # mean cosine fell, and that is said to be neither good nor bad
    assert "0,820 → 0,550 — ни рост, ни падение" in ru and "neither up nor down means better" in en
    assert ru.rstrip().endswith("ставится выше похожих.") and "Итог: адаптер помог" in ru
    assert "the adapter helped" in en


def test_verdict_calls_a_worse_adapter_worse() -> None:
    worse = DEV.assign(**{"recall@1": [0.542, 0.444], "hard_neg_auc": [0.721, 0.625]})
    ru, en = verdict_md(worse, "ru"), verdict_md(worse, "en")
    assert "54 % → 44 % запросов — больше — лучше: ✗ стало хуже" in ru
    assert "адаптер не помог" in ru and "did not help" in en


@pytest.mark.parametrize(("right", "labelled", "ru", "en"), [
    (7, 11, "7 из 11 пар сдвинулись в нужную сторону", "7 of 11 pairs moved the right way"),
    (1, 11, "1 из 11 пар сдвинулась в нужную сторону", "1 of 11 pairs moved the right way"),
    (1, 1, "1 из 1 пары сдвинулась в нужную сторону", "1 of 1 pair moved the right way"),
    (3, 21, "3 из 21 пары сдвинулись в нужную сторону", "3 of 21 pairs moved the right way"),
    (21, 25, "21 из 25 пар сдвинулась в нужную сторону", "21 of 25 pairs moved the right way"),
    (0, 4, "0 из 4 пар сдвинулись в нужную сторону", "0 of 4 pairs moved the right way"),
])
def test_pair_tally_with_russian_plurals(right: int, labelled: int, ru: str, en: str) -> None:
    assert ru in pairs_summary(_report(right, labelled), "ru")
    text_en = pairs_summary(_report(right, labelled), "en")
    assert en in text_en
    assert "the source report's metric" in text_en and "only" in text_en  # why lower is not better


def test_unlabelled_pairs_ask_for_labels() -> None:
    assert "«Один товар?»" in pairs_summary(_report(0, 0), "ru")


def test_pairs_table_reads_the_optional_third_column_and_marks_rows() -> None:
    table = example_pairs("ru")
    assert list(table.columns) == ["Товар A", "Товар B", "Один товар?"]
    assert table.iloc[:, 2].tolist()[:3] == ["да", "нет", "нет"] and set(table.iloc[:, 2]) == {"да", "нет"}
    pairs, same = _pairs(pd.DataFrame([["x", "y", "да"], ["", "", ""], ["p", "q", "нет"]]))
    assert pairs == [("x", "y"), ("p", "q")] and same == ["да", "нет"]
    assert _pairs(pd.DataFrame([["x", "y"]])) == ([("x", "y")], [""])  # two columns still work
    frame = pd.DataFrame({"text_a": ["a", "b", "c"], "text_b": ["d", "e", "f"], "base": [0.9] * 3,
                          "tuned": [0.95, 0.95, 0.8], "delta": [0.05, 0.05, -0.1]})
    shown = shown_pairs(judge_pairs(frame, ["да", "нет", ""]), "en")
    assert shown["Same product?"].tolist() == ["yes", "no", ""]
    assert shown["Moved the right way?"].tolist() == ["✓", "✗", ""]


def test_list_retrieval_is_worded_and_empty_without_groups() -> None:
    frame = DEV.assign(model=["base", "tuned"]).set_index("model")
    assert "Ближайшее название из той же категории: 54 % → 61 %" in retrieval_md(frame, "ru")
    assert retrieval_md(None, "ru") == "" and retrieval_md(frame.iloc[:1], "en") == ""


def test_metric_table_headers_in_the_users_language() -> None:
    table = metric_table(DEV, "ru")
    assert table.columns[0] == "Модель" and table.iloc[:, 0].tolist() == ["базовая модель", "база + адаптер"]
    sweep = metric_table(DEV.drop(columns="model").assign(scale=[0.0, 1.0]), "en", key="scale")
    assert "Adapter strength" in sweep.columns


@pytest.mark.parametrize(("plan", "auto", "ru", "en"), [
    (RunPlan(3, 315, 372.0, False), True, "≈ 6 мин, 315 шагов** (3 эпохи, подобрано по размеру корпуса)",
     "≈ 6 min, 315 steps** (3 epochs, chosen from the corpus size)"),
    (RunPlan(1, 1, 40.0, False), False, "≈ 40 с, 1 шаг** (1 эпоха)", "≈ 40 s, 1 step** (1 epoch)"),
    (RunPlan(5, 22, 600.0, True), False, "≈ 10 мин, 22 шага** (5 эпох); остановится по лимиту времени",
     "≈ 10 min, 22 steps** (5 epochs); the time limit stops it"),
])
def test_plan_wording(plan: RunPlan, auto: bool, ru: str, en: str) -> None:
    assert ru in plan_md(plan, auto, "ru") and en in plan_md(plan, auto, "en")


@pytest.mark.parametrize("cfg, share, announced", [
    (TrainConfig(), 0.84, True),  # a catalog of variants: 100 steps instead of 60
    (TrainConfig(), 0.07, False),
    (TrainConfig(epochs=2), 0.84, False),  # epochs set by hand: no step target
    (TrainConfig(max_steps=50), 0.84, False),  # cut below the target: not what it trains
    (TrainConfig(objective="tsdae"), 0.84, False),
])
def test_plan_line_announces_the_longer_run_only_when_it_happens(cfg: TrainConfig, share: float,
                                                                  announced: bool) -> None:
    info = {"n_texts": 135, "variant_share": share}
    for lang, words in (("ru", "100 шагов вместо 60"), ("en", "100 steps instead of 60")):
        assert (words in plan_text(cfg, info, lang)) is announced


def test_the_forms_default_plan_is_the_cli_defaults_plan() -> None:
    cfg = TrainConfig.from_ui(ui_defaults("matching"))
    assert cfg == TrainConfig() and plan_run(cfg, 1000).steps >= TrainConfig().auto_steps


def test_detected_bom_is_shown_as_plain_utf8() -> None:
    assert shown_encoding("utf-8-sig") == "utf-8" and shown_encoding("koi8-r") == "koi8-r"
