"""Read (stage 1), live: polite, robust HTTP fetching of one site with httpx (async).

One `SiteFetcher` per run owns an httpx client and an event loop in a background thread, so Prefect
tasks (plain threads) can hand it a batch of URLs and wait, while connections, the robots.txt cache and
the per-host rate and concurrency limits are shared by the whole run.

Politeness: at most ``concurrency`` requests in flight per host, request starts spaced by ``rate`` per
second per host (slower if robots.txt asks for a Crawl-delay), a User-Agent naming breaknews, its
version and the operator's contact, robots.txt read once per host and obeyed, and a host that answers
429/503 with Retry-After is left alone for that long by every request, not only the one that got it.

Robustness: connect/read/total timeouts; retries with exponential backoff and full jitter on
connection errors, timeouts, 429 and 5xx; a body-size cap enforced while streaming (a huge page is cut
off at the cap, not downloaded); redirects followed by hand, only within the site's host family.
Retries, backoff, Retry-After, redirects and the rate limit are the shared HTTP policy (`http.py`).
Every outcome is a value, never an exception, and its type says what happened: `Fetched`,
`NotModified`, or a `FetchFailed` subclass (`HttpError` with its status, `Unreachable` when no
connection could be made at all, `RobotsDenied`, `TooLarge`, `OffSite`); nothing is classified by
reading a message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from protego import Protego

from breaknews.tasks.http import (
    AGENT,
    MAX_REDIRECTS,
    TOO_MANY_REDIRECTS,
    FetchConfig,
    HttpPolicy,
    Pacing,
    Redirect,
    RetryLater,
    status_label,
)
from breaknews.tasks.identify import family_key

T = TypeVar("T")


@dataclass(frozen=True)
class Fetched:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class NotModified:
    url: str


@dataclass(frozen=True)
class FetchFailed:
    """The page could not be had; ``stage`` is what `ingest_failures` records, ``reason`` says why."""

    url: str
    reason: str
    stage: ClassVar[str] = "fetch"
    unreachable: ClassVar[bool] = False  # no connection could be made at all (host down, refused, DNS)


@dataclass(frozen=True)
class HttpError(FetchFailed):
    """The server answered with a status that is not a page (after retries, for 429 and 5xx)."""

    status: int = 0

    @property
    def client_error(self) -> bool:
        return 400 <= self.status < 500


@dataclass(frozen=True)
class Unreachable(FetchFailed):
    """No connection to the host could be made at all: every later request to it fails fast."""

    unreachable: ClassVar[bool] = True


@dataclass(frozen=True)
class RobotsDenied(FetchFailed):
    """robots.txt disallows the URL, or could not be read (then the whole host is off limits)."""

    stage: ClassVar[str] = "robots"


@dataclass(frozen=True)
class TooLarge(FetchFailed):
    """The body is over the byte cap (on the wire or once decompressed), or does not decompress."""


@dataclass(frozen=True)
class OffSite(FetchFailed):
    """A redirect (or the URL itself) leads off the site's host family."""


FetchOutcome = Fetched | NotModified | FetchFailed


@dataclass(frozen=True)
class Validators:
    """What we know of a stored page, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    not_modified: int = 0
    failures: int = 0
    robots_denied: int = 0


class _TooLarge(Exception):
    """Raised while streaming a body over the cap; becomes a `TooLarge` outcome."""


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    interval: float  # seconds between request starts: the configured rate's, or the Crawl-delay's
    robots: Protego | None = None
    robots_failure: FetchFailed | None = None  # set when the host may not be crawled at all
    robots_loaded: bool = False
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    down: Unreachable | None = None  # set once every try of a request failed to connect: fail the rest fast


class SiteFetcher:
    """Fetch pages of one site family. Use as a context manager; call `fetch_many`/`run` from any thread."""

    def __init__(self, allowed: Sequence[str], config: FetchConfig | None = None) -> None:
        """``allowed``: URLs whose host families may be contacted (the site, a feed, named articles)."""
        self.config = config or FetchConfig()
        self.allowed = {family_key(url) for url in allowed}
        # Redirects may go anywhere the fetcher may: within the site's host families.
        self.policy = HttpPolicy(self.config, follows=lambda _origin, target: self.is_allowed(target), pacing=Pacing())
        self.stats = FetchStats()
        self._hosts: dict[str, _Host] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="breaknews-fetch", daemon=True)
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> SiteFetcher:
        self._thread.start()
        self.run(self._open())
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _open(self) -> None:
        c = self.config
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=max(c.concurrency * 4, 8), max_keepalive_connections=c.concurrency * 2),
            **self.policy.client_options(accept_encoding="gzip, deflate"),
        )

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self.run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _shutdown(self) -> None:
        # Fetches still running (the run is being abandoned) are cancelled, so no thread waits forever.
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the fetcher's loop from any other thread and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def fetch_many(self, urls: Sequence[str], validators: dict[str, Validators] | None = None) -> list[FetchOutcome]:
        """Fetch URLs concurrently (within the per-host limits); outcomes in the order of ``urls``."""
        known = validators or {}

        async def all_of() -> list[FetchOutcome]:
            return list(await asyncio.gather(*(self.fetch(u, known.get(u)) for u in urls)))

        try:
            return self.run(all_of())
        except concurrent.futures.CancelledError:
            # The fetcher was closed under us: the run is stopping (Ctrl-C, serve's SIGTERM).
            return [FetchFailed(url, "not fetched: the run was stopped") for url in urls]

    # -- policy ------------------------------------------------------------------------------------
    def is_allowed(self, url: str) -> bool:
        return family_key(url) in self.allowed

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = _Host(asyncio.Semaphore(self.config.concurrency), self.policy.interval)
            self._hosts[host] = state
        return state

    async def _wait_turn(self, url: str, host: _Host) -> None:
        """Space request starts by the host's interval, and honour a pause a Retry-After asked for."""
        wait = self.policy.pacing.turn(url, host.interval)
        if wait > 0:
            await asyncio.sleep(wait)

    async def robots_verdict(self, url: str) -> FetchFailed | None:
        """None when robots.txt lets us fetch ``url``, else the failure to record for it."""
        if not self.config.obey_robots:
            return None
        parts = urlsplit(url)
        host = self._host(parts.netloc)
        async with host.robots_lock:
            if not host.robots_loaded:
                await self._load_robots(parts.scheme, parts.netloc, host)
                host.robots_loaded = True
        if host.robots_failure:
            return replace(host.robots_failure, url=url)
        if host.robots is not None and not host.robots.can_fetch(url, AGENT):
            return RobotsDenied(url, f"robots.txt of {parts.netloc} disallows {parts.path or '/'} for {AGENT}")
        return None

    async def _load_robots(self, scheme: str, netloc: str, host: _Host) -> None:
        outcome = await self._get(f"{scheme}://{netloc}/robots.txt", None, check_robots=False)
        if isinstance(outcome, Fetched):
            host.robots = Protego.parse(outcome.content.decode("utf-8", "replace"))
            delay = host.robots.crawl_delay(AGENT)
            if delay and delay > host.interval:
                host.interval = float(delay)  # the site asked us to go slower than --rate
        elif isinstance(outcome, Unreachable):
            host.robots_failure = outcome
        elif isinstance(outcome, HttpError) and outcome.client_error:
            host.robots = None  # RFC 9309: robots.txt 4xx (none there) means no restrictions
        else:
            # RFC 9309: robots.txt unavailable (5xx, timeouts) means assume complete disallow.
            reason = outcome.reason if isinstance(outcome, FetchFailed) else "no answer"
            host.robots_failure = RobotsDenied(
                outcome.url, f"robots.txt of {netloc} could not be read ({reason}): not crawling the host"
            )

    # -- fetching ----------------------------------------------------------------------------------
    async def fetch(self, url: str, validators: Validators | None = None) -> FetchOutcome:
        try:
            outcome = await self._get(url, validators, check_robots=True)
        except (httpx.HTTPError, ValueError, UnicodeError) as exc:  # e.g. a URL httpx cannot send
            outcome = FetchFailed(url, f"cannot fetch: {type(exc).__name__}: {exc}")
        if isinstance(outcome, FetchFailed):
            self.stats.failures += 1
            if outcome.stage == "robots":
                self.stats.robots_denied += 1
        elif isinstance(outcome, NotModified):
            self.stats.not_modified += 1
        return outcome

    async def _get(self, url: str, validators: Validators | None, *, check_robots: bool) -> FetchOutcome:
        current, allowed = url, self.is_allowed(url)
        for _ in range(MAX_REDIRECTS + 1):
            if not allowed:
                return OffSite(url, f"refused to leave the site: {current} is on another host")
            if check_robots:
                verdict = await self.robots_verdict(current)
                if verdict:
                    return replace(verdict, url=url)
            outcome = await self._attempts(url, current, validators)
            if isinstance(outcome, Redirect):
                current, allowed = outcome.target, self.policy.may_follow(url, outcome.target)
                continue
            return outcome
        return FetchFailed(url, TOO_MANY_REDIRECTS)

    async def _attempts(self, url: str, current: str, validators: Validators | None) -> FetchOutcome | Redirect:
        # The slot is held through the backoff too: a struggling host gets no more than `concurrency`
        # requests (and their retries) at a time, and requests queued behind a dead host fail fast.
        host = self._host(urlsplit(current).netloc)
        async with host.semaphore:
            if host.down:
                return replace(host.down, url=url)
            outcome = await self._retrying(url, current, validators, host)
            if isinstance(outcome, Unreachable):
                host.down = outcome
            return outcome

    async def _retrying(
        self, url: str, current: str, validators: Validators | None, host: _Host
    ) -> FetchOutcome | Redirect:
        c = self.config
        attempts = self.policy.attempts()
        last_status: int | None = None
        connected = False
        while True:
            if attempts.made:
                self.stats.retries += 1
            try:
                await self._wait_turn(current, host)
                self.stats.requests += 1
                async with asyncio.timeout(c.total_timeout):
                    result = await self._once(url, current, validators)
                connected = True
                if not isinstance(result, RetryLater):
                    return result
                refused = self.policy.refusal(result)
                if refused:
                    return HttpError(url, refused, status=result.status)
                if result.retry_after is not None:  # every request to the host waits, not only this one
                    self.policy.pacing.pause(current, result.retry_after)
                wait, last_status = attempts.failed(result.label, result.retry_after), result.status
            except _TooLarge as exc:
                return TooLarge(url, str(exc))
            except (TimeoutError, httpx.TimeoutException) as exc:
                connected = connected or not isinstance(exc, httpx.ConnectTimeout)
                wait, last_status = attempts.failed(f"timed out ({_timeout_kind(exc, c)})"), None
            except httpx.TransportError as exc:
                connected = connected or not isinstance(exc, httpx.ConnectError)
                wait = attempts.failed(f"connection failed: {type(exc).__name__}: {exc or 'no detail'}")
                last_status = None
            if wait is None:
                break
            await asyncio.sleep(wait)
        if not connected:
            return Unreachable(url, f"site unreachable: {attempts.reason}")
        if last_status is not None:
            return HttpError(url, attempts.reason, status=last_status)
        return FetchFailed(url, attempts.reason)

    async def _once(
        self, url: str, current: str, validators: Validators | None
    ) -> FetchOutcome | Redirect | RetryLater:
        """One request: an outcome, a redirect to follow, or an answer worth retrying."""
        assert self._client is not None
        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._client.stream("GET", current, headers=headers) as response:
            status = response.status_code
            verdict = self.policy.judge(response, current)
            if verdict is not None:
                return verdict
            if status == 304:
                return NotModified(url)
            if status != 200:
                return HttpError(url, status_label(response), status=status)
            content = await self._read_capped(response)
        return Fetched(
            url=url,
            final_url=current,
            status=status,
            content=content,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            fetched_at=datetime.now(UTC),
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _TooLarge(f"page too large: {int(declared):,} bytes declared, the cap is {cap:,}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():  # raw: the cap applies to bytes on the wire
            size += len(chunk)
            if size > cap:
                raise _TooLarge(f"page too large: more than {cap:,} bytes, cut off")
            chunks.append(chunk)
        self.stats.bytes += size
        raw = b"".join(chunks)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "deflate"):
            raw = _decompress_capped(raw, encoding, cap)
        return raw


def _decompress_capped(raw: bytes, encoding: str, cap: int) -> bytes:
    import zlib

    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(raw, cap + 1)
    except zlib.error as exc:
        raise _TooLarge(f"body does not decompress as {encoding}: {exc}") from exc
    if len(out) > cap:  # a compression bomb
        raise _TooLarge(f"page too large: more than {cap:,} bytes once decompressed, cut off")
    return out


def _timeout_kind(exc: BaseException, config: FetchConfig) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {config.connect_timeout:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no data for {config.read_timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return type(exc).__name__
    return f"not complete within {config.total_timeout:g} s"
