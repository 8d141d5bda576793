"""Corpus loading: any common text/table file in, a clean list of unique texts out.

Uploads are untrusted and messy (Excel exports in cp1251 or UTF-16, BOMs, KOI8-R, semicolons, binary files
renamed to .csv), so every failure becomes a `CorpusError` with a plain-language message the
UI can show, and the size limit is checked before a single byte is parsed.
"""
from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tuning.encodings import OFFERED_ENCODINGS, EncodingError, decode
from tuning.variants import template_sibling_share

from comparison.basics import clean_text

TEXT_SUFFIXES = {".txt", ".csv", ".tsv", ".jsonl"}
TABLE_SUFFIXES = {".xlsx", ".parquet"}
SUFFIXES = TEXT_SUFFIXES | TABLE_SUFFIXES
__all__ = ["Corpus", "CorpusError", "CorpusLimits", "clean_text", "load_corpus", "preview"]


class CorpusError(ValueError):
    """The corpus file cannot be used; the message is meant for the user."""


@dataclass
class CorpusLimits:
    """Safety limits; the defaults fit a free CPU Space."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 100_000
    min_words: int = 1
    min_chars: int = 3
    max_chars: int = 5_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "min_chars", "max_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.min_words < 0:
            raise ValueError("min_words must be >= 0")
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars must not exceed max_chars")


@dataclass
class Corpus:
    """Clean texts plus what happened on the way (shown in the preview)."""

    texts: list[str]
    encoding: str | None
    columns: list[str]
    text_column: str | None
    n_raw: int
    n_clean: int
    dropped: dict[str, int] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)


def _decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Bytes to text, or a CorpusError: never mojibake (the rules are in tuning/encodings.py)."""
    try:
        return decode(raw, encoding)
    except EncodingError as exc:
        raise CorpusError(str(exc)) from None


def _read_table(path: Path, raw: bytes,
                encoding: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Parse the file into a DataFrame of strings; returns (frame, encoding)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        if not raw.startswith(b"PK"):
            raise CorpusError("This is not a text/table file (not a real .xlsx workbook).")
        try:
            return pd.read_excel(io.BytesIO(raw), dtype=str, engine="openpyxl"), None
        except Exception as exc:  # openpyxl raises many types for broken workbooks
            raise CorpusError(f"Could not read the Excel file: {exc}") from None
    if suffix == ".parquet":
        if not raw.startswith(b"PAR1"):
            raise CorpusError("This is not a text/table file (not a real .parquet file).")
        try:
            return pd.read_parquet(io.BytesIO(raw)).astype("string").astype(object), None
        except Exception as exc:
            raise CorpusError(f"Could not read the Parquet file: {exc}") from None
    text, encoding = _decode(raw, encoding)
    if not text.strip():
        raise CorpusError("The file is empty.")
    if suffix == ".txt":
        return pd.DataFrame({"text": text.splitlines()}), encoding
    if suffix == ".jsonl":
        try:
            frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
        except ValueError as exc:
            raise CorpusError(f"Could not read JSON lines (one JSON object per line): {exc}") from None
        return frame.astype(object).where(frame.notna(), None), encoding
    sep = "\t" if suffix == ".tsv" else _sniff_delimiter(text)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                                on_bad_lines="warn", engine="python")
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise CorpusError(f"Could not read the table: {exc}") from None
    # Rows pandas skipped (a field over csv's 128 KB limit, a broken quote) are counted, so
    # they are reported instead of vanishing without a trace.
    frame.attrs["malformed"] = sum("Skipping line" in str(w.message) for w in caught)
    return frame, encoding


def _sniff_delimiter(text: str) -> str:
    """The delimiter under which the first 50 lines read as one table: a header of two or
    more columns and as many rows as possible of that width (quotes honoured).

    Why not `csv.Sniffer` alone: on a `;`-separated export whose titles hold commas and
    quoted inches ("43"" (109 см)") it picks ',' and the whole file becomes one column. It
    still decides when no delimiter gives such a table."""
    sample = "\n".join(text.splitlines()[:50])
    best, best_rows = None, 0
    for delimiter in ",;\t|":
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        same = 1 + sum(len(r) == len(rows[0]) for r in rows[1:])
        if same > best_rows:
            best, best_rows = delimiter, same
    if best is not None:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _pick_column(frame: pd.DataFrame, text_column: str | None) -> str:
    columns = [str(c) for c in frame.columns]
    if text_column:
        if text_column not in columns:
            raise CorpusError(f"Column {text_column!r} is not in the file (columns: {', '.join(columns)}).")
        return text_column
    best, best_len = None, 0.0
    for col in frame.columns:
        values = frame[col].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty or values.str.fullmatch(r"[-+.,\d\s%]+").mean() > 0.9:
            continue  # numbers, ids and prices are not texts
        mean_len = float(values.str.len().mean())
        if mean_len > best_len:
            best, best_len = str(col), mean_len
    if best is None:
        raise CorpusError(f"No text column found (columns: {', '.join(columns) or 'none'}).")
    return best


def load_corpus(path: Path, text_column: str | None = None, limits: CorpusLimits | None = None,
                encoding: str | None = None) -> Corpus:
    """Read, clean, filter and de-duplicate a corpus file; raise CorpusError when unusable.

    `encoding` (one of OFFERED_ENCODINGS, or any Python codec name) overrides detection for
    text files; a choice that turns the file into mojibake is refused, not used.
    """
    limits = limits or CorpusLimits()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CorpusError(f"Unsupported file type {suffix or '(none)'}; use one of "
                          f"{', '.join(sorted(SUFFIXES))}.")
    if not path.is_file():
        raise CorpusError("The file does not exist.")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise CorpusError(f"The file is {size / 2**20:.1f} MB; the limit is "
                          f"{limits.max_bytes / 2**20:.0f} MB.")
    if size == 0:
        raise CorpusError("The file is empty.")
    raw = path.read_bytes()
    frame, encoding = _read_table(path, raw, encoding)
    if len(frame) > limits.max_rows:
        raise CorpusError(f"The file has {len(frame):,} rows; the limit is {limits.max_rows:,}. "
                          "Take a sample or split the file.")
    malformed = int(frame.attrs.get("malformed", 0))
    if frame.empty and malformed:
        raise CorpusError(f"None of the {malformed:,} rows could be read (a field longer than "
                          f"{csv.field_size_limit():,} characters or a broken quote).")
    if frame.empty or frame.shape[1] == 0:
        raise CorpusError("The file has no rows (a header alone is not a corpus).")
    column = _pick_column(frame, text_column)
    raw_texts = ["" if v is None or (isinstance(v, float) and v != v) else str(v)
                 for v in frame[column].tolist()]
    texts, dropped = _filter(raw_texts, limits)
    if malformed:
        dropped["malformed"] = malformed
    if not texts:
        reasons = ", ".join(f"{k}: {v}" for k, v in dropped.items() if v)
        raise CorpusError(f"No usable texts in column {column!r} ({reasons}).")
    return Corpus(texts=texts, encoding=encoding, columns=[str(c) for c in frame.columns],
                  text_column=column, n_raw=len(raw_texts), n_clean=len(texts),
                  dropped=dropped, sample=texts[:5])


def _filter(raw_texts: list[str], limits: CorpusLimits) -> tuple[list[str], dict[str, int]]:
    dropped = {"empty": 0, "too_short": 0, "too_long": 0, "duplicate": 0}
    seen: set[str] = set()
    texts: list[str] = []
    for raw in raw_texts:
        text = clean_text(raw)
        if not text:
            dropped["empty"] += 1
        elif len(text) < limits.min_chars or len(text.split()) < limits.min_words:
            dropped["too_short"] += 1
        elif len(text) > limits.max_chars:
            dropped["too_long"] += 1
        elif text in seen:
            dropped["duplicate"] += 1
        else:
            seen.add(text)
            texts.append(text)
    return texts, dropped


def preview(path: Path, text_column: str | None = None,
            encoding: str | None = None) -> dict[str, Any]:
    """JSON-able summary for the UI and the /preview_corpus API.

    `encoding` is the detected one (or the override); `encodings` what a dropdown offers
    (empty for xlsx / parquet, which carry their own).
    """
    corpus = load_corpus(path, text_column, encoding=encoding)
    offered = list(OFFERED_ENCODINGS) if corpus.encoding is not None else []
    return {"n_texts": corpus.n_clean, "encoding": corpus.encoding, "encodings": offered,
            "columns": corpus.columns, "text_column": corpus.text_column, "sample": corpus.sample,
            "n_raw": corpus.n_raw, "dropped": corpus.dropped,
            "variant_share": template_sibling_share(corpus.texts)}  # unrounded: one rule at 0.25
