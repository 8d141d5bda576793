"""The Training tab in a real browser: upload, preview, train, download, use, cancel, errors.

Why a browser and not only the API: the tab's value is the flow between components (the
preview filling in, the progress line, the zip link, the hand-over to the Similarity tab),
and that wiring lives in app.py's event bindings, which no unit test sees. Runs are kept
to a few optimisation steps so the whole file takes well under a minute of training.
"""
from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "examples" / "products_corpus.txt"
TRAINING_TAB = re.compile("Обучение|Training")


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[:64]
    path = tmp_path_factory.mktemp("corpus") / "small_corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _open_training(page) -> None:
    page.locator("#model-status").get_by_text(re.compile("офлайн|offline")).wait_for()
    page.get_by_role("tab", name=TRAINING_TAB).click()


def _upload(page, path: Path) -> None:
    page.locator("#corpus-file input[type=file]").set_input_files(str(path))


def _settings_field(page, name: str):
    """The TrainConfig field `name`, with the settings accordion opened (once)."""
    field = page.get_by_label(re.compile(rf"\({name}\)$"))  # «Максимум шагов (max_steps)»
    if not field.is_visible():
        page.get_by_text(re.compile("^(Параметры|Settings)$")).click()
    return field


def _set_field(page, name: str, value: int) -> None:
    """Type into the TrainConfig field `name`."""
    field = _settings_field(page, name)
    field.fill(str(value))
    field.press("Tab")  # gradio commits a Number on blur


def _score(page, elem_id: str, different_from: str | None = None) -> str:
    """The score box's text once it is non-empty (and, if given, no longer `different_from`)."""
    page.wait_for_function(
        "([id, old]) => { const el = document.querySelector('#' + id + ' textarea');"
        " return el && el.value !== '' && el.value !== old; }", arg=[elem_id, different_from])
    return page.locator(f"#{elem_id} textarea").input_value()


def test_train_download_and_use_in_similarity(page, small_corpus: Path) -> None:
    # the default adapter's tuned score, to tell it apart from the new adapter's later
    page.locator("#model-status").get_by_text(re.compile("офлайн|offline")).wait_for()
    page.locator("#compare").click()
    default_tuned = _score(page, "score-tuned")

    _open_training(page)
    _upload(page, small_corpus)
    preview = page.locator("#corpus-preview")
    preview.get_by_text(re.compile("текст")).wait_for()
    assert re.search(r"\b64\b", preview.inner_text())
    assert "utf-8" in preview.inner_text()

    _set_field(page, "max_steps", 4)
    page.locator("#train-start").click()
    result = page.locator("#train-result")
    result.get_by_text(re.compile("завершено|completed")).wait_for(timeout=150_000)
    assert re.search(r"\b4\b", result.inner_text())  # 4 steps

    link = page.locator("#train-zip a[download]")
    link.wait_for()
    name = link.get_attribute("download")
    assert name and name.endswith(".zip")
    body = page.request.get(link.get_attribute("href")).body()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert {"adapter_config.json", "adapter_model.safetensors"} <= set(zf.namelist())

    page.locator("#train-use").click()
    choice = page.locator("#adapter-choice input")
    page.wait_for_function(
        "stem => document.querySelector('#adapter-choice input').value === stem",
        arg=name.removesuffix(".zip"))
    assert choice.is_visible()  # we were taken back to the Similarity tab

    old_base = page.locator("#score-base textarea").input_value()
    page.locator("#compare").click()
    tuned = _score(page, "score-tuned", different_from=default_tuned)
    assert -1.0 <= float(tuned) <= 1.0
    assert page.locator("#score-base textarea").input_value() == old_base  # same base model


def test_a_catalog_of_variants_turns_the_ranking_term_on(page, tmp_path: Path) -> None:
    """One seller's template with variants: the plan line says the ranking term and twin views
    are on (automatic), the «catalog with variants» preset sets the term explicitly, and the
    run uses both: the 4 l oil has another seller's wording (its twin), and the two juices,
    one word apart, are each other's mined negative (template siblings)."""
    catalog = tmp_path / "variants.txt"
    catalog.write_text("\n".join([f"Масло моторное Shell Helix HX8 5W-30 {v} л" for v in (1, 4, 5)]
                                 + [f"Лампа светодиодная Gauss {w} Вт E27" for w in (7, 9, 12)]
                                 + ["Кабель USB Type-C 2 м", "Чай черный Ahmad Tea 100 пакетиков",
                                    "Шелл Хеликс HX8 5W30 синтетика, канистра 4л",
                                    "Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л"]),
                       encoding="utf-8")
    _open_training(page)
    page.get_by_text(re.compile("^(Параметры|Settings)$")).click()  # rendered boxes send values
    ranking = page.locator("#field-ranking_weight input")
    expect(ranking).to_have_value(re.compile("^(авто|auto)"))
    _upload(page, catalog)
    plan = page.locator("#train-plan")
    plan.get_by_text(re.compile(r"73 % (названий|of the titles)")).wait_for()  # 8 of 11 titles
    assert re.search(r"⏩.* 100 (шагов|steps) (вместо|instead of) 60", plan.inner_text())
    page.locator("#train-preset input").click()
    page.locator("[data-testid=dropdown-option]").filter(
        has_text=re.compile("вариантами|with variants")).click()
    expect(ranking).to_have_value(re.compile("^1"))
    # set by hand now, so no longer announced as automatic
    page.wait_for_function("() => { const t = document.querySelector('#train-plan').innerText;"
                           " return t.includes('⏱') && !t.includes('🔀'); }")
    _set_field(page, "max_steps", 2)
    page.locator("#train-start").click()
    result = page.locator("#train-result")
    result.get_by_text(re.compile("завершено|completed")).wait_for(timeout=150_000)
    assert "ranking_weight = 1" in result.inner_text()  # the summary says the term was on
    assert re.search(r"🔗.* 2 (названий|titles) (из|of) 11", result.inner_text())  # and the twins
    assert re.search(r"🧩.* 2 (названий|titles) (из|of) 11", result.inner_text())  # the juices
    link = page.locator("#train-zip a[download]")
    link.wait_for()
    with zipfile.ZipFile(io.BytesIO(page.request.get(link.get_attribute("href")).body())) as zf:
        log = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("training_log.json"))))
    assert log["config"]["ranking_weight"] == 1.0 and log["steps"] == 2
    assert log["twin_positives_used"] == 1.0 and log["titles_with_twin"] == 2
    assert log["sibling_negatives_used"] is True and log["sibling_negatives_found"] == 2


def test_cancel_stops_a_long_training(page) -> None:
    _open_training(page)
    _upload(page, CORPUS)  # 5,600 texts: ~200 steps, minutes of work if not cancelled
    page.locator("#corpus-preview").get_by_text(re.compile("текст")).wait_for()
    _set_field(page, "max_steps", 200)
    page.locator("#train-start").click()
    # the default (contrastive) objective first embeds the corpus to mine hard negatives
    page.locator("#train-status").get_by_text(re.compile(r"Шаг|Step")).wait_for(timeout=360_000)
    started = time.monotonic()
    page.locator("#train-cancel").click()
    result = page.locator("#train-result")
    result.get_by_text(re.compile("Остановлено|Cancelled")).first.wait_for(timeout=30_000)
    assert time.monotonic() - started < 30
    steps = int(re.search(r"(\d+) (шаг\w*|steps?)", result.inner_text()).group(1))
    assert steps < 200


def test_empty_csv_shows_a_clear_error(page, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _open_training(page)
    _upload(page, empty)
    toast = page.locator(".toast-body").filter(has_text=re.compile("empty", re.I))
    toast.first.wait_for(timeout=30_000)
    assert "The file is empty" in toast.first.inner_text()
    assert page.locator("#corpus-preview").inner_text().strip() == ""


def test_cp1251_csv_preview_in_the_browser(page) -> None:
    """A Windows-1251 CSV from a Russian shop system: detected encoding, readable samples."""
    _open_training(page)
    _upload(page, ROOT / "examples" / "products_corpus_cp1251.csv")
    preview = page.locator("#corpus-preview")
    preview.get_by_text(re.compile("1251")).wait_for()
    assert "Название" in preview.inner_text()
    page.get_by_text(re.compile("[А-Яа-я]{4,}")).first.wait_for()
