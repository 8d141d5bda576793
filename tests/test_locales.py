"""Every string in both languages; Russian plurals by the real rule; labels for every chart."""
from __future__ import annotations

import string

import pytest

from comparison.charts import explorer as exp_charts
from comparison.charts import similarity as sim_charts
from comparison.charts import training as training_charts
from tuning.config import PRESETS, UI_FIELDS
from ui.locales import LANGS, TEXT, chart_labels, localize_label, plural, plural_ru, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXT))
def test_every_key_has_every_language_with_the_same_placeholders(key: str) -> None:
    entry = TEXT[key]
    assert set(entry) == set(LANGS) and all(entry[lang].strip() for lang in LANGS)
    assert _fields(entry["ru"]) == _fields(entry["en"])


@pytest.mark.parametrize("n, word", [(1, "шаг"), (2, "шага"), (3, "шага"), (5, "шагов"), (11, "шагов"),
                                     (12, "шагов"), (14, "шагов"), (21, "шаг"), (22, "шага"),
                                     (25, "шагов"), (101, "шаг"), (111, "шагов"), (0, "шагов")])
def test_russian_plural(n: int, word: str) -> None:
    assert plural(n, "steps", "ru") == word
    assert plural_ru(n, "шаг", "шага", "шагов") == word


def test_english_plural() -> None:
    assert (plural(1, "texts", "en"), plural(2, "texts", "en"), plural(0, "texts", "en")) == \
        ("text", "texts", "texts")


def test_every_chart_word_is_translated() -> None:
    for chart, defaults in (("similarity", sim_charts.DEFAULT_LABELS), ("explorer", exp_charts.DEFAULT_LABELS),
                            ("training", training_charts.DEFAULT_LABELS)):
        for lang in LANGS:
            assert set(chart_labels(chart, lang)) == set(defaults), chart


def test_every_setting_preset_and_status_is_worded() -> None:
    for lang in LANGS:
        for name in UI_FIELDS:
            assert f"({name})" in t(f"field_{name}", lang) and t(f"help_{name}", lang)
        for key in PRESETS:
            assert t(f"preset_{key}", lang)
        for status in ("completed", "cancelled", "time_budget"):
            assert t(f"status_{status}", lang)


def test_package_labels_are_localized_but_keep_model_names() -> None:
    label = "example: e5-products-contrastive (trained by LoRA Lens on examples/)"
    assert localize_label(label, "ru") == "пример: e5-products-contrastive (обучен в LoRA Lens на examples/)"
    assert localize_label(label, "en") == label


def test_language_switch_relabels_dropdown_options_not_their_values() -> None:
    import gradio as gr

    from ui import training
    from ui.common import Labels

    labels = Labels()
    with gr.Blocks():
        training.build(labels, "ru")
    items = [(key, attr) for _, key, attr in labels.items if attr == "choices"]
    assert {key[0] for key, _ in items} >= {"preset_", "obj_"}
    for lang in LANGS:
        for upd, (_, key, attr) in zip(labels.updates(lang), labels.items):
            if attr == "choices":
                assert [v for _, v in upd["choices"]] == list(key[1])
                assert [w for w, _ in upd["choices"]] == [t(key[0] + v, lang) for v in key[1]]


def test_adapter_picker_says_where_the_examples_fall_short_in_each_language() -> None:
    """Issue #18's measurement in plain words beside the picker, redone by the language switch."""
    import gradio as gr

    from ui import similarity
    from ui.common import Labels

    labels = Labels()
    with gr.Blocks():
        c = similarity.build(labels, "ru")
    assert "путают чаще" in c["adapter"].info
    for lang, words in (("ru", "обучите адаптер на нём"), ("en", "train an adapter on it")):
        infos = [upd["info"] for upd, (comp, key, attr) in zip(labels.updates(lang), labels.items)
                 if comp is c["adapter"] and attr == "info"]
        assert len(infos) == 1 and words in infos[0]


def test_adapter_picker_options_speak_the_page_language_and_keep_their_names(monkeypatch) -> None:
    from ui import common

    english = [("example: e5-products-contrastive (trained by LoRA Lens on examples/)", "default"),
               ("the report's adapter (TSDAE), Hub: TimeNtWait/x", "hub-report"), ("my-run", "s1:my-run")]
    monkeypatch.setattr(common.encoders, "adapter_choices", lambda session: english)
    ru = common.adapter_choices("s1", "ru")
    assert [n for _, n in ru] == [n for _, n in english]
    assert ru[0][0] == "пример: e5-products-contrastive (обучен в LoRA Lens на examples/)"
    assert ru[1][0] == "адаптер из отчёта (TSDAE), Hub: TimeNtWait/x" and ru[2][0] == "my-run"
    assert common.adapter_choices("s1", "en") == english
