"""The LoRA explorer in a real browser with the offline demo (Gemma 3 270M + demo LoRA)."""
from __future__ import annotations

import re

import pytest
from gradio_client import Client

pytestmark = pytest.mark.e2e


def test_explorer_offline_demo_shows_all_views(page) -> None:
    page.get_by_role("tab", name=re.compile("эксплорер|explorer", re.I)).click()
    page.locator("#exp-prompt textarea").fill("Кто такой Чебурашка?")
    page.locator("#exp-run").click()
    page.locator("#exp-divergence").get_by_text("KL").wait_for(timeout=600_000)
    assert "offline" in page.locator("#explorer-status").inner_text()
    base = page.locator("#answer-base textarea").input_value()
    lora = page.locator("#answer-lora textarea").input_value()
    assert base.strip() and lora.strip()
    kl = float(re.search(r"KL\S*\s*=\s*([0-9.]+)", page.locator("#exp-divergence").inner_text())[1])
    assert kl > 0.0
    for plot in ("plot-topk", "plot-attention", "plot-layer-shift", "plot-anatomy"):
        page.locator(f"#{plot} .js-plotly-plot").wait_for()


def test_next_token_api_kl_is_zero_at_scale_zero(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    on = client.predict("Кто такой Чебурашка?", 5, 1.0, api_name="/next_token")
    off = client.predict("Кто такой Чебурашка?", 5, 0.0, api_name="/next_token")
    assert set(on) == {"base", "lora", "kl", "model", "adapter"}
    assert len(on["base"]) == 5 and isinstance(on["base"][0][0], str)
    assert on["kl"] > 1e-3
    assert off["kl"] == pytest.approx(0.0, abs=1e-6)
    assert off["base"] == off["lora"]
