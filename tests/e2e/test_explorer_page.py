"""The LoRA explorer in a real browser with the offline demo (Gemma 3 270M + demo LoRA)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from gradio_client import Client

pytestmark = pytest.mark.e2e


def test_explorer_offline_demo_shows_all_views(page) -> None:
    page.get_by_role("tab", name=re.compile("эксплорер|explorer", re.I)).click()
    page.locator("#exp-prompt textarea").fill("Кто такой Чебурашка?")
    page.locator("#exp-run").click()
    page.locator("#exp-divergence").get_by_text("KL").wait_for(timeout=600_000)
    assert "офлайн" in page.locator("#explorer-status").inner_text()
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


def _zip_folder(folder, dest):
    import zipfile

    with zipfile.ZipFile(dest, "w") as zf:
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            zf.write(folder / name, arcname=name)
    return dest


ADAPTERS = Path(__file__).resolve().parents[2] / "examples" / "adapters"


def _open_explorer(page):
    page.get_by_role("tab", name=re.compile("эксплорер|explorer", re.I)).click()
    return page.locator("#exp-adapter-file input[type=file]")


def test_wrong_adapter_upload_is_refused_loudly(page, tmp_path: Path) -> None:
    """An adapter for the e5 encoder does not fit the explorer's LM: a clear refusal."""
    upload = _open_explorer(page)
    upload.set_input_files(str(_zip_folder(ADAPTERS / "e5-products-tsdae", tmp_path / "e5.zip")))
    page.get_by_text(re.compile("не подходит|does not fit|does not match|other shapes")).first.wait_for(
        timeout=600_000)
    assert "ваш адаптер" not in page.locator("#explorer-status").inner_text()


def test_own_adapter_upload_is_used_for_this_session(page, browser, app_url: str,
                                                      tmp_path: Path) -> None:
    upload = _open_explorer(page)
    upload.set_input_files(str(_zip_folder(ADAPTERS / "lm-cartoons-demo", tmp_path / "mine.zip")))
    page.locator("#explorer-status").get_by_text("ваш адаптер: mine").wait_for(timeout=600_000)
    page.locator("#exp-run").click()
    page.locator("#exp-divergence").get_by_text("KL").wait_for(timeout=600_000)
    assert "ваш адаптер: mine" in page.locator("#explorer-status").inner_text()
    # Another session still sees the default demo adapter, not this upload.
    other = browser.new_context().new_page()
    other.set_default_timeout(120_000)
    other.goto(app_url)
    other.get_by_role("tab", name=re.compile("эксплорер|explorer", re.I)).click()
    other.locator("#explorer-status").get_by_text("lm-cartoons-demo").wait_for()
    assert "ваш адаптер" not in other.locator("#explorer-status").inner_text()
    other.context.close()
