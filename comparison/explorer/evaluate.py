"""Auto-scored question set × models: the table seed 001 filled in by hand.

Every model is the ONE loaded model: the base ("__base__") and each named LoRA adapter
on it, generated together in peft's mixed-adapter batches (`adapter_names=`), greedy,
so two runs give the same table. Rules, identical for every model:

* An answer is the generated text up to its first line break (a base LM keeps
  writing "Вопрос: …" lines, which would name characters it was not asked about).
* **correct**: the answer contains one of the question's expected aliases.
* **names another character**: the answer contains an alias of another character of
  the set (a character's aliases are the union of its questions' `expected`), except
  characters the question itself names ("С кем Гена построил…?" → "Гена и Чебурашка").
* Per character × model: "k of n correct"; for an adapter the **status** compares k
  with the base's k: more → improved, fewer → degraded, equal → unchanged. It adds
  **hallucinates «X»** when the adapter's WRONG answers name a character X that the
  base's wrong answers for this character did not (confusion the adapter brought in).

Matching is a case-insensitive substring test with ё = е, on stems ("Чебурашк" catches
every case ending): crude, explicit, and the same for every model.
"""
from __future__ import annotations

import csv
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from comparison.explorer.core import BASE, Explorer
from comparison.explorer.inputs import PromptFormat
from comparison.explorer.questions import DEFAULT_QUESTIONS, Question

SEED_RESULTS = DEFAULT_QUESTIONS.parent / "seed001_results.csv"
SEED_COLUMNS = {"ru": ["конфиг", "персонаж", "роль", "до дообучения", "после дообучения", "статус"],
                "en": ["config", "character", "role", "before", "after", "status (hand-judged, Russian)"]}

DEFAULT_MAX_NEW_TOKENS = 24
QUESTIONS_PER_BATCH = 8
LANGS = ("en", "ru")
TEXT = {  # key: (English, Russian)
    "improved": ("improved",
        "улучшение"),
    "unchanged": ("unchanged",
        "без изменений"),
    "degraded": ("degraded",
        "деградация"),
    "reference": ("base",
        "база"),
    "hallucinates": ("hallucinates",
        "галлюцинирует"),
    "of": ("of",
        "из"),
    "target": ("target",
        "целевой"),
    "control": ("control",
        "контрольный"),
    "role": ("role",
        "роль"),
    "character": ("character",
        "персонаж"),
    "total": ("total",
        "итого"),
    "question": ("question",
        "вопрос"),
    "model": ("model",
        "модель"),
    "answer": ("answer",
        "ответ"),
    "correct": ("correct",
        "верно"),
    "others": ("names another character",
        "назван другой персонаж"),
    "yes": ("yes",
        "да"),
    "no": ("no",
        "нет"),
    "progress": ("{done} of {total} answers, {elapsed:.0f} s elapsed, ≈ {eta:.0f} s left",
        "{done} из {total} ответов, прошло {elapsed:.0f} с, осталось ≈ {eta:.0f} с"),
}


def localise(strings: dict[str, tuple[str, str]], lang: str) -> dict[str, str]:
    """One language's column of a key → (English, Russian) table."""
    if lang not in LANGS:
        raise ValueError(f"lang: must be one of {list(LANGS)}, got {lang!r}")
    return {key: pair[LANGS.index(lang)] for key, pair in strings.items()}


def _t(lang: str) -> dict[str, str]:
    return localise(TEXT, lang)


def _fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def character_aliases(questions: list[Question]) -> dict[str, set[str]]:
    """Character → every alias any of its questions accepts (folded case, ё = е)."""
    aliases: dict[str, set[str]] = {}
    for q in questions:
        aliases.setdefault(q.character, set()).update(_fold(a) for a in q.expected)
    return aliases


def score(answer: str, question: Question, aliases: dict[str, set[str]]) -> tuple[bool, tuple[str, ...]]:
    """(correct, other characters named) for one answer, by the module's rules."""
    text, asked = _fold(answer), _fold(question.question)
    correct = any(_fold(a) in text for a in question.expected)
    others = tuple(c for c, names in aliases.items() if c != question.character
                   and any(a in text for a in names) and not any(a in asked for a in names))
    return correct, others


@dataclass(frozen=True)
class AnswerRow:
    """One model's answer to one question, scored."""

    index: int  # position of the question in the set
    question: str
    character: str
    role: str
    model: str
    answer: str
    correct: bool
    names_others: tuple[str, ...]


@dataclass(frozen=True)
class CharacterResult:
    """One character × model cell of the table."""

    character: str
    role: str
    model: str
    correct: int
    total: int
    status: str  # "reference" (the base) | "improved" | "unchanged" | "degraded"
    hallucinates: tuple[str, ...] = ()

    def cell(self, lang: str) -> str:
        t = _t(lang)
        text = f"{self.correct} {t['of']} {self.total}"
        if self.status != "reference":
            text += f" · {t[self.status]}"
        if self.hallucinates:
            text += f" · {t['hallucinates']} " + ", ".join(f"«{c}»" for c in self.hallucinates)
        return text


@dataclass(frozen=True)
class EvalProgress:
    """How far an evaluation is (answers done of total) and how long the rest should take."""

    done: int
    total: int
    elapsed_s: float

    @property
    def eta_s(self) -> float:
        return self.elapsed_s / self.done * (self.total - self.done) if self.done else float("nan")

    def text(self, lang: str = "en") -> str:
        return _t(lang)["progress"].format(done=self.done, total=self.total, elapsed=self.elapsed_s,
                                           eta=0.0 if self.done == 0 else self.eta_s)


@dataclass
class EvaluationReport:
    """Answers and the characters × models table; `cancelled` marks a partial run."""

    models: list[str]  # display names, base first
    answers: list[AnswerRow]
    results: list[CharacterResult]
    questions: int
    seconds: float
    cancelled: bool = False
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self, lang: str = "en") -> pd.DataFrame:
        """The page's table (and its CSV): role, character, one column per model, totals."""
        t = _t(lang)
        cells = {(r.character, r.model): r for r in self.results}
        order = list(dict.fromkeys((r.role, r.character) for r in sorted(
            self.results, key=lambda r: r.role != "target")))
        rows = []
        for role in ("target", "control"):
            chars = [c for r, c in order if r == role]
            for c in chars:
                rows.append({t["role"]: t[role], t["character"]: c,
                             **{m: cells[(c, m)].cell(lang) for m in self.models}})
            if chars:
                totals = {m: (sum(cells[(c, m)].correct for c in chars), sum(cells[(c, m)].total for c in chars))
                          for m in self.models}
                rows.append({t["role"]: t[role], t["character"]: t["total"],
                             **{m: f"{k} {t['of']} {n}" for m, (k, n) in totals.items()}})
        return pd.DataFrame(rows, columns=[t["role"], t["character"], *self.models])

    def answers_table(self, lang: str = "en") -> pd.DataFrame:
        """Every answer: question, character, role, model, answer, correct, other names."""
        t = _t(lang)
        return pd.DataFrame([{t["question"]: a.question, t["character"]: a.character, t["role"]: t[a.role],
                              t["model"]: a.model, t["answer"]: a.answer,
                              t["correct"]: t["yes"] if a.correct else t["no"],
                              t["others"]: ", ".join(a.names_others)} for a in self.answers])

    def to_csv(self, lang: str = "en") -> str:
        """The table exactly as `table(lang)` shows it."""
        return self.table(lang).to_csv(index=False)


def summarise(answers: list[AnswerRow], models: list[str]) -> list[CharacterResult]:
    """Character × model cells with the status rules of the module docstring."""
    base = models[0]
    groups: dict[tuple[str, str], list[AnswerRow]] = {}
    for a in answers:
        groups.setdefault((a.character, a.model), []).append(a)
    results = []
    for (character, model), rows in groups.items():
        k = sum(a.correct for a in rows)
        base_rows = groups.get((character, base), [])
        base_k = sum(a.correct for a in base_rows)
        wrong = Counter(c for a in rows if not a.correct for c in a.names_others)
        base_wrong = {c for a in base_rows if not a.correct for c in a.names_others}
        if model == base:
            status, new = "reference", ()
        else:
            status = "improved" if k > base_k else "degraded" if k < base_k else "unchanged"
            new = tuple(c for c, _ in wrong.most_common() if c not in base_wrong)
        results.append(CharacterResult(character=character, role=rows[0].role, model=model, correct=k,
                                       total=len(rows), status=status, hallucinates=new))
    return results


def evaluate(explorer: Explorer, questions: list[Question], adapters: list[str] | None = None,
             titles: dict[str, str] | None = None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
             progress: Callable[[EvalProgress], None] | None = None,
             cancel: threading.Event | None = None,
             batch_questions: int = QUESTIONS_PER_BATCH, fmt: PromptFormat = "qa") -> EvaluationReport:
    """Answer every question with the base and each adapter of `explorer`, score, tabulate.

    `adapters`: internal adapter names (default: every adapter loaded on the model);
    `titles`: display names (default `explorer.short_names()`). `cancel` is checked
    between batches; a cancelled run returns the finished questions, marked cancelled.
    `fmt`: how every model is asked (`inputs.format_prompt`); "fewshot" puts two solved
    examples first, which lets a base LM answer in one line what it knows.
    """
    if not questions:
        raise ValueError("questions: the set is empty")
    if not 1 <= int(max_new_tokens) <= 64:
        raise ValueError(f"max_new_tokens: must be 1 … 64, got {max_new_tokens}")
    if not explorer.loaded.is_vlm and any(q.image is not None for q in questions):
        n = next(i for i, q in enumerate(questions, 1) if q.image is not None)
        raise ValueError(f"questions: question {n} has an image but the loaded model is text-only")
    names = [BASE, *(adapters if adapters is not None else list(explorer.adapters()))]
    unknown = [n for n in names[1:] if n not in explorer.adapters()]
    if unknown:
        raise ValueError(f"adapters: not loaded: {', '.join(unknown)}")
    shown = {**explorer.short_names(), **(titles or {})}
    models = [shown.get(n, n) for n in names]
    aliases = character_aliases(questions)
    step = 1 if explorer.loaded.is_vlm else max(1, int(batch_questions))
    total, answers, start, cancelled = len(questions) * len(names), [], time.perf_counter(), False
    for lo in range(0, len(questions), step):
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        chunk = questions[lo:lo + step]
        rows = [(i, q, n) for i, q in enumerate(chunk, lo) for n in names]
        texts = explorer.batch_answers([q.question for _, q, _ in rows], [n for _, _, n in rows],
                                       images=[q.image for _, q, _ in rows],
                                       max_new_tokens=int(max_new_tokens), first_line=True, fmt=fmt)
        for (i, q, n), text in zip(rows, texts):
            correct, others = score(text, q, aliases)
            answers.append(AnswerRow(index=i, question=q.question, character=q.character, role=q.role,
                                     model=shown.get(n, n), answer=text, correct=correct,
                                     names_others=others))
        if progress is not None:
            progress(EvalProgress(done=len(answers), total=total, elapsed_s=time.perf_counter() - start))
    return EvaluationReport(models=models, answers=answers, results=summarise(answers, models),
                            questions=len({a.index for a in answers}), seconds=time.perf_counter() - start,
                            cancelled=cancelled, max_new_tokens=int(max_new_tokens),
                            meta={"model": explorer.model_label, "format": fmt})


def seed_results_table(lang: str = "en") -> pd.DataFrame:
    """Seed 001's own hand-judged table (a VLM on images), shown beside ours as it was written."""
    _t(lang)
    with SEED_RESULTS.open(encoding="utf-8", newline="") as f:
        rows = [[r["config"], r["character"], r["role"], r["before"], r["after"], r["status"]]
                for r in csv.DictReader(f)]
    return pd.DataFrame(rows, columns=SEED_COLUMNS[lang])
