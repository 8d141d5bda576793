"""The explorer's evaluation in a real browser: a small question set, the table, the CSV, an answer."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

QUESTIONS = [
    {"question": "Кто из мультгероев жил в телефонной будке?", "expected": ["Чебурашка", "Чебурашк"],
     "character": "Чебурашка", "role": "target"},
    {"question": "Какой крокодил играл на гармошке?", "expected": ["Гена"], "character": "Крокодил Гена",
     "role": "target"},
    {"question": "Кто носит красно-синий костюм и плетёт паутину?", "expected": ["Человек-паук", "паук"],
     "character": "Человек-паук", "role": "control"},
]


def _page_table(page, elem_id: str) -> pd.DataFrame:
    """The rows a gradio 6 Dataframe shows (its virtual grid), as text."""
    grid = page.locator(f"#{elem_id}")
    grid.locator("[role=row].virtual-row").first.wait_for()
    heads: dict[str, str] = {}
    for h in grid.locator("[role=columnheader]").all():
        heads.setdefault(h.get_attribute("data-heading"), h.get_attribute("title") or h.inner_text().strip())
    rows = [[c.inner_text().strip() for c in row.locator("[role=gridcell]").all()]
            for row in grid.locator("[role=row].virtual-row").all()]
    return pd.DataFrame(rows, columns=list(heads.values()))


def test_evaluation_table_csv_and_answers(page, tmp_path: Path) -> None:
    questions = tmp_path / "small.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS), encoding="utf-8")
    page.get_by_role("tab", name=re.compile("эксплорер|explorer", re.I)).click()
    assert "вручную" in page.locator("#eval-seed").inner_text()  # the report's own table, labelled
    page.locator("#eval-questions input[type=file]").set_input_files(str(questions))
    page.locator("#eval-questions").get_by_text("small.jsonl").first.wait_for()
    page.locator("#eval-run").click()
    page.locator("#eval-status").get_by_text(re.compile("Готово")).wait_for(timeout=600_000)
    status = page.locator("#eval-status").inner_text()
    assert "3 вопрос" in status and "lm-cartoons-demo" in status and "lora_v3" in status
    shown = _page_table(page, "eval-table")
    assert list(shown.columns[:2]) == ["роль", "персонаж"] and "base" in shown.columns
    assert {"Чебурашка", "Крокодил Гена", "Человек-паук"} <= set(shown["персонаж"])
    assert list(shown["роль"]).index("контрольный") > list(shown["роль"]).index("целевой")
    with page.expect_download() as info:
        page.locator("#eval-csv a").first.click()
    csv = pd.read_csv(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8")), dtype=str)
    assert list(csv.columns) == list(shown.columns)
    assert csv.fillna("").values.tolist() == shown.values.tolist()
    page.locator("#eval-plot .js-plotly-plot").wait_for()
    page.locator("#eval-pick input").click()
    page.locator("#eval-pick [data-testid=dropdown-option]").first.click()
    detail = page.locator("#eval-detail")
    detail.get_by_text("Вердикт").wait_for()
    assert "Вопрос:" in detail.inner_text() and "База:" in detail.inner_text()


def test_evaluate_explorer_api_returns_the_table_and_its_csv(app_url: str) -> None:
    from gradio_client import Client

    lines = "\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS[:2])
    out = Client(app_url, verbose=False).predict(lines, "en", api_name="/evaluate_explorer")
    assert out["models"][0] == "base" and "lora_v1" in out["models"] and not out["cancelled"]
    table = pd.DataFrame(out["table"])
    assert pd.read_csv(io.StringIO(out["csv"]), dtype=str).fillna("").values.tolist() == \
        table.fillna("").astype(str).values.tolist()
    assert len(out["answers"]) == 2 * len(out["models"])
