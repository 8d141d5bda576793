"""The explorer tab's own logic without a browser: range refusals in the user's language, answer detail."""
from __future__ import annotations

import gradio as gr
import pytest

from comparison.explorer import CompareRequest, ModelLimits
from comparison.explorer.evaluate import AnswerRow, EvaluationReport, summarise
from comparison.explorer.questions import Question
from ui.explorer import _check
from ui.explorer_eval import answer_detail

LIMITS = ModelLimits(layers=18, heads=4, is_vlm=False)


@pytest.mark.parametrize("lang, head_text, layer_text", [
    ("ru", "голов внимания у этой модели — 4, выберите 0 … 3", "слоёв у этой модели — 18, выберите 0 … 17"),
    ("en", "this model has 4 attention heads, choose 0 … 3", "this model has 18 layers, choose 0 … 17")])
def test_bad_head_or_layer_is_refused_in_the_users_language(lang: str, head_text: str, layer_text: str) -> None:
    with pytest.raises(gr.Error, match=head_text):
        _check(CompareRequest("Кто?", head=31), LIMITS, lang)
    with pytest.raises(gr.Error, match=layer_text):
        _check(CompareRequest("Кто?", layer=63), LIMITS, lang)
    _check(CompareRequest("Кто?", layer=17, head=3), LIMITS, lang)  # in range: no refusal
    _check(CompareRequest("Кто?", layer=63), None, lang)  # limits unknown yet: the backend checks later


def test_an_opened_answer_shows_question_both_answers_and_verdict() -> None:
    q = Question("Кто жил в будке?", ("Чебурашка",), "Чебурашка", "target")
    rows = [AnswerRow(0, q.question, q.character, q.role, "base", "Гена", False, ("Крокодил Гена",)),
            AnswerRow(0, q.question, q.character, q.role, "v1", "Чебурашка", True, ())]
    report = EvaluationReport(models=["base", "v1"], answers=rows, results=summarise(rows, ["base", "v1"]),
                              questions=1, seconds=1.0)
    text = answer_detail(report, [q], 1, "ru")
    assert "Кто жил в будке?" in text and "**База:** Гена" in text and "**v1:** Чебурашка" in text
    assert "Вердикт:** верно" in text
    assert "names another character: Крокодил Гена" in answer_detail(report, [q], 0, "en")
    assert answer_detail(report, [q], None, "en") == ""


def test_torch_threads_is_set_for_the_block_and_restored(monkeypatch) -> None:
    import torch

    from comparison.basics import torch_threads

    before = torch.get_num_threads()
    monkeypatch.setenv("LORA_LENS_EXPLORER_THREADS", "1")
    with torch_threads() as n:
        assert n == torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    monkeypatch.setenv("LORA_LENS_EXPLORER_THREADS", "0")
    with torch_threads() as n:
        assert n == before


def _facts(layers: list[int]) -> dict:
    return {"answer": {"changed": True, "word": 2, "base_word": "-", "lora_word": "—"},
            "next_token": {"base_top": "Че", "lora_top": "Че", "top_changed": False,
                           "gained": {"token": "Че", "base": 0.5, "lora": 1.0}},
            "size": {"kl": 0.695, "band": "strong"},
            "writes": {"zero": False, "kind": "q", "kind_share": 0.42, "kinds": ["q"], "layers": layers,
                       "layers_share": 0.24},
            "attention": {"moved": True, "layer": 14, "js": 0.086}, "prompt": {"kind": "no", "closed": -0.1,
                                                                                "same_top1": True}}


def test_the_reading_is_worded_with_russian_plurals() -> None:
    from ui.explorer_reading import summary, take_apart_text

    one, three = summary(_facts([12]), "ru"), summary(_facts([12, 16, 14]), "ru")
    assert "в 1 слое: 12 (24 %)" in one and "в 3 слоях: 12, 16, 14" in three
    assert "Ответ изменился, начиная со слова № 2**: без адаптера «-», с LoRA «—»" in one
    assert "закрывает 0 % разрыва, первый токен тот же" in one and "**сильное** (KL = 0.695 нат" in one
    assert "in 1 layer: 12" in summary(_facts([12]), "en") and "in 3 layers: 12, 16, 14" in summary(_facts([12, 16, 14]), "en")
    base = {"survives": False, "parts_modules": "o", "parts_layers": "12-17", "layers_on": 6,
            "answers": {"base": "a\nb", "full": "c", "part": ""}, "kl_to_base": 0.7, "kl_to_full": 1.5, "share": 0.34}
    for n, word in ((1, "шаг"), (3, "шага"), (5, "шагов"), (21, "шаг")):
        text = take_apart_text({**base, "matched": n}, "ru")
        assert f"совпадает {n} {word})" in text and "o_proj · слои 12–17" in text and "a ⏎ b" in text
