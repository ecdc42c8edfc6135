"""A Hugging Face Hub on 127.0.0.1 for tests and benchmarks: folders laid out as Hub
repositories, served with the requests ``huggingface_hub`` makes
(``../shared/docs/hub-and-spaces.md``), a log of every request, and faults on demand (an
error status, a stall, a file cut short)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass
class Fault:
    """What to do, ``times`` times, to requests for files whose path ends with ``suffix``:
    ``status`` answers 500, ``stall`` sleeps ``seconds`` before answering, ``truncate`` sends
    half of the file under a full ``Content-Length`` and closes the connection."""

    suffix: str
    kind: str
    times: int = 1
    seconds: float = 5.0


@dataclass
class LoopbackHub:
    repos: dict[str, Path] = field(default_factory=dict)  # repo id -> folder
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    faults: list[Fault] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_repo(self, repo_id: str, folder: Path) -> None:
        self.repos[repo_id] = folder

    def file_gets(self) -> list[str]:
        """The repository paths of every file body sent (``GET .../resolve/...``)."""
        return [path.split("/resolve/", 1)[1].split("/", 1)[1]
                for method, path in self.requests if method == "GET" and "/resolve/" in path]

    def fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and path.endswith(fault.suffix):
                    fault.times -= 1
                    return fault
        return None

    @staticmethod
    def sha(repo_id: str) -> str:
        return hashlib.sha1(repo_id.encode()).hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _handler(hub: LoopbackHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's names
            self._serve(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(body=True)

        def _send(self, status: int, payload: bytes = b"", headers: dict | None = None,
                  body: bool = True) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(payload)), **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def _json(self, data: object) -> None:
            self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

        def _serve(self, body: bool) -> None:
            path = unquote(urlparse(self.path).path)
            hub.requests.append((self.command, path))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 6:
                return self._api(f"{parts[2]}/{parts[3]}", parts[4])
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._file(f"{parts[0]}/{parts[1]}", "/".join(parts[4:]), body)
            self._send(404, headers={"X-Error-Code": "EntryNotFound"}, body=body)

        def _api(self, repo_id: str, what: str) -> None:
            folder = hub.repos.get(repo_id)
            if folder is None:
                return self._send(404, b'{"error": "not found"}', {"X-Error-Code": "RepoNotFound"})
            files = _files(folder)
            rel = [p.relative_to(folder).as_posix() for p in files]
            if what == "revision":
                return self._json({"id": repo_id, "sha": hub.sha(repo_id),
                                   "siblings": [{"rfilename": r} for r in rel]})
            self._json([{"type": "file", "path": r, "size": p.stat().st_size, "oid": hub.sha(r)}
                        for r, p in zip(rel, files, strict=True)])

        def _file(self, repo_id: str, rel: str, body: bool) -> None:
            folder = hub.repos.get(repo_id)
            if folder is None:
                return self._send(404, headers={"X-Error-Code": "RepoNotFound"}, body=body)
            file = folder / rel
            if not file.is_file():
                return self._send(404, headers={"X-Error-Code": "EntryNotFound"}, body=body)
            fault = hub.fault_for(rel) if body else None
            if fault is not None and fault.kind == "stall":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "status":
                return self._send(500, b"internal error")
            data = file.read_bytes()
            headers = {"X-Repo-Commit": hub.sha(repo_id), "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                       "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
            status, start = 200, 0
            ranged = self.headers.get("Range", "")
            if body and ranged.startswith("bytes="):
                start = int(ranged[6:].split("-")[0] or 0)
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                status = 206
            payload = data[start:]
            if fault is not None and fault.kind == "truncate":
                self.send_response(status)
                for key, value in {"Content-Length": str(len(payload)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
            self._send(status, payload, headers, body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on a stalled or cut-short file: expected here


class LoopbackServer:
    """The server around a :class:`LoopbackHub`, on a free port of 127.0.0.1."""

    def __init__(self, hub: LoopbackHub):
        self.hub = hub
        self._server = _QuietServer(("127.0.0.1", 0), _handler(hub))
        hub.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackHub:
        self._thread.start()
        return self.hub

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
