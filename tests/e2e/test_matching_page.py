"""The Similarity tab says whether the adapter moved each labelled pair the right way.

A Russian user edits the «Один товар?» column of the pairs table, compares, and reads
✓ / ✗ per row and the «k из n пар сдвинулись в нужную сторону» line off the page.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# every shipped example pair is labelled; the test clears one label
LABELLED = len(list(csv.DictReader((Path(__file__).resolve().parents[2] / "examples" / "pairs.csv")
                                   .read_text(encoding="utf-8").splitlines()))) - 1
TALLY = re.compile(r"(\d+) из (\d+) пар[а-я]* сдвинул[а-я]+ в нужную сторону")  # JS regex: \w is ASCII-only


def _cell(page, table: str, row: int, col: int):
    return page.locator(f'{table} [data-testid="cell-{row}-{col}"]')


def _set_cell(page, table: str, row: int, col: int, value: str) -> None:
    cell = _cell(page, table, row, col)
    cell.dblclick()
    editor = cell.locator("input, textarea").first
    editor.fill(value)
    editor.press("Enter")


def _column(page, table: str, col: int) -> list[str]:
    n = page.locator(f'{table} [data-testid^="cell-"][data-col="{col}"]').count()
    return [_cell(page, table, i, col).inner_text().replace("⋮", "").strip() for i in range(n)]


def test_same_product_labels_give_marks_and_a_tally(page) -> None:
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    assert page.locator('#pairs-table [data-testid="header-2"]').inner_text().strip() == "Один товар?"
    assert _column(page, "#pairs-table", 2)[:3] == ["да", "нет", "нет"]  # the examples come labelled
    _set_cell(page, "#pairs-table", 0, 2, "нет")  # the user relabels one pair …
    _set_cell(page, "#pairs-table", 1, 2, "")     # … and leaves another unlabelled
    page.get_by_role("button", name="Сравнить все пары").click()
    summary = page.locator("#pairs-summary")
    summary.get_by_text(TALLY).wait_for()
    right, labelled = map(int, TALLY.search(summary.inner_text()).groups())
    assert labelled == LABELLED and 0 <= right <= labelled
    assert "метрика исходного отчёта" in summary.inner_text() and "0,7–1,0" in summary.inner_text()

    out = "#pairs-out"
    page.locator(f'{out} [data-testid="cell-0-0"]').wait_for()
    heads = [h.strip() for h in page.locator(f'{out} [data-testid^="header-"]').all_inner_texts()]
    same_col = next(i for i, h in enumerate(heads) if "Один товар?" in h)
    mark_col = next(i for i, h in enumerate(heads) if "В нужную сторону?" in h)
    same, marks = _column(page, out, same_col), _column(page, out, mark_col)
    assert same[:2] == ["нет", ""] and marks[1] == ""
    assert marks.count("✓") == right and marks.count("✓") + marks.count("✗") == labelled
