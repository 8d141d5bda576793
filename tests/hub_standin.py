"""A Hugging Face Hub stand-in on loopback: the part of the Hub protocol huggingface_hub uses.

Why our own: no maintained package serves model repos to `huggingface_hub` (searched PyPI,
2026-12-05), and tests must run every real Hub code path (probe, `snapshot_download`,
`get_safetensors_metadata`, `HfApi.upload_folder`) without the internet. Point
`HF_ENDPOINT` at `HubStandin.url`. Serves repos built in the test from folders:

- GET  /api/models/{repo}[/revision/{rev}]          repo info (sha, siblings)
- GET  /api/models/{repo}/tree/{rev}[/{path}]        file list (size, oid)
- HEAD/GET /{repo}/resolve/{rev}/{file}              X-Repo-Commit, ETag, Content-Length, Range
- 404 with X-Error-Code RepoNotFound / EntryNotFound
- POST /api/repos/create, /api/validate-yaml, /api/models/{repo}/preupload/{rev} ("regular"),
       /api/models/{repo}/commit/{rev} (ndjson, base64 files): pushes land in `repos`.

Modes: "ok"; "503" (every request answered 503); "stall" (accepts the connection, reads
the request, never answers). `log` records (method, path, Range header) of every request.
Run it alone: `python -m tests.hub_standin MODE REPO=FOLDER ...` (prints its URL).
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

MODES = ("ok", "503", "stall")


class Repo:
    """One model repo: relative path → bytes, and a commit sha that changes with each push."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.sha = self._sha()

    @classmethod
    def from_folder(cls, folder: Path) -> Repo:
        folder = Path(folder)
        return cls({p.relative_to(folder).as_posix(): p.read_bytes()
                    for p in sorted(folder.rglob("*")) if p.is_file()})

    def _sha(self) -> str:
        h = hashlib.sha1()
        for name in sorted(self.files):
            h.update(name.encode() + hashlib.sha1(self.files[name]).digest())
        return h.hexdigest()

    def commit(self, files: dict[str, bytes]) -> None:
        self.files.update(files)
        self.sha = self._sha()


class HubStandin:
    """The stand-in server in a daemon thread; use as a context manager or call close()."""

    def __init__(self, mode: str = "ok") -> None:
        if mode not in MODES:
            raise ValueError(f"mode: one of {MODES}, not {mode!r}")
        self.mode = mode
        self.repos: dict[str, Repo] = {}
        self.log: list[tuple[str, str, str]] = []
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="hub-standin")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_folder(self, repo_id: str, folder: Path) -> None:
        self.repos[repo_id] = Repo.from_folder(folder)

    def weight_downloads(self) -> list[tuple[str, str, str]]:
        """GETs of weight files that were not a header read (a Range request of ≤ 1 MB)."""
        out = []
        for method, path, rng in self.log:
            if method == "GET" and "/resolve/" in path and path.endswith(".safetensors"):
                if not rng or _range_len(rng) > 2**20:
                    out.append((method, path, rng))
        return out

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HubStandin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _range_len(header: str) -> int:
    try:
        start, end = header.split("=", 1)[1].split("-", 1)
        return int(end) - int(start) + 1 if end else 1 << 62
    except (ValueError, IndexError):
        return 1 << 62


def _handler(hub: HubStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet; `hub.log` keeps the record
            pass

        # ---- plumbing -------------------------------------------------------------
        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                  ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj: object, status: int = 200) -> None:
            self._send(status, json.dumps(obj).encode())

        def _error(self, status: int, code: str, message: str) -> None:
            self._send(status, json.dumps({"error": message}).encode(),
                       {"X-Error-Code": code, "X-Error-Message": message})

        def _body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                return self.rfile.read(n)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while (size := int(self.rfile.readline().strip() or b"0", 16)):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return b""

        def _gate(self) -> bool:
            """Log the request; False when the mode answers it instead of the Hub logic."""
            hub.log.append((self.command, unquote(urlparse(self.path).path), self.headers.get("Range", "")))
            if hub.mode == "503":
                self._body()
                self._error(503, "ServiceUnavailable", "stand-in: Hub unavailable")
                return False
            if hub.mode == "stall":
                hub._release.wait()  # holds the connection open, answers nothing
                self.close_connection = True
                return False
            return True

        # ---- reads ----------------------------------------------------------------
        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if not self._gate():
                return
            path = unquote(urlparse(self.path).path)
            if path.startswith("/api/models/"):
                return self._api(path[len("/api/models/"):])
            if "/resolve/" in path:
                repo_id, rest = path.lstrip("/").split("/resolve/", 1)
                return self._resolve(repo_id, rest.split("/", 1)[1] if "/" in rest else "")
            self._error(404, "RepoNotFound", f"no route {path}")

        def _api(self, rest: str) -> None:
            parts = rest.split("/")
            repo_id, tail = "/".join(parts[:2]), parts[2:]
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
            if tail[:1] == ["tree"]:
                prefix = "/".join(tail[2:])
                return self._json([{"type": "file", "path": n, "size": len(b),
                                    "oid": hashlib.sha1(b).hexdigest()}
                                   for n, b in sorted(repo.files.items()) if n.startswith(prefix)])
            self._json({"id": repo_id, "modelId": repo_id, "sha": repo.sha, "private": False,
                        "siblings": [{"rfilename": n} for n in sorted(repo.files)], "tags": []})

        def _resolve(self, repo_id: str, name: str) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
            data = repo.files.get(name)
            if data is None:
                return self._error(404, "EntryNotFound", f"{name} does not exist in {repo_id}")
            headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                       "Accept-Ranges": "bytes"}
            rng, status = self.headers.get("Range"), 200
            if rng and self.command == "GET":
                start, _, end = rng.split("=", 1)[1].partition("-")
                first, last = int(start), min(int(end) if end else len(data) - 1, len(data) - 1)
                headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
                data, status = data[first:last + 1], 206
            headers["Content-Length"] = str(len(data))
            self._send(status, data, headers, "application/octet-stream")

        # ---- uploads --------------------------------------------------------------
        def do_POST(self) -> None:
            if not self._gate():
                return
            path, body = unquote(urlparse(self.path).path), self._body()
            if path == "/api/validate-yaml":  # a README's front matter, checked before a commit
                return self._json({"errors": [], "warnings": []})
            if path == "/api/repos/create":
                payload = json.loads(body or b"{}")
                repo_id = f"{payload.get('organization') or 'user'}/{payload['name']}"
                if repo_id in hub.repos:  # the Hub's 409 carries the url too (exist_ok reads it)
                    return self._send(409, json.dumps({"error": "You already created this model repo",
                                                       "url": f"{hub.url}/{repo_id}"}).encode())
                hub.repos[repo_id] = Repo({})
                return self._json({"url": f"{hub.url}/{repo_id}", "name": repo_id})
            parts = path[len("/api/models/"):].split("/")
            repo_id, action = "/".join(parts[:2]), parts[2] if len(parts) > 2 else ""
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
            if action == "preupload":
                files = json.loads(body)["files"]
                return self._json({"files": [{"path": f["path"], "uploadMode": "regular",
                                              "shouldIgnore": False} for f in files]})
            if action == "commit":
                added = {}
                for line in body.decode().splitlines():
                    item = json.loads(line) if line.strip() else {}
                    if item.get("key") == "file":
                        added[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                repo.commit(added)
                return self._json({"commitUrl": f"{hub.url}/{repo_id}/commit/{repo.sha}",
                                   "commitOid": repo.sha, "pullRequestUrl": None})
            self._error(404, "EntryNotFound", f"no route {path}")

    return Handler


def header_only_model(folder: Path, params: int, dtype: str = "BF16") -> Path:
    """A model folder whose safetensors file declares `params` parameters but holds only its
    header: enough for every size check, far too big to load — and nothing to download."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = max(1, params // 4096)
    width = {"BF16": 2, "F16": 2, "F32": 4}[dtype]
    header = json.dumps({"w": {"dtype": dtype, "shape": [rows, 4096],
                               "data_offsets": [0, rows * 4096 * width]}}).encode()
    (folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
        "num_hidden_layers": 2, "vocab_size": 32000, "intermediate_size": 11008}))
    return folder


if __name__ == "__main__":  # a stand-in for manual runs of the app
    mode, *specs = sys.argv[1:] or ["ok"]
    standin = HubStandin(mode)
    for spec in specs:
        repo, folder = spec.split("=", 1)
        standin.add_folder(repo, Path(folder))
    print(standin.url, flush=True)
    while True:
        time.sleep(3600)
