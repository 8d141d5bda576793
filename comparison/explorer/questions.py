"""Question sets for the explorer's evaluation: the shipped held-out file or an upload.

One jsonl line per question:
``{"question": str, "expected": [aliases], "character": str, "role": "target"|"control",
"image": "relative/path.png" (optional, for a vision-language model)}``.
An upload is untrusted: size, encoding, every field and every image path are checked
before any model work, and a refusal names the line and the field, so a user can fix
the file instead of guessing. Image paths must stay inside the file's folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["target", "control"]
ROLES: dict[str, Role] = {"target": "target", "control": "control",
                          "целевой": "target", "контрольный": "control"}
DEFAULT_QUESTIONS = Path(__file__).resolve().parents[2] / "examples" / "cartoon_eval.jsonl"
MAX_QUESTIONS = 500
MAX_FILE_BYTES = 1_000_000
MAX_QUESTION_CHARS = 500
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


class QuestionFileError(ValueError):
    """A question file that cannot be used; the message says which line and field."""


@dataclass(frozen=True)
class Question:
    """One held-out question and the names that count as a right answer."""

    question: str
    expected: tuple[str, ...]
    character: str
    role: Role
    image: Path | None = None

    def __post_init__(self) -> None:
        if not self.question.strip() or not self.expected or not self.character.strip():
            raise ValueError("question: question, expected and character must not be empty")
        if self.role not in ("target", "control"):
            raise ValueError(f"role: must be target or control, got {self.role!r}")


def _text(value: object, field: str, line: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise QuestionFileError(f"questions: line {line}: {field!r} must be a non-empty string")
    return value.strip()


def _image(value: object, root: Path, line: int) -> Path | None:
    if value is None or value == "":
        return None
    rel = _text(value, "image", line)
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise QuestionFileError(f"questions: line {line}: image {rel!r} points outside the file's folder")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise QuestionFileError(f"questions: line {line}: image {rel!r} must be png, jpg or webp")
    if not path.is_file():
        raise QuestionFileError(f"questions: line {line}: image {rel!r} does not exist")
    return path


def parse_question(row: object, line: int, root: Path) -> Question:
    """One checked Question from a decoded json line."""
    if not isinstance(row, dict):
        raise QuestionFileError(f"questions: line {line}: must be a JSON object")
    question = _text(row.get("question"), "question", line)
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionFileError(f"questions: line {line}: question longer than {MAX_QUESTION_CHARS} characters")
    expected = row.get("expected")
    if isinstance(expected, str):
        expected = [expected]
    if not isinstance(expected, list) or not expected or not all(isinstance(a, str) and a.strip()
                                                                 for a in expected):
        raise QuestionFileError(f"questions: line {line}: 'expected' must be a list of names (strings)")
    role = ROLES.get(str(row.get("role", "")).strip().lower())
    if role is None:
        raise QuestionFileError(f"questions: line {line}: 'role' must be 'target' or 'control', "
                                f"got {row.get('role')!r}")
    return Question(question=question, expected=tuple(a.strip() for a in expected),
                    character=_text(row.get("character"), "character", line), role=role,
                    image=_image(row.get("image"), root, line))


def load_questions(path: Path | str | None = None) -> list[Question]:
    """The checked questions of a jsonl file (default: the shipped held-out set)."""
    path = Path(path) if path is not None else DEFAULT_QUESTIONS
    if not path.is_file():
        raise QuestionFileError(f"questions: {path.name} does not exist")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise QuestionFileError(f"questions: the file is {size} bytes, at most {MAX_FILE_BYTES}")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise QuestionFileError("questions: this is a binary file, not jsonl text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionFileError(f"questions: the file is not UTF-8 (byte {exc.start})") from exc
    rows: list[Question] = []
    seen: set[tuple[str, str]] = set()
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            decoded = json.loads(content)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"questions: line {line} is not valid JSON ({exc.msg})") from exc
        q = parse_question(decoded, line, path.parent)
        key = (q.question.lower(), str(q.image))
        if key in seen:
            raise QuestionFileError(f"questions: line {line} repeats an earlier question")
        seen.add(key)
        rows.append(q)
        if len(rows) > MAX_QUESTIONS:
            raise QuestionFileError(f"questions: at most {MAX_QUESTIONS} questions")
    if not rows:
        raise QuestionFileError("questions: the file holds no questions")
    return rows
