"""Fault tests against the real running app (`python app.py`), over HTTP on 127.0.0.1.

Why through the app: the upload limit, gradio's refusal of server paths sent as input
files, what /file= serves, session isolation and the busy answer are properties of the
server and app.py's wiring, which no unit test sees. Part of the fault suite
(`python -m tests.faults`); see tests/faults/README.md for what each test verifies.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before gradio_client: no Hub version checks offline
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import httpx  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = Path(tempfile.gettempdir()) / "lora-lens-sessions"  # app.SESSIONS (same machine)
LIMIT = 50 * 1024 * 1024  # app.MAX_UPLOAD = "50mb"


def train_args(corpus: Path, **over: object) -> list:
    """Positional /train inputs: file, column, lang, then TRAIN_FIELDS in app.py's order."""
    values = {"r": 8, "lora_alpha": 16.0, "lora_dropout": 0.0, "learning_rate": 5e-4, "epochs": 1,
              "batch_size": 8, "max_length": 32, "deletion_ratio": 0.6, "use_4bit": False,
              "time_budget_s": None, "max_steps": 1, "seed": 42, **over}
    return [handle_file(str(corpus)), None, "en", *values.values()]


@pytest.fixture(scope="module")
def api(app_url: str) -> str:
    return app_url.rstrip("/") + "/gradio_api"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = (ROOT / "examples" / "products_corpus.txt").read_text(encoding="utf-8").splitlines()[:64]
    path = tmp_path_factory.mktemp("corpus") / "fault_corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def new_client(app_url: str) -> Client:
    """A separate gradio session; file outputs stay on the server (we want their paths)."""
    return Client(app_url, verbose=False, download_files=False)


def call_raw(api: str, name: str, data: list) -> str:
    """POST /call/<name> then read the SSE result: what any HTTP client can send."""
    body = json.dumps({"data": data})  # ASCII-escaped: even a lone surrogate is valid JSON
    r = httpx.post(f"{api}/call/{name}", content=body, timeout=30,
                   headers={"Content-Type": "application/json"})
    r.raise_for_status()
    return httpx.get(f"{api}/call/{name}/{r.json()['event_id']}", timeout=120).text


# ------------------------------------------------------------------------- uploads
def test_upload_over_the_limit_is_refused_by_the_server(api: str) -> None:
    t0 = time.monotonic()
    big = httpx.post(f"{api}/upload", files={"files": ("big.csv", b"a" * (LIMIT + 1), "text/csv")},
                     timeout=120)
    assert big.status_code == 413
    assert "maximum allowed size of 52428800 bytes" in big.text
    assert time.monotonic() - t0 < 60
    ok = httpx.post(f"{api}/upload", files={"files": ("ok.txt", "Смартфон Apple\n".encode(), "text/plain")},
                    timeout=60)
    assert ok.status_code == 200 and ok.json()[0].endswith("/ok.txt")


@pytest.mark.parametrize("path", ["/etc/passwd", str(ROOT / "app.py"), "../../../../etc/passwd",
                                  str(SESSIONS)])
def test_server_paths_sent_as_input_files_are_refused(api: str, path: str) -> None:
    out = call_raw(api, "preview_corpus", [{"path": path, "meta": {"_type": "gradio.FileData"}}, "", "auto"])
    assert out.startswith("event: error"), out[:300]
    assert "not uploaded by a user" in out
    assert "root:x:" not in out and "import gradio" not in out


def test_file_route_serves_no_path_outside_gradios_cache(api: str) -> None:
    for path in ["/etc/passwd", str(ROOT / "app.py"), str(ROOT / "README.md"),
                 str(Path.home() / ".cache" / "lora-lens")]:
        assert httpx.get(f"{api}/file={path}", timeout=30).status_code == 403, path


# ------------------------------------------------------------------------- odd input
@pytest.mark.parametrize("text_a, message", [
    ("", "first text of pair 1 is empty"),
    ("  \x00\x07\u200b ", "first text of pair 1 is empty"),
    ("x" * 10_000, "first text of pair 1 is longer than 1000 characters"),
])
def test_score_pair_refuses_empty_and_huge_text(app_url: str, text_a: str, message: str) -> None:
    with pytest.raises(Exception, match=re.escape(message)):
        new_client(app_url).predict(text_a, "Телефон Apple", "query: ", api_name="/score_pair")


@pytest.mark.parametrize("text_a", ["Смартфон 📱🔥 Apple", "🔥" * 900, "\x1b[31mred\x1b[0m tab\there",
                                    "a\u202eb"])
def test_score_pair_answers_emoji_and_control_characters(app_url: str, text_a: str) -> None:
    out = new_client(app_url).predict(text_a, "Телефон Apple", "query: ", api_name="/score_pair")
    assert math.isfinite(out["base"]) and math.isfinite(out["tuned"])


def test_lone_surrogate_sent_as_raw_json_is_answered(api: str) -> None:
    """gradio_client cannot even encode it; a hand-written JSON body can."""
    out = call_raw(api, "score_pair", ["x\ud800y", "Телефон Apple", "query: ", 1.0])
    assert out.startswith("event: complete"), out[:300]
    assert math.isfinite(json.loads(out.split("data: ", 1)[1])[0]["base"])


def test_embed_refuses_more_than_200_texts(app_url: str) -> None:
    with pytest.raises(Exception, match="at most 200 texts, got 201"):
        new_client(app_url).predict("\n".join(f"товар {i}" for i in range(201)), "query: ",
                                    api_name="/embed")


def test_bad_hyper_parameter_through_train_names_the_field(app_url: str, corpus: Path) -> None:
    with pytest.raises(Exception, match=re.escape("r must be an integer in 1..512 (got 0)")):
        new_client(app_url).predict(*train_args(corpus, r=0), api_name="/train")
    with pytest.raises(Exception, match="lora_dropout must be in"):
        new_client(app_url).predict(*train_args(corpus, lora_dropout=1.5), api_name="/train")


def test_binary_corpus_through_train_is_a_clear_error(app_url: str, tmp_path: Path) -> None:
    fake = tmp_path / "catalog.csv"
    fake.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 16)
    with pytest.raises(Exception, match="not a text/table file"):
        new_client(app_url).predict(*train_args(fake), api_name="/train")


# ------------------------------------------------------------------------- many users
def test_second_train_of_a_session_is_told_busy(app_url: str, corpus: Path) -> None:
    client = new_client(app_url)
    first = client.submit(*train_args(corpus, epochs=100, max_steps=None, time_budget_s=8.0),
                          api_name="/train")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not first.outputs():
        time.sleep(0.2)  # the handler yields progress only after the job was queued
    assert first.outputs(), "the first training never reported progress"
    second = client.submit(*train_args(corpus), api_name="/train")
    with pytest.raises(Exception, match="already running; cancel it or wait"):
        second.result(timeout=120)
    metrics = first.result(timeout=180)[1]
    assert metrics["status"] in ("time_budget", "completed") and metrics["steps"] >= 1
    # once the first ended, the same session may train again
    assert client.predict(*train_args(corpus), api_name="/train")[1]["status"] == "completed"


def test_other_session_cannot_fetch_my_trained_files(app_url: str, api: str, corpus: Path) -> None:
    alice = new_client(app_url)
    zip_data, metrics, *_ = alice.predict(*train_args(corpus), api_name="/train")
    assert metrics["status"] == "completed"
    own = SESSIONS / alice.session_hash
    private = [*own.glob("*.zip"), *own.glob("trained/*/adapter_model.safetensors")]
    assert len(private) == 2, sorted(map(str, own.rglob("*")))

    # Bob knows (or guesses) the exact server paths of Alice's files: all refused.
    for path in private:
        assert httpx.get(f"{api}/file={path}", timeout=30).status_code == 403, path
        out = call_raw(api, "preview_corpus", [{"path": str(path), "meta": {"_type": "gradio.FileData"}}, "", "auto"])
        assert out.startswith("event: error") and "not uploaded by a user" in out

    # What Alice got is a copy in gradio's cache under sha256(secret seed + content): a
    # 64-hex capability URL that cannot be derived from her session id or the file name.
    served = Path(zip_data["path"])
    assert re.fullmatch(r"[0-9a-f]{64}", served.parent.name)
    assert alice.session_hash not in zip_data["path"]
    assert httpx.get(zip_data["url"], timeout=30).status_code == 200
    guessed = served.parent.parent / ("0" * 64) / served.name
    assert httpx.get(f"{api}/file={guessed}", timeout=30).status_code == 403


def test_forged_session_hash_cannot_write_outside_the_sessions_folder(app_url: str,
                                                                      corpus: Path) -> None:
    tag = f"lora-lens-fault-{uuid.uuid4().hex[:12]}"
    escaped = Path(tempfile.gettempdir()) / tag
    client = new_client(app_url)
    client.session_hash = f"../{tag}"
    try:
        try:
            client.predict(*train_args(corpus), api_name="/train")
        except Exception as exc:  # the fixed app refuses the id with a clear message
            assert "session id is not valid" in str(exc)
        assert not escaped.exists(), f"the app wrote {sorted(p.name for p in escaped.iterdir())} to {escaped}"
    finally:
        shutil.rmtree(escaped, ignore_errors=True)


def test_app_memory_is_well_under_a_free_space(app_url: str) -> None:
    """After the trainings above: the whole app process (models, adapters, caches) < 8 GB.

    By then it may hold the e5 encoder (~1.1 GB), the explorer's Gemma in fp32 (~1.9 GB)
    with its adapters, and the memory a training run left to the allocator; half of a
    free Space's 16 GB leaves room for a second training and the OS.
    """
    import psutil

    port = int(app_url.rstrip("/").rsplit(":", 1)[1])
    pids = {c.pid for c in psutil.net_connections(kind="tcp")
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid}
    assert len(pids) == 1
    rss = psutil.Process(pids.pop()).memory_info().rss
    print(f"app RSS: {rss / 2**20:.0f} MB")
    assert rss < 8 * 2**30
