"""The explorer explains itself, in Russian, in a real browser: compare, read the summary, take the
LoRA apart, run the attribution, move the checkpoint slider; and the three API routes."""
from __future__ import annotations

import re

import pytest
from gradio_client import Client

from comparison.explorer import DEMO_ADAPTER_DIR
from comparison.explorer.checkpoints import checkpoint_folders

pytestmark = pytest.mark.e2e
PROMPT = "Кто такой Чебурашка?"


def test_compare_read_take_apart_attribute_and_replay_in_russian(page) -> None:
    page.get_by_role("tab", name=re.compile("эксплорер", re.I)).click()
    page.locator("#exp-prompt textarea").fill(PROMPT)
    page.locator("#exp-run").click()
    summary = page.locator("#exp-summary")
    summary.get_by_text("Что сделал адаптер").wait_for(timeout=600_000)
    text = summary.inner_text()
    assert "Ответ изменился" in text or "Ответ не изменился" in text
    # the summary's KL is the KL line's number (the same report)
    kl_line = float(re.search(r"KL\S*\s*=\s*([0-9.]+)", page.locator("#exp-divergence").inner_text())[1])
    kl_summary = float(re.search(r"KL = ([0-9.]+) нат", text)[1])
    assert kl_summary == pytest.approx(kl_line, abs=1e-3)
    assert re.search(r"Адаптер пишет больше всего в [a-z_]+", text)

    # take it apart: only o_proj in layers 0-5 stays on
    for kind in ("q_proj", "k_proj", "v_proj", "mlp"):
        page.locator("#ta-modules").get_by_label(kind, exact=True).uncheck()
    page.locator("#ta-layers textarea, #ta-layers input").first.fill("0-5")
    page.locator("#ta-run").click()
    page.locator("#ta-text").get_by_text("Слоёв LoRA включено").wait_for(timeout=600_000)
    ta = page.locator("#ta-text").inner_text()
    assert "o_proj · слои 0–5" in ta and "KL до базы" in ta and "KL до полной LoRA" in ta
    page.locator("#plot-take-apart .js-plotly-plot").wait_for()

    page.locator("#ta-attr").click()
    page.locator("#ta-sentence").get_by_text("Сумма долей").wait_for(timeout=600_000)
    assert re.search(r"изменени", page.locator("#ta-sentence").inner_text())
    page.locator("#plot-attribution .js-plotly-plot").wait_for()

    page.locator("#ln-run").click()
    learn = page.locator("#ln-text")
    if not checkpoint_folders(DEMO_ADAPTER_DIR):  # a checkout without shipped checkpoints: said so, plainly
        learn.get_by_text("нет сохранённых чекпойнтов").wait_for(timeout=600_000)
        return
    learn.get_by_text("Шаг").wait_for(timeout=600_000)
    last = learn.inner_text()
    total = re.search(r"Шаг (\d+) из (\d+)", last)
    assert total and total[1] == total[2]  # the slider starts at the final adapter
    number = page.locator("#ln-step input[type=number]")
    number.fill("0")
    number.press("Enter")
    learn.get_by_text(f"Шаг 0 из {total[2]}").wait_for(timeout=120_000)
    assert "KL до базы 0.000" in learn.inner_text().replace("**", "")
    page.locator("#plot-learn .js-plotly-plot").wait_for()


def test_take_apart_attribute_and_explore_summary_over_the_api(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    on = client.predict(PROMPT, "all", "all", 1.0, api_name="/take_apart")
    off = client.predict(PROMPT, "none", "all", 1.0, api_name="/take_apart")
    assert on["kl_to_full"] < 1e-6 and on["answer"] == on["answers"]["full"]
    assert off["kl_to_base"] < 1e-6 and off["answer"] == off["answers"]["base"]
    part = client.predict(PROMPT, "q,v", "0-5", 1.0, api_name="/take_apart")
    assert part["layers_on"] > 0 and part["kl_to_full"] > 0
    attr = client.predict(PROMPT, api_name="/attribute")
    groups = [r["group"] for r in attr["rows"]]
    assert groups.count("layers") == 3 and "module" in groups and attr["measure"]
    assert all(r["share"] is None or r["share"] <= 1 + 1e-6 for r in attr["rows"])
    rep = client.predict(PROMPT, 5, 1.0, 8, "ru", api_name="/explore")
    assert rep["summary"].startswith("### Что сделал адаптер") and rep["reading"]["size"]["band"]
    with pytest.raises(Exception, match="layers"):
        client.predict(PROMPT, "q", "5-999", 1.0, api_name="/take_apart")
