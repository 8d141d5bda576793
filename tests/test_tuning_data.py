"""Corpus loading: every format, encodings, hostile files and limits give clear results."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tuning.data import CorpusError, CorpusLimits, clean_text, load_corpus, preview

TITLES = ["Смартфон Apple iPhone 15 Pro", "Кофемашина Nespresso Vertuo", "Наушники Xiaomi Buds 4",
          "Умные часы Samsung Galaxy Watch", "Чайник электрический Bosch"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"sku": [101, 102, 103, 104, 105], "title": TITLES,
                         "category": ["phones", "kitchen", "audio", "wear", "kitchen"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".jsonl", ".parquet"])
def test_table_formats_pick_the_longest_text_column(tmp_path: Path, suffix: str) -> None:
    path, frame = tmp_path / f"c{suffix}", _frame()
    if suffix == ".csv":
        frame.to_csv(path, index=False, sep=";")  # delimiter is sniffed
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in frame.to_dict("records")),
                        encoding="utf-8")
    else:
        frame.to_parquet(path)
    corpus = load_corpus(path)
    assert corpus.text_column == "title" and corpus.texts == TITLES
    assert corpus.columns == ["sku", "title", "category"]
    assert load_corpus(path, text_column="category").texts == ["phones", "kitchen", "audio", "wear"]


def test_txt_cleaning_dedup_and_dropped_reasons(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("  Смартфон\tApple \x07iPhone  \n\nСмартфон Apple iPhone\nab\n" + "x" * 6000 +
                    "\nЧайник\u200b Bosch\n", encoding="utf-8")
    corpus = load_corpus(path)
    assert corpus.texts == ["Смартфон Apple iPhone", "Чайник Bosch"]
    assert corpus.dropped == {"empty": 1, "too_short": 1, "too_long": 1, "duplicate": 1}
    assert (corpus.n_raw, corpus.n_clean, corpus.encoding) == (6, 2, "utf-8")
    assert clean_text(" a\r\n\tb ") == "a b"


@pytest.mark.parametrize("encoding, expected", [("cp1251", "cp1251"), ("utf-8-sig", "utf-8-sig"),
                                                ("utf-8", "utf-8")])
def test_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(_frame().to_csv(index=False).encode(encoding))
    corpus = load_corpus(path)
    assert corpus.encoding == expected and corpus.texts == TITLES and corpus.columns[0] == "sku"


def test_binary_renamed_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    with pytest.raises(CorpusError, match="not a text/table file"):
        load_corpus(path)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("title\nphone\n")
    with pytest.raises(CorpusError, match="not a text/table file"):
        load_corpus(fake)


def test_empty_one_line_and_no_text_column(tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(empty)
    blank = tmp_path / "b.txt"
    blank.write_text("\n \n")
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(blank)
    one = tmp_path / "one.txt"
    one.write_text("Смартфон Apple iPhone")
    assert load_corpus(one).texts == ["Смартфон Apple iPhone"]
    header_only = tmp_path / "h.csv"
    header_only.write_text("title,category\n")
    with pytest.raises(CorpusError, match="no rows"):
        load_corpus(header_only)
    numbers = tmp_path / "n.csv"
    numbers.write_text("sku,price\n1,100\n2,250.5\n")
    with pytest.raises(CorpusError, match="No text column"):
        load_corpus(numbers)
    with pytest.raises(CorpusError, match="not in the file"):
        load_corpus(one, text_column="title")


def test_size_limit_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_text("Смартфон Apple iPhone\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read before size check"))
    with pytest.raises(CorpusError, match="limit is"):
        load_corpus(path, limits=CorpusLimits(max_bytes=1024))


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x80\x04")
    with pytest.raises(CorpusError, match="Unsupported"):
        load_corpus(path)


def test_100k_lines_ok_and_over_the_row_limit_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("\n".join(f"Товар номер {i} для дома" for i in range(100_000)), encoding="utf-8")
    corpus = load_corpus(path)
    assert corpus.n_clean == 100_000
    more = tmp_path / "more.txt"
    more.write_text("\n".join(f"Товар номер {i}" for i in range(100_001)), encoding="utf-8")
    with pytest.raises(CorpusError, match="100,001 rows; the limit is 100,000"):
        load_corpus(more)


def test_preview_is_json_able(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    _frame().to_csv(path, index=False)
    out = preview(path)
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out
    assert {"n_texts", "encoding", "columns", "text_column", "sample"} <= set(out)
    assert out["n_texts"] == 5 and out["sample"] == TITLES


def test_semicolon_export_with_commas_and_quoted_inches_reads_as_two_columns(tmp_path: Path) -> None:
    """csv.Sniffer picks ',' here (CI caught it on a new cp1251 sample) and the file became one column."""
    lines = ["Название;Категория",
             "Scarlett SC-EK18P48 чайник 1.7 л Beige для дачи;Чайники",
             "Футболка базовая Befree базовая 2311 жен., Blue, L;Футболки",
             '"Телевизор Android TV Хайер Smart TV S1 43"" (109 см) черный";Телевизоры',
             '"Лэптоп HP 15s-fq5000 15.6"", Intel Core i3-1215U, 8 ГБ, SSD 512 ГБ";Ноутбуки',
             "Крем для лица для всех типов кожи Нивея Care, 100 мл;Крем для лица"]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    corpus = load_corpus(path, "Название")
    assert corpus.texts[2] == 'Телевизор Android TV Хайер Smart TV S1 43" (109 см) черный'
    assert len(corpus.texts) == 5
    comma = tmp_path / "comma.csv"
    comma.write_text("title,category\nчайник; стекло 1.7 л,Чайники\n\"шампунь, 500 мл\",Шампуни\n", encoding="utf-8")
    assert load_corpus(comma, "title").texts == ["чайник; стекло 1.7 л", "шампунь, 500 мл"]
