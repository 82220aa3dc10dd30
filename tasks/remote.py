"""Read (stage 1), remote files: a WARC file (or a list of them) streamed over HTTP, never written to disk.

`RemoteFile` is a file object over one URL that the WARC reader pulls from as it parses: bytes arrive as
they are read, so a 1 GB CC-NEWS file costs a window of memory, not a download. It follows the same
HTTP policy as the live fetcher (`tasks/http.py`), with the same settings (`FetchConfig`):

- a User-Agent naming breaknews and the operator's contact; proxies from the environment ignored;
- request starts spaced by ``rate`` per second per host, across every archive stream of the process;
- retries with exponential backoff and full jitter after connection errors, timeouts, 429 and 5xx,
  waiting at least as long as Retry-After asks (up to ``max_retry_after``);
- redirects followed only on the same host;

and adds what only a stream needs:

- a connection that drops mid-file is resumed where it broke with a ``Range`` request (or, from a
  server without ranges, by reading again and discarding what was already had); ``retries`` counts
  consecutive attempts without progress, so a long file survives many hiccups but not a dead server;
- a stream that trickles (under ``min_rate`` bytes/s over ``total_timeout`` seconds of waiting for it:
  a server that keeps each read just inside ``read_timeout``) counts as broken too: it is resumed on a
  new connection, and fails after ``retries`` + 1 such windows in a row, so no server holds a scan forever.

The last ``window`` bytes stay in memory, so the reader can step back (to resynchronise after a corrupt
record, or to check the end of the file); a step back further than that costs a ``Range`` request.
Everything that goes wrong is a `RemoteFileError` with a reason; it is not an `OSError`, so the WARC
reader tells a broken download from a broken archive.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from breaknews.tasks.http import (
    MAX_REDIRECTS,
    TOO_MANY_REDIRECTS,
    FetchConfig,
    HttpPolicy,
    Pacing,
    Redirect,
    after_tries,
    backoff_seconds,
    status_label,
)
from breaknews.warehouse.errors import BreaknewsError

WINDOW = 16 * 1024 * 1024  # bytes kept behind the read position
CHUNK = 256 * 1024

# Every archive stream of the process spaces its requests to a host with the others.
STREAMS = Pacing()


class RemoteFileError(BreaknewsError):
    """A remote file could not be had (whole): the reason says why. Trying later may help."""

    transient = True


def is_remote(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


class RemoteFile:
    """A read-only, forward-streaming file object over an HTTP(S) URL (``read``, ``seek``, ``tell``)."""

    def __init__(self, url: str, config: FetchConfig | None = None, *, window: int = WINDOW) -> None:
        self.url = url
        self.config = config or FetchConfig()
        self.policy = HttpPolicy(self.config, pacing=STREAMS)
        self.window = window
        self.size: int | None = None  # from Content-Length or Content-Range, once known
        self.received = 0  # bytes off the wire, counting re-reads after a drop
        self.requests = 0
        self._client = httpx.Client(**self.policy.client_options(accept_encoding="identity"))
        self._response: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._buf = bytearray()
        self._buf_start = 0  # file offset of _buf[0]
        self._pos = 0  # file offset of the next read
        self._discard = 0  # bytes still to drop from a 200 answer to a ranged request
        self._eof = False
        # Throughput is judged on the time spent waiting for the network, not on wall time: a reader that
        # pauses (to extract and load what it read) throttles the server through TCP, no fault of the server's.
        self._waiting = 0.0  # seconds spent waiting for chunks
        self._rate_mark = (0.0, 0)  # (self._waiting, self.received) at the start of the current window
        self._slow_windows = 0  # consecutive windows under min_rate
        try:
            self._open(0)
        except BaseException:
            self._client.close()
            raise

    # -- file object --------------------------------------------------------------------------------
    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer when that is what has arrived); ``b""`` only at the end."""
        if size is None or size < 0:
            parts = []
            while chunk := self.read(CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        while self._pos >= self._buffered_end and not self._eof:
            self._fill()
        start = self._pos - self._buf_start
        data = bytes(self._buf[start : start + size])
        self._pos += len(data)
        return data

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self._pos
        elif whence == 2:
            if self.size is None:
                raise RemoteFileError(f"{self.url}: size unknown, cannot seek from its end")
            offset += self.size
        offset = max(0, offset)
        if offset < self._buf_start:  # behind the window: ask again from there
            self._open(offset)
        self._pos = offset
        return offset

    @property
    def held(self) -> int:
        """Bytes of the file held in memory now (the window behind the read position, and what has
        arrived ahead of it)."""
        return len(self._buf)

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._close_response()
        self._client.close()

    def __enter__(self) -> RemoteFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- streaming ----------------------------------------------------------------------------------
    @property
    def _buffered_end(self) -> int:
        return self._buf_start + len(self._buf)

    def _fill(self) -> None:
        """Append the next chunk from the network to the window, resuming after a drop."""
        failures = 0
        while True:
            try:
                assert self._chunks is not None
                asked = time.monotonic()
                try:
                    chunk = next(self._chunks, None)
                finally:
                    self._waiting += time.monotonic() - asked
            except (httpx.TransportError, httpx.TimeoutException, httpx.StreamError) as exc:
                failures += 1
                self._resume(failures, f"connection broke at byte {self._buffered_end:,}: {_describe(exc)}")
                continue
            if chunk is None:
                if self.size is not None and self._buffered_end < self.size:
                    failures += 1
                    self._resume(failures, f"the server ended the file at byte {self._buffered_end:,} of {self.size:,}")
                    continue
                self._eof = True
                return
            self.received += len(chunk)
            if self._discard:
                dropped = min(self._discard, len(chunk))
                self._discard -= dropped
                chunk = chunk[dropped:]
                if not chunk:
                    continue
            self._buf += chunk
            if len(self._buf) > 2 * self.window and self._pos - self._buf_start > self.window:
                drop = self._pos - self._buf_start - self.window
                del self._buf[:drop]
                self._buf_start += drop
            self._check_rate()
            return

    def _check_rate(self) -> None:
        """At the end of each window of ``total_timeout`` seconds spent waiting for the network: a window
        under ``min_rate`` reopens the stream where it is (a new connection may be faster); ``retries`` + 1
        such windows in a row fail the file."""
        c = self.config
        since, had = self._rate_mark
        elapsed = self._waiting - since
        if elapsed < c.total_timeout:
            return
        got = self.received - had
        if got >= c.min_rate * elapsed:
            self._slow_windows = 0
        else:
            self._slow_windows += 1
            reason = (
                f"too slow at byte {self._buffered_end:,}: {got:,} bytes in {elapsed:.1f} s of waiting"
                f" (at least {c.min_rate:,.0f} bytes/s wanted)"
            )
            if self._slow_windows > c.retries:
                raise RemoteFileError(after_tries(reason, self._slow_windows))
            self._open(self._buffered_end, keep_window=True)
        self._rate_mark = (self._waiting, self.received)

    def _resume(self, failures: int, reason: str) -> None:
        if failures > self.config.retries:
            raise RemoteFileError(after_tries(reason, failures))
        time.sleep(backoff_seconds(self.config, failures - 1))
        self._open(self._buffered_end, keep_window=True)

    def _open(self, offset: int, *, keep_window: bool = False) -> None:
        """Start streaming at ``offset``: the request (with retries and same-host redirects) and its checks."""
        self._close_response()
        if not keep_window:
            self._buf = bytearray()
            self._buf_start = offset
        self._eof = False
        if self.size is not None and offset >= self.size:
            self._eof = True
            return
        response = self._request(offset)
        if response.status_code == 416:  # asked past the end: nothing more to read
            response.close()
            self._eof = True
            return
        total = _total_size(response)
        if total is not None:
            self.size = total
        self._discard = offset if response.status_code == 200 else 0
        self._response = response
        self._chunks = response.iter_raw()  # as the bytes arrive: a drop loses nothing already received

    def _request(self, offset: int) -> httpx.Response:
        """The answer to a request from ``offset`` on: redirects followed, failures tried again, as the
        HTTP policy says; anything else the policy gives up on is a `RemoteFileError`."""
        policy = self.policy
        current = self.url
        redirects = 0
        attempts = policy.attempts()
        while True:
            time.sleep(policy.pacing.turn(current, policy.interval))
            self.requests += 1
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                response = self._client.send(self._client.build_request("GET", current, headers=headers), stream=True)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                wait = attempts.failed(_describe(exc))
            else:
                verdict = policy.judge(response, current)
                if verdict is None:
                    return self._checked(response, offset)
                response.close()
                if isinstance(verdict, Redirect):
                    if not policy.may_follow(self.url, verdict.target):
                        raise RemoteFileError(f"refused to follow a redirect to another host: {verdict.target}")
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise RemoteFileError(TOO_MANY_REDIRECTS)
                    current = verdict.target
                    continue
                refused = policy.refusal(verdict)
                if refused:
                    raise RemoteFileError(refused)
                if verdict.retry_after is not None:  # every stream from the host waits, not only this one
                    policy.pacing.pause(current, verdict.retry_after)
                wait = attempts.failed(verdict.label, verdict.retry_after)
            if wait is None:
                raise RemoteFileError(attempts.reason)
            time.sleep(wait)

    @staticmethod
    def _checked(response: httpx.Response, offset: int) -> httpx.Response:
        """An answer the policy leaves to the stream: the bytes asked for, the end of the file (416),
        or a failure."""
        status = response.status_code
        if status in (200, 206, 416) and not (status == 206 and _range_start(response) != offset):
            return response
        response.close()
        if status == 206:
            raise RemoteFileError(f"the server answered a range request for byte {offset:,} wrongly")
        raise RemoteFileError(status_label(response))

    def _close_response(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response, self._chunks = None, None


def _total_size(response: httpx.Response) -> int | None:
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _range_start(response: httpx.Response) -> int | None:
    value = response.headers.get("content-range", "")  # "bytes 100-199/1000"
    first = value.removeprefix("bytes ").partition("-")[0].strip()
    return int(first) if first.isdigit() else None


def _describe(exc: BaseException) -> str:
    detail = str(exc) or "no detail"
    return f"{type(exc).__name__}: {detail}"


def read_remote(url: str, config: FetchConfig | None = None, *, limit: int) -> bytes:
    """The whole of a small remote file (a path list), refusing more than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    with RemoteFile(url, config) as remote:
        while size <= limit and (chunk := remote.read(CHUNK)):
            parts.append(chunk)
            size += len(chunk)
    data = b"".join(parts)
    if len(data) > limit:
        raise RemoteFileError(f"{url} is larger than {limit:,} bytes")
    return data
