"""A loopback file server for archive tests: WARC files and path lists over HTTP, with faults.

A real threaded HTTP/1.1 server on 127.0.0.1, port 0, serving bytes put at paths, with ``Range:
bytes=N-`` answered ``206`` (as Common Crawl's server does; ``ranges=False`` ignores them) and every
request logged. Faults, per path: ``drop_at`` (send the body up to that byte, then break the
connection; ``times`` drops, then normal), ``stall_at`` (send up to that byte, then go silent until
released), ``status`` (answer an error status ``times`` times, with an optional Retry-After),
``redirect`` (answer 302 to a location), ``drip`` (send up to that byte, then one byte every ``every``
seconds, each read just inside a read timeout, for at most ``limit`` seconds before breaking the
connection, ``times`` times).

    with ArchiveServer() as server:
        server.put("/crawl-data/a.warc.gz", data)
        server.drop("/crawl-data/a.warc.gz", at=50_000, times=1)
        ... server.url("/crawl-data/a.warc.gz") ... server.requests
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class _Fault:
    kind: str  # drop | stall | status | redirect | drip
    at: int = 0
    every: float = 0.0
    limit: float = 0.0
    location: str = ""
    status: int = 503
    retry_after: str | None = None
    times: int | None = None  # None: every request


@dataclass(frozen=True)
class Logged:
    path: str
    range: str | None
    user_agent: str | None


class ArchiveServer:
    def __init__(self, *, ranges: bool = True) -> None:
        self.ranges = ranges
        self.files: dict[str, bytes] = {}
        self.requests: list[Logged] = []
        self._faults: dict[str, _Fault] = {}
        self._lock = threading.Lock()
        self.released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def put(self, path: str, data: bytes) -> None:
        self.files["/" + path.lstrip("/")] = data

    def drop(self, path: str, *, at: int, times: int | None = None) -> None:
        self._faults["/" + path.lstrip("/")] = _Fault("drop", at=at, times=times)

    def stall(self, path: str, *, at: int) -> None:
        self._faults["/" + path.lstrip("/")] = _Fault("stall", at=at)

    def drip(self, path: str, *, at: int, every: float, limit: float = 10.0, times: int | None = None) -> None:
        self._faults["/" + path.lstrip("/")] = _Fault("drip", at=at, every=every, limit=limit, times=times)

    def fail(self, path: str, status: int, *, times: int | None = None, retry_after: str | None = None) -> None:
        self._faults["/" + path.lstrip("/")] = _Fault("status", status=status, times=times, retry_after=retry_after)

    def redirect(self, path: str, location: str) -> None:
        self._faults["/" + path.lstrip("/")] = _Fault("redirect", location=location)

    def clear_faults(self) -> None:
        self._faults.clear()
        self.released.set()

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            fault = self._faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[path]
            return fault


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ArchiveServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that stops reading mid-file (it seeks back, or gives up) resets the connection.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        asked = self.headers.get("Range")
        with owner._lock:
            owner.requests.append(Logged(path, asked, self.headers.get("User-Agent")))
        data = owner.files.get(path)
        fault = owner._take_fault(path)
        if fault is not None and fault.kind == "redirect":
            return self._answer(302, b"", {"Location": fault.location})
        if fault is not None and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._answer(fault.status, b"unavailable", extra)
        if data is None:
            return self._answer(404, b"not found")
        start = 0
        if asked and owner.ranges and asked.startswith("bytes=") and asked[6:].rstrip("-").isdigit():
            start = int(asked[6:].rstrip("-"))
            if start >= len(data):
                return self._answer(416, b"", {"Content-Range": f"bytes */{len(data)}"})
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes" if owner.ranges else "none")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if fault is None or fault.kind not in ("drop", "stall", "drip"):
            self.wfile.write(data[start:])
            return
        if fault.kind == "drip":
            self.wfile.write(data[start : max(start, fault.at)])
            until = time.monotonic() + fault.limit
            for offset in range(max(start, fault.at), len(data)):
                self.wfile.write(data[offset : offset + 1])
                self.wfile.flush()
                if owner.released.wait(fault.every) or time.monotonic() > until:
                    break
        else:
            self.wfile.write(data[start : max(start, fault.at)])
            self.wfile.flush()
        if fault.kind == "stall":
            owner.released.wait(120)
        # Break the connection mid-body: a TCP reset, as a failing server or network does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
