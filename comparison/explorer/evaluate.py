"""Auto-scored question set × adapters: the table seed 001 filled in by hand.

A question counts as correct if the answer names one of its expected aliases, and as a
hallucination if it names another character of the set (aliases of a character are the
union of the `expected` lists of its questions). Matching is a case-insensitive
substring test on stems ("Чебурашк" catches every case ending), crude but explicit and
identical for every adapter, which is what a comparison needs.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from comparison.explorer.adapter_io import adapter_folder, attach_adapter
from comparison.explorer.core import Explorer
from comparison.explorer.loading import LoadedModel

MAX_QUESTIONS = 500


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Rows {"question", "expected": [aliases], "character"} from a jsonl file, checked."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("question"), str) or not row.get("expected") or not row.get("character"):
            raise ValueError(f"questions: line {n} needs question, expected (list) and character")
        rows.append({"question": row["question"], "expected": [str(a) for a in row["expected"]],
                     "character": str(row["character"])})
    if not 1 <= len(rows) <= MAX_QUESTIONS:
        raise ValueError(f"questions: need 1 … {MAX_QUESTIONS} questions, got {len(rows)}")
    return rows


def character_aliases(questions: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Character → every alias any of its questions accepts (lower case)."""
    aliases: dict[str, set[str]] = {}
    for row in questions:
        aliases.setdefault(row["character"], set()).update(a.lower() for a in row["expected"])
    return aliases


def score(answer: str, expected: list[str], character: str,
          aliases: dict[str, set[str]]) -> tuple[bool, list[str]]:
    """(correct, other characters named) for one answer."""
    text = answer.lower()
    correct = any(a.lower() in text for a in expected)
    others = [c for c, names in aliases.items() if c != character and any(a in text for a in names)]
    return correct, others


def evaluate(loaded: LoadedModel, questions: list[dict[str, Any]],
             adapters: dict[str, str | Path | None], work_dir: Path,
             max_new_tokens: int = 48) -> pd.DataFrame:
    """One row per (adapter, question): answer, correct, hallucinated characters.

    `adapters` maps a label to an adapter spec; None means the base model. Each adapter is
    attached to the same base weights, used, then unloaded again.
    """
    aliases = character_aliases(questions)
    rows = []
    for label, spec in adapters.items():
        model = loaded.model
        if spec is not None:
            model = attach_adapter(loaded.model, adapter_folder(spec, work_dir))
        try:
            view = LoadedModel(model=model, tokenizer=loaded.tokenizer, processor=loaded.processor,
                               is_vlm=loaded.is_vlm, source=loaded.source,
                               load_seconds=loaded.load_seconds, rss_mb=loaded.rss_mb)
            explorer = Explorer(view, adapter_label=label)
            for q in questions:
                enc = explorer.encode(q["question"])
                answer = explorer.answer(enc, lora=spec is not None, max_new_tokens=max_new_tokens)
                correct, others = score(answer, q["expected"], q["character"], aliases)
                rows.append({"adapter": label, "character": q["character"], "question": q["question"],
                             "answer": answer, "correct": correct, "hallucination": bool(others),
                             "named_instead": ", ".join(others)})
        finally:
            if spec is not None:
                model.unload()
    return pd.DataFrame(rows)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Character × adapter cells like "2 of 3 (+1 hallucination)", as in seed 001."""
    def cell(sub: pd.DataFrame) -> str:
        text = f"{int(sub['correct'].sum())} of {len(sub)}"
        wrong = int(sub["hallucination"].sum())
        return text + (f" (+{wrong} hallucination{'s' if wrong > 1 else ''})" if wrong else "")

    cells = {key: cell(sub) for key, sub in results.groupby(["character", "adapter"], sort=False)}
    table = pd.Series(cells).unstack()
    return table[list(dict.fromkeys(results["adapter"]))]
