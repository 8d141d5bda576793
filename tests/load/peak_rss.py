"""Peak memory of the app with all three tabs used and one training (issue 15: ≤ 6 GB).

Why: a free Space has 16 GB and one process serves every tab; the peak a visitor can cause
with the shipped defaults must stay well inside it. This starts `python app.py` offline on
loopback, samples the RSS of the app and its children every 0.5 s, and in a real headless
Chromium (the e2e recipe) scores a pair, builds the list maps and runs an explorer
comparison, then trains once through /train (gradio_client) with the Training tab's
default values on examples/products_corpus.csv. Prints the peak per phase, JSON last.

    python -m tests.load.peak_rss [--corpus examples/products_corpus.csv]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

from tests.load.score_pair_load import stop_app
from tests.load.soak import ROOT, start_app, tree_rss_mb

LIMIT_MB = 6 * 1024


class Sampler(threading.Thread):
    """RSS of the app's process tree every `every` seconds; the peak of the current phase."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.pid, self.every, self.stop = pid, every, threading.Event()
        self.peak, self.phase_peaks, self.phase = 0.0, {}, "start"

    def run(self) -> None:
        while not self.stop.is_set():
            rss = tree_rss_mb(self.pid)
            self.peak = max(self.peak, rss)
            self.phase_peaks[self.phase] = max(self.phase_peaks.get(self.phase, 0.0), rss)
            time.sleep(self.every)


def browser_tabs(url: str, sampler: Sampler) -> None:
    """Pair score, list maps and an explorer comparison through the page, as a visitor does."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS

    if CHROMIUM is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(900_000)
        page.goto(url)
        sampler.phase = "similarity_pair"
        page.locator("#model-status").get_by_text(re.compile("офлайн|локально|Hub")).wait_for()
        page.locator("#compare").click()
        page.wait_for_function("document.querySelector('#score-base textarea').value !== ''")
        sampler.phase = "similarity_list"
        page.get_by_role("tab", name="Список").click()
        page.get_by_role("button", name="Построить карты").click()
        page.locator(".js-plotly-plot").first.wait_for(state="visible")
        sampler.phase = "explorer"
        page.get_by_role("tab", name=re.compile("эксплорер|explorer", re.I)).click()
        page.locator("#exp-prompt textarea").fill("Кто такой Чебурашка?")
        page.locator("#exp-run").click()
        page.locator("#exp-divergence").get_by_text("KL").wait_for()
        browser.close()


def train(url: str, corpus: Path) -> dict:
    """One training through /train with the form's defaults (TrainConfig())."""
    from gradio_client import Client, handle_file

    from tuning.config import TrainConfig
    from ui.training import api_settings

    cfg = TrainConfig()
    out = Client(url, verbose=False).predict(handle_file(str(corpus)), None, "en",
                                             *api_settings(cfg), api_name="/train")
    metrics = out[1] if isinstance(out, (list, tuple)) and len(out) > 1 else {}
    return {k: metrics.get(k) for k in ("status", "steps", "elapsed_s")} if isinstance(metrics, dict) else {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "examples" / "products_corpus.csv")
    opts = ap.parse_args(argv)
    proc, url, log = start_app({})
    print(f"started app at {url} (pid {proc.pid}, log: {log})", flush=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    t0 = time.monotonic()
    try:
        browser_tabs(url, sampler)
        sampler.phase = "training"
        trained = train(url, opts.corpus)
        sampler.phase = "after"
        time.sleep(2)
    finally:
        sampler.stop.set()
        stop_app(proc)
    result = {"benchmark": "peak_rss_all_tabs", "peak_mb": round(sampler.peak, 1), "limit_mb": LIMIT_MB,
              "within_limit": sampler.peak <= LIMIT_MB,
              "phase_peaks_mb": {k: round(v, 1) for k, v in sampler.phase_peaks.items()},
              "training": trained, "corpus": opts.corpus.name, "wall_s": round(time.monotonic() - t0, 1),
              "cores": os.cpu_count(), "load1": round(os.getloadavg()[0], 2)}
    print(f"peak RSS {result['peak_mb']} MB (limit {LIMIT_MB} MB) — per phase: {result['phase_peaks_mb']}")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
