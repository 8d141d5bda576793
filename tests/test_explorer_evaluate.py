"""Evaluation (question set × base + adapters): rules, report/CSV agreement, refusals, VLM rows."""
from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from comparison.charts.explorer import evaluation_figure
from comparison.explorer import Explorer
from comparison.explorer.evaluate import (AnswerRow, EvalProgress, character_aliases, evaluate, score,
                                          seed_results_table, summarise)
from comparison.explorer.questions import DEFAULT_QUESTIONS, Question, QuestionFileError, load_questions
from ui.locales import chart_labels
from tests.test_explorer_text import build_adapter, build_tiny_lm, make_explorer

CHEB = Question("Кто жил в будке ?", ("Чебурашка", "Чебурашк"), "Чебурашка", "target")
GENA = Question("Кто друг Чебурашки ?", ("Гена",), "Крокодил Гена", "target")
SPIDER = Question("Кто такой Питер ?", ("Человек-паук",), "Человек-паук", "control")


def test_score_rules_fold_case_and_ignore_characters_the_question_names() -> None:
    aliases = character_aliases([CHEB, GENA, SPIDER])
    assert score("это ЧЕБУРАШКУ нашли", CHEB, aliases) == (True, ())
    assert score("Это Гена", CHEB, aliases) == (False, ("Крокодил Гена",))
    # the question names Чебурашка, so naming him in an answer about Гена is not a confusion
    assert score("Гена, друг Чебурашки", GENA, aliases) == (True, ())
    assert score("Человек-паук", CHEB, aliases) == (False, ("Человек-паук",))
    assert score("Алёша", Question("Кто богатырь ?", ("Алеша",), "Алеша Попович", "target"),
                 {"Алеша Попович": {"алеша"}}) == (True, ())


def rows(model: str, character: str, role: str, verdicts: list[tuple[bool, tuple[str, ...]]]) -> list[AnswerRow]:
    return [AnswerRow(index=i, question=f"q{i}", character=character, role=role, model=model, answer="a",
                      correct=c, names_others=o) for i, (c, o) in enumerate(verdicts)]


def test_status_rules_and_table_csv_agree() -> None:
    answers = (rows("base", "Чебурашка", "target", [(False, ("Крокодил Гена",)), (False, ()), (True, ())])
               + rows("v1", "Чебурашка", "target", [(True, ()), (True, ()), (False, ("Колобок",))])
               + rows("v2", "Чебурашка", "target", [(False, ("Крокодил Гена",)), (False, ()), (True, ())])
               + rows("base", "Супермен", "control", [(True, ()), (True, ())])
               + rows("v1", "Супермен", "control", [(True, ()), (False, ("Чебурашка",))])
               + rows("v2", "Супермен", "control", [(True, ()), (True, ())]))
    results = {(r.character, r.model): r for r in summarise(answers, ["base", "v1", "v2"])}
    assert results[("Чебурашка", "base")].status == "reference"
    assert results[("Чебурашка", "v1")].status == "improved" and results[("Чебурашка", "v1")].hallucinates == ("Колобок",)
    # the base already confused Чебурашка with Гена: the same confusion is not the adapter's doing
    assert results[("Чебурашка", "v2")].status == "unchanged" and results[("Чебурашка", "v2")].hallucinates == ()
    assert results[("Супермен", "v1")].status == "degraded" and results[("Супермен", "v1")].hallucinates == ("Чебурашка",)
    from comparison.explorer.evaluate import EvaluationReport

    report = EvaluationReport(models=["base", "v1", "v2"], answers=answers, results=list(results.values()),
                              questions=5, seconds=1.0)
    for lang in ("ru", "en"):
        table = report.table(lang)
        assert table.equals(pd.read_csv(io.StringIO(report.to_csv(lang)), dtype=str).fillna(""))
    en = report.table("en")
    assert list(en.columns) == ["role", "character", "base", "v1", "v2"]
    assert list(en["character"]) == ["Чебурашка", "total", "Супермен", "total"]
    assert en.iloc[0]["v1"] == "2 of 3 · improved · hallucinates «Колобок»"
    assert en.iloc[3]["v1"] == "1 of 2"
    ru = report.table("ru")
    assert ru.iloc[2]["v1"] == "1 из 2 · деградация · галлюцинирует «Чебурашка»"
    assert ru.iloc[2]["роль"] == "контрольный"
    assert len(report.answers_table("ru")) == len(answers)
    fig = evaluation_figure(report, chart_labels("explorer", "ru"))
    assert fig.layout.title.text.startswith("Верные") and len(fig.data) == 3


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines),
                    encoding="utf-8")
    return path


GOOD = {"question": "Кто это ?", "expected": ["Гена"], "character": "Крокодил Гена", "role": "target"}


@pytest.mark.parametrize("lines, message", [
    ([], "no questions"),
    (["{not json"], "line 1 is not valid JSON"),
    ([GOOD, {**GOOD, "question": "Q2", "role": "friend"}], "line 2: 'role'"),
    ([{**GOOD, "expected": "  "}], "line 1: 'expected'"),
    ([{**GOOD, "expected": [1]}], "line 1: 'expected'"),
    ([{**GOOD, "character": ""}], "line 1: 'character'"),
    ([[1, 2]], "line 1: must be a JSON object"),
    ([GOOD, GOOD], "line 2 repeats"),
    ([{**GOOD, "image": "../secret.png"}], "outside the file's folder"),
    ([{**GOOD, "image": "missing.png"}], "does not exist"),
    ([{**GOOD, "image": "x.gif"}], "png, jpg or webp"),
])
def test_bad_question_files_are_refused_with_the_line(tmp_path: Path, lines: list, message: str) -> None:
    with pytest.raises(QuestionFileError, match=message):
        load_questions(write_jsonl(tmp_path / "q.jsonl", lines))


def test_binary_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_bytes(b"\x00\x01PK\x03")
    with pytest.raises(QuestionFileError, match="binary"):
        load_questions(tmp_path / "b.jsonl")
    (tmp_path / "c.jsonl").write_bytes(json.dumps(GOOD, ensure_ascii=False).encode("cp1251"))
    with pytest.raises(QuestionFileError, match="not UTF-8"):
        load_questions(tmp_path / "c.jsonl")


def test_default_set_has_50_questions_with_roles() -> None:
    questions = load_questions()
    assert len(questions) == 50 and questions[0].role == "target"
    assert {q.character for q in questions if q.role == "control"} == {"Матрешка", "Человек-паук", "Супермен",
                                                                       "Столицы"}
    assert DEFAULT_QUESTIONS.name == "cartoon_eval.jsonl"
    assert len(seed_results_table("en")) == 28 and seed_results_table("ru").columns[0] == "конфиг"


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Explorer:
    """A tiny LM with two named adapters on the ONE model (random B and zero B)."""
    folder = build_tiny_lm(tmp_path_factory.mktemp("lm"))
    explorer = make_explorer(folder, None)
    explorer.add_adapter("rand", build_adapter(folder, tmp_path_factory.mktemp("r"), zero_b=False), "random")
    explorer.add_adapter("zero", build_adapter(folder, tmp_path_factory.mktemp("z"), zero_b=True), "zero")
    return explorer


TINY = [Question("Кто такой Чебурашка ?", ("Гена",), "Крокодил Гена", "target"),
        Question("Кто такой Колобок ?", ("Колобок",), "Колобок", "target"),
        Question("Кто такой Гена ?", ("Чебурашка",), "Чебурашка", "control")]


def test_evaluate_runs_base_and_every_adapter_with_progress(multi: Explorer) -> None:
    seen: list[EvalProgress] = []
    report = evaluate(multi, TINY, max_new_tokens=3, progress=seen.append, batch_questions=2)
    assert report.models == ["base", "rand", "zero"] and not report.cancelled
    assert len(report.answers) == 9 and report.questions == 3
    assert [p.done for p in seen] == [6, 9] and seen[-1].total == 9 and seen[-1].eta_s == 0
    assert "of 9 answers" in seen[0].text("en") and "из 9" in seen[0].text("ru")
    by = {(a.index, a.model): a.answer for a in report.answers}
    single = multi.batch_answers([q.question for q in TINY], ["__base__"] * 3, max_new_tokens=3)
    assert [by[(i, "base")] for i in range(3)] == single  # mixed batches answer like a base-only batch
    assert len(report.table("en")) == 2 + 1 + 1 + 1  # targets: 2 + total; controls: 1 + total
    with pytest.raises(ValueError, match="not loaded"):
        evaluate(multi, TINY, adapters=["nope"])


def test_cancel_between_batches_returns_a_marked_partial_report(multi: Explorer) -> None:
    cancel = threading.Event()
    report = evaluate(multi, TINY, max_new_tokens=2, batch_questions=1, cancel=cancel,
                      progress=lambda p: cancel.set())
    assert report.cancelled and report.questions == 1 and len(report.answers) == 3


def test_text_model_refuses_an_image_question(multi: Explorer, tmp_path: Path) -> None:
    q = Question("Кто это ?", ("Гена",), "Крокодил Гена", "target", image=tmp_path / "x.png")
    with pytest.raises(ValueError, match="question 1 has an image"):
        evaluate(multi, [q])


def test_vlm_rows_go_through_the_processor(tmp_path: Path) -> None:
    from tests.test_explorer_vlm import IMAGE, build_tiny_vlm, build_vlm_adapter, vlm_explorer

    folder = build_tiny_vlm(tmp_path / "vlm")
    explorer = vlm_explorer(folder, build_vlm_adapter(folder, tmp_path / "a", zero_b=False))
    IMAGE.save(tmp_path / "cheb.png")
    path = write_jsonl(tmp_path / "q.jsonl", [
        {"question": "Кто это ?", "expected": ["Чебурашка"], "character": "Чебурашка", "role": "target",
         "image": "cheb.png"},
        {"question": "Кто это ?", "expected": ["Гена"], "character": "Крокодил Гена", "role": "control"}])
    questions = load_questions(path)
    assert questions[0].image == (tmp_path / "cheb.png").resolve() and questions[1].image is None
    report = evaluate(explorer, questions, max_new_tokens=3)
    assert report.models == ["base", "LoRA"] and len(report.answers) == 4
    with_image = explorer.batch_answers(["Кто это ?"], ["__base__"], images=[IMAGE], max_new_tokens=3)
    assert report.answers[0].answer == with_image[0]
