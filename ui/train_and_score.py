"""Train through the running app with the Training tab's defaults, then score what it returns.

    python -m ui.train_and_score [--corpus examples/products_corpus.csv] [--dev examples/dev_pairs.csv]

Why: "the Training tab with its defaults gives an adapter that beats the base" is a claim
about the app, not about `tuning.train`; this starts ``python app.py``, calls ``/train``
through ``gradio_client`` with the form's default values (`TrainConfig()`), unpacks the
adapter zip the tab offers for download and scores it with `tuning.evaluate` on a labelled
file the training never saw. Prints the metrics table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import zipfile
from pathlib import Path

from ui.bench_coldstart import ROOT, running_app


def _client(port: int, wait_s: float = 300.0):
    from gradio_client import Client

    deadline = time.time() + wait_s
    while True:
        try:
            return Client(f"http://127.0.0.1:{port}/", verbose=False)
        except Exception:  # the server is not up yet
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> dict:
    from gradio_client import handle_file

    from comparison.base_encoder import resolve_base
    from tuning.config import TrainConfig
    from tuning.evaluate import evaluate
    from ui.training import api_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "examples" / "products_corpus.csv")
    ap.add_argument("--dev", type=Path, default=ROOT / "examples" / "dev_pairs.csv")
    args = ap.parse_args(argv)
    cfg = TrainConfig()
    start = time.perf_counter()
    with running_app() as (_, port):
        outputs = _client(port).predict(handle_file(str(args.corpus)), None, "en",
                                        *api_settings(cfg), api_name="/train")
    seconds = time.perf_counter() - start
    zips = re.findall(r'[^"\s\']+\.zip', json.dumps(outputs, default=str))
    if not zips:
        raise SystemExit(f"/train returned no adapter zip: {str(outputs)[:500]}")
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(zips[0]).extractall(tmp)
        adapter = next(Path(tmp).rglob("adapter_config.json")).parent
        frame = evaluate(resolve_base().path, adapter, args.dev)
    print(frame.round(4).to_string())
    result = {"corpus": args.corpus.name, "dev": args.dev.name, "wall_s": round(seconds, 1),
              "metrics": frame.round(4).to_dict(orient="index")}
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
