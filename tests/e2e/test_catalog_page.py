"""The catalog view in a real browser, in Russian: upload, search, what moved, verdict, merged model.

Also the /catalog_index + /catalog_search API in one client session, and SentenceTransformer
loading the downloaded model and encoding exactly as the app's /embed (4 decimals).
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from comparison.basics import served_bf16

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUERY = "Телефон Apple iPhone 15 128 ГБ"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 shop titles (a few of the same product in different phrasings)."""
    lines = (EXAMPLES / "products_corpus.txt").read_text(encoding="utf-8").splitlines()[:300]
    path = tmp_path_factory.mktemp("catalog") / "мой_каталог.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(page, side: str) -> list[str]:
    return page.locator(f"#catalog-{side} td.title").all_inner_texts()


def test_catalog_in_russian(page, catalog: Path, tmp_path: Path, app_url: str) -> None:
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    page.get_by_role("tab", name="Каталог").click()
    page.locator("#catalog-file input[type=file]").set_input_files(str(catalog))
    page.locator("#catalog-file").get_by_text(re.compile("каталог")).first.wait_for(timeout=600_000)
    page.locator("#catalog-index").click()
    page.locator("#catalog-status").get_by_text(re.compile(r"В каталоге \*?\*?300")).wait_for(timeout=900_000)
    assert "названий" in page.locator("#catalog-status").inner_text()
    assert page.locator("#catalog-to-training").is_hidden()  # many sellers' wordings: no hand-over offered

    page.locator("#catalog-query textarea").fill(QUERY)
    page.locator("#catalog-search").click()
    page.locator("#catalog-tuned td.title").first.wait_for()
    base, tuned = _rows(page, "base"), _rows(page, "tuned")
    assert len(base) == 5 and len(tuned) == 5
    assert "Базовая модель" in page.locator("#catalog-base").inner_text()
    assert "С адаптером" in page.locator("#catalog-tuned").inner_text()
    assert page.locator("#catalog-search-note").get_by_text("Подсвечено").count() == 1
    lines = set((catalog.read_text(encoding="utf-8")).splitlines())
    assert set(base) <= lines and set(tuned) <= lines
    assert page.locator("#catalog-tuned tr.hit").count() == 5

    page.locator("#catalog-moved").get_by_text("Что сдвинулось").first.click()
    page.locator("#catalog-moved-run").click()
    page.locator("#catalog-moved-md").get_by_text("ближайших соседей").wait_for(timeout=300_000)
    page.locator("#catalog-map .js-plotly-plot").first.wait_for()
    page.locator("#catalog-changed").get_by_text(re.compile("Соседи до")).first.wait_for()
    shown = page.locator("#catalog-changed").inner_text()
    assert sum(line in shown for line in lines) >= 5  # titles whose neighbourhoods changed most
    assert "Дубль" in page.locator("#catalog-dup-md").inner_text()

    page.locator("#catalog-verdict").get_by_text("Вердикт без разметки").first.click()
    page.locator("#catalog-propose").click()
    page.locator("#catalog-how-chosen").get_by_text("случайные").wait_for(timeout=300_000)
    marks = page.locator(".catalog-mark:visible")
    n = marks.count()
    assert 15 <= n <= 24
    for i in range(n):
        word = "Один товар" if i % 2 == 0 else "Разные"
        marks.nth(i).get_by_text(word, exact=True).click()
    page.locator("#catalog-judge").click()
    verdict = page.locator("#catalog-verdict-md")
    verdict.get_by_text("Вывод").wait_for(timeout=120_000)
    text = verdict.inner_text()
    assert re.search(r"адаптер поставил первым тот же товар \d+ раза?", text)
    assert "95% интервал" in text and "знаковый тест" in text
    with page.expect_download() as got:
        page.locator("#catalog-marks-file a").first.click()
    marks_csv = Path(got.value.path()).read_text(encoding="utf-8").splitlines()
    assert marks_csv[0] == "text,group" and len(marks_csv) > 5

    page.locator("#catalog-export").click()
    page.locator("#catalog-export-md").get_by_text("Готово").wait_for(timeout=900_000)
    with page.expect_download() as got:
        page.locator("#catalog-export-file a").first.click()
    zip_path = tmp_path / "merged.zip"
    Path(got.value.path()).rename(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "merged-model"
    assert "| base |" in (folder / "README.md").read_text(encoding="utf-8")

    from gradio_client import Client
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    texts = [QUERY, "Смартфон Apple iPhone"]
    answer = Client(app_url, verbose=False).predict("\n".join(texts), "query: ", api_name="/embed")
    merged, tuned, base = model.encode(texts), np.array(answer["tuned"]), np.array(answer["base"])
    # The app serves its shared passes in bf16 where the CPU has it (basics.served_bf16): the
    # fp32 merged model matches them to bf16 precision, and is far closer to base + adapter
    # than to the base (a merge that lost the adapter would not be).
    tol = 1e-2 if served_bf16() else 1e-4
    np.testing.assert_allclose(merged, tuned, atol=tol)
    assert np.abs(merged - tuned).max() < 0.25 * np.abs(merged - base).max()


def test_catalog_api_same_session(app_url: str, catalog: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="No catalog"):
        client.predict(QUERY, 5, api_name="/catalog_search")
    info = client.predict(handle_file(str(catalog)), api_name="/catalog_index")
    assert info["n_titles"] == 300 and info["seconds"] > 0 and info["adapter"] == "default"
    assert 0 <= info["variant_share"] < 0.25  # many sellers' wordings, not one template's variants
    out = client.predict(QUERY, 3, api_name="/catalog_search")
    assert set(out) == {"base", "tuned"} and len(out["base"]) == 3 and len(out["tuned"]) == 3
    assert {"title", "score"} <= set(out["tuned"][0])
    assert out["tuned"][0]["score"] >= out["tuned"][1]["score"]
    other = Client(app_url, verbose=False)  # another session sees no catalog
    with pytest.raises(Exception, match="No catalog"):
        other.predict(QUERY, 3, api_name="/catalog_search")


VARIANTS = ([f"Масло моторное Shell Helix HX8 5W-30 {v} л" for v in (1, 4, 5)]
            + [f"Лампа светодиодная Gauss {w} Вт E27" for w in (7, 9, 12)]
            + ["Кабель USB Type-C 2 м", "Чай черный Ahmad Tea 100 пакетиков",
               "Шелл Хеликс HX8 5W30 синтетика, канистра 4л",
               "Сок Добрый апельсиновый 1 л", "Сок Добрый яблочный 1 л"])


def test_a_catalog_of_variants_is_handed_to_training(page, tmp_path: Path) -> None:
    """One seller's template with variants (8 of 11 titles have a one-word sibling): after
    indexing, the catalog view says the shipped adapter mixes such variants up and offers the
    hand-over; one click opens the Training tab with the catalog previewed and the plan line
    announcing the variant catalog's automatic settings."""
    path = tmp_path / "варианты.csv"
    path.write_text("Название;Цена\n" + "".join(f"{v};{100 + i}\n" for i, v in enumerate(VARIANTS)),
                    encoding="cp1251")
    page.locator("#model-status").get_by_text("офлайн").wait_for()
    page.get_by_role("tab", name="Каталог").click()
    page.locator("#catalog-file input[type=file]").set_input_files(str(path))
    expect(page.locator("#catalog-column input")).to_have_value("Название", timeout=120_000)
    page.locator("#catalog-index").click()
    page.locator("#catalog-status").get_by_text(re.compile(r"В каталоге \*?\*?11")).wait_for(timeout=300_000)
    assert "«пример: e5-products-contrastive" in page.locator("#catalog-status").inner_text()  # label in Russian
    hint = page.locator("#catalog-variants")
    hint.get_by_text(re.compile("73 % названий повторяют шаблон продавца")).wait_for()
    assert "обученный на самом каталоге" in hint.inner_text()
    page.locator("#catalog-to-training").click()
    page.locator("#corpus-preview").get_by_text(re.compile("11")).wait_for(timeout=120_000)
    expect(page.get_by_role("tab", name="Обучение")).to_have_attribute("aria-selected", "true")
    assert "1251" in page.locator("#corpus-preview").inner_text()  # column and encoding came along
    plan = page.locator("#train-plan")
    plan.get_by_text(re.compile("73 % названий")).wait_for(timeout=60_000)
    assert re.search(r"⏩.* 100 шагов вместо 60", plan.inner_text())
    # back in the catalog view, the file removed: the hint and the button were about it
    page.get_by_role("tab", name="Сходство").click()
    page.get_by_role("tab", name="Каталог").click()
    page.locator("#catalog-file button[aria-label=Очистить]").click()
    expect(page.locator("#catalog-to-training")).to_be_hidden()
    expect(hint).not_to_contain_text("шаблон")
