"""The Similarity tab in a real browser: type a pair, read both scores off the page."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _number(page, elem_id: str) -> float:
    """Wait until the (initially empty) read-only score box shows a number, and read it."""
    page.wait_for_function(
        "id => { const el = document.querySelector('#' + id + ' textarea');"
        " return el && el.value !== ''; }", arg=elem_id)
    return float(page.locator(f"#{elem_id} textarea").input_value())


def test_pair_scores_and_offline_label(page) -> None:
    status = page.locator("#model-status")
    status.get_by_text(re.compile("офлайн|локально|Hub")).wait_for()
    assert "офлайн" in status.inner_text()  # the test machine has no Hub

    page.locator("#text-a textarea").fill("Смартфон Apple iPhone")
    page.locator("#text-b textarea").fill("Телефон Apple iPhone")
    page.locator("#compare").click()
    base = _number(page, "score-base")
    assert base == pytest.approx(0.966, abs=0.003)
    tuned = _number(page, "score-tuned")
    assert -1.0 <= tuned <= 1.0


def test_no_prefix_changes_the_base_score(page) -> None:
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    page.get_by_label(re.compile("без префикса|none")).check()
    page.locator("#text-a textarea").fill("Смартфон Apple iPhone")
    page.locator("#text-b textarea").fill("Телефон Apple iPhone")
    page.locator("#compare").click()
    assert _number(page, "score-base") == pytest.approx(0.954, abs=0.003)


def test_empty_input_shows_a_message(page) -> None:
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    page.locator("#text-a textarea").fill("")
    page.locator("#compare").click()
    page.get_by_text(re.compile("empty|пуст", re.I)).first.wait_for()
