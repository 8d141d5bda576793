"""Hostile and broken corpus files: every one is a CorpusError with a plain message.

Why here and not only in test_tuning_data.py: these are the cases a stranger's upload
produces that the format tests do not — lines far longer than any title, fields over the
csv module's 128 KB limit, binary data behind every accepted suffix, empty files of every
kind, emoji and control characters — each checked for the exact message the UI shows.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from tuning.data import CorpusError, CorpusLimits, load_corpus, preview

pytestmark = pytest.mark.fault

GOOD = ["Смартфон Apple iPhone 15", "Кофемашина Nespresso Vertuo", "Наушники Xiaomi Buds 4"]


def test_very_long_line_is_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("слово " * 400_000 + "\n" + "\n".join(GOOD) + "\n", encoding="utf-8")
    corpus = load_corpus(path)
    assert corpus.texts == GOOD
    assert corpus.dropped["too_long"] == 1 and corpus.n_raw == 4


def test_only_very_long_lines_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text(("x" * 20_000 + "\n") * 3, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"No usable texts in column 'text' \(too_long: 3\)"):
        load_corpus(path)


def test_csv_field_over_the_csv_module_limit_is_reported_not_lost(tmp_path: Path) -> None:
    assert csv.field_size_limit() < 250_000  # the case below really crosses the limit
    path = tmp_path / "c.csv"
    path.write_text("title,cat\n" + "слово " * 40_000 + ",x\n" + "".join(f"{t},y\n" for t in GOOD),
                    encoding="utf-8")
    corpus = load_corpus(path)
    assert corpus.texts == GOOD
    assert corpus.dropped.get("malformed") == 1


def test_csv_of_only_oversized_fields_says_why(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("title,cat\n" + ("слово " * 40_000 + ",x\n") * 3, encoding="utf-8")
    with pytest.raises(CorpusError, match="None of the 3 rows could be read"):
        load_corpus(path)


@pytest.mark.parametrize("suffix, message", [
    (".csv", "binary data"), (".tsv", "binary data"), (".txt", "binary data"),
    (".jsonl", "binary data"), (".xlsx", "not a real .xlsx"), (".parquet", "not a real .parquet"),
])
def test_binary_behind_every_accepted_suffix(tmp_path: Path, suffix: str, message: str) -> None:
    path = tmp_path / f"catalog{suffix}"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)
    with pytest.raises(CorpusError, match=message):
        load_corpus(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt", ".jsonl", ".xlsx", ".parquet"])
def test_empty_file_of_every_suffix(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(CorpusError, match="The file is empty"):
        load_corpus(path)


@pytest.mark.parametrize("body", [" \n\n\t\n", "\ufeff\n \n"])
def test_whitespace_only_file_is_empty(tmp_path: Path, body: str) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(path)


def test_excel_workbook_that_is_a_renamed_zip(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    with pytest.raises(CorpusError, match="Could not read the Excel file"):
        load_corpus(path)


@pytest.mark.parametrize("body, message", [
    ("not json at all\n", "Could not read JSON lines"),
    ("[1, 2]\n[3, 4]\n", "No text column found"),
    ('{"price": 10}\n{"price": 12}\n', "No text column found"),
])
def test_broken_jsonl(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        load_corpus(path)


def test_numbers_only_table_has_no_text_column(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    pd.DataFrame({"id": range(20), "price": [f"{i}.99" for i in range(20)]}).to_csv(path, index=False)
    with pytest.raises(CorpusError, match=r"No text column found \(columns: id, price\)"):
        load_corpus(path)


def test_asking_for_a_missing_column_names_the_real_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("Название,Категория\n" + "".join(f"{t},x\n" for t in GOOD), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"'title' is not in the file \(columns: Название, Категория\)"):
        load_corpus(path, "title")


def test_cp1251_semicolon_csv_with_quotes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Название": GOOD + ['Чайник "Bosch"; 1,7 л'], "Цена": [1, 2, 3, 4]})
    buf = io.StringIO()
    frame.to_csv(buf, sep=";", index=False)
    path = tmp_path / "export.csv"
    path.write_bytes(buf.getvalue().encode("cp1251"))
    info = preview(path)
    assert info["encoding"] == "cp1251" and info["text_column"] == "Название"
    assert info["n_texts"] == 4 and 'Чайник "Bosch"; 1,7 л' in load_corpus(path).texts


def test_emoji_control_and_zero_width_characters_are_cleaned(tmp_path: Path) -> None:
    """Control and zero-width characters become spaces; a NUL byte means binary (refused above)."""
    path = tmp_path / "c.txt"
    path.write_text("Смартфон\x01 Apple\u200b iPhone 📱\n\x07\x1b[31m\n🔥🔥🔥\nТовар\u00a0\u200fвторой\n",
                    encoding="utf-8")
    corpus = load_corpus(path)
    assert corpus.texts == ["Смартфон Apple iPhone 📱", "[31m", "🔥🔥🔥", "Товар второй"]
    assert all(ch.isprintable() for t in corpus.texts for ch in t)


def test_size_limit_message_names_both_sizes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (3 * 2**20))
    with pytest.raises(CorpusError, match=r"The file is 3.0 MB; the limit is 2 MB"):
        load_corpus(path, limits=CorpusLimits(max_bytes=2 * 2**20))


def test_corpus_errors_do_not_touch_the_folder(tmp_path: Path) -> None:
    """Nothing half-written: a refused file leaves no side files next to it."""
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CorpusError):
        load_corpus(path)
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]
