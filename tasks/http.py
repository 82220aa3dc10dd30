"""The one HTTP policy every breaknews client follows: the page fetcher (`fetch.py`, async), archive
streams (`remote.py`, sync), and any later client (a record read by Range, a Wayback capture).

What it decides, here and nowhere else:

- who we are: a User-Agent naming breaknews, its version and the operator's contact; proxies from the
  environment ignored, redirects never followed by httpx itself (`HttpPolicy.client_options`);
- what is tried again: a connection error, a timeout, an answer in ``RETRY_STATUSES`` (429, 5xx), up
  to ``retries`` more attempts (`Attempts`);
- how long to wait: exponential backoff with full jitter, never less than the Retry-After the server
  asked for; a Retry-After longer than ``max_retry_after`` is not waited for (`HttpPolicy.refusal`),
  and while one lasts no request starts to that host (`Pacing.pause`);
- which redirects are followed: at most ``MAX_REDIRECTS`` hops, each one checked by
  `HttpPolicy.may_follow`;
- how request starts to a host (its host and port) are spaced: ``rate`` per second, or slower where
  the host asked (`Pacing`).

Clients keep only what is theirs: robots.txt and the body cap (pages), resuming a broken stream
(archives), and what an outcome is called.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

AGENT = "breaknews"  # the product token of the User-Agent, and the agent robots.txt rules are read for
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TOO_MANY_REDIRECTS = f"more than {MAX_REDIRECTS} redirects"


@dataclass(frozen=True)
class FetchConfig:
    """The settings of every HTTP client breaknews runs (the command line's fetch options)."""

    concurrency: int = 4  # requests in flight per host
    rate: float = 2.0  # request starts per second per host; 0 = no limit
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0  # one attempt, headers to last byte
    # An archive stream (hours for a CC-NEWS file) has no total timeout; instead it must average this many
    # bytes per second over every `total_timeout` seconds, or it counts as broken (resumed, then failed).
    min_rate: float = 8 * 1024
    retries: int = 3  # further attempts after the first
    backoff_base: float = 1.0  # first retry waits up to this long, doubling each time (full jitter)
    backoff_max: float = 60.0
    max_retry_after: float = 300.0  # a longer Retry-After is not waited for: the URL fails
    max_bytes: int = DEFAULT_MAX_BYTES
    contact: str | None = None
    obey_robots: bool = True


def package_version() -> str:
    try:
        return version("breaknews")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0"


def user_agent(contact: str | None) -> str:
    """``breaknews/0.1.0 (+https://example.org/contact)``: who we are and how to reach the operator."""
    base = f"{AGENT}/{package_version()} (Korean-English news archiver"
    return f"{base}; +{contact})" if contact else f"{base})"


def status_label(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


def after_tries(last: str, tries: int) -> str:
    return f"{last} (after {tries} {'try' if tries == 1 else 'tries'})"


def backoff_seconds(config: FetchConfig, attempt: int, retry_after: float | None = None) -> float:
    """How long to wait before retry ``attempt + 1``: exponential backoff with full jitter, and never
    less than a Retry-After the server asked for."""
    backoff = random.uniform(0, min(config.backoff_max, config.backoff_base * 2**attempt))
    return max(backoff, retry_after or 0.0)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds, from delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def host_key(url: str) -> str:
    """The host a URL's requests count against (for spacing and pauses): its host and port."""
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True)
class Redirect:
    """An answer that sends the client elsewhere: the target, resolved against the URL asked."""

    target: str


@dataclass(frozen=True)
class RetryLater:
    """An answer worth another attempt (429, 5xx): its status, the Retry-After it asked for, a label."""

    status: int
    retry_after: float | None
    label: str


class Attempts:
    """The attempts of one request: each failed one is recorded with `failed`, which says how long to
    wait before the next (or None: none is left); `reason` then says what the last one got."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self.made = 0
        self.last = "no attempt made"

    def failed(self, label: str, retry_after: float | None = None) -> float | None:
        self.made += 1
        self.last = label
        if self.made > self.config.retries:
            return None
        return backoff_seconds(self.config, self.made - 1, retry_after)

    @property
    def reason(self) -> str:
        return after_tries(self.last, self.made)


class Pacing:
    """When requests may start, per host: one per ``interval`` seconds (the caller's ``rate``, or what
    the host asked for), none while a pause the host asked for (Retry-After) lasts. It never blocks:
    `turn` says how long to wait, so a thread sleeps and a coroutine awaits. Safe from any thread."""

    def __init__(self) -> None:
        self._next_start: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def turn(self, url: str, interval: float) -> float:
        """Take the next start for ``url``'s host, ``interval`` seconds after the one before it: the
        seconds to wait until then."""
        host = host_key(url)
        if not interval and host not in self._paused_until:
            return 0.0  # no limit, no pause asked for: no lock taken
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, 0.0), self._paused_until.get(host, 0.0))
            self._next_start[host] = start + interval
        return start - now

    def pause(self, url: str, seconds: float) -> None:
        """No request to ``url``'s host starts for ``seconds`` (every request, not only the one told)."""
        host = host_key(url)
        with self._lock:
            self._paused_until[host] = max(self._paused_until.get(host, 0.0), time.monotonic() + seconds)


RedirectRule = Callable[[str, str], bool]  # (the URL first asked for, a redirect's target) -> follow it?


def same_host(origin: str, target: str) -> bool:
    return urlsplit(target).hostname == urlsplit(origin).hostname


class HttpPolicy:
    """The policy with a client's settings (``config``), its rule for redirects (``follows``: by
    default only to the host first asked for) and the pacing it shares with other clients (by
    default its own)."""

    def __init__(
        self, config: FetchConfig | None = None, *, follows: RedirectRule = same_host, pacing: Pacing | None = None
    ) -> None:
        self.config = config or FetchConfig()
        self.follows = follows
        self.pacing = pacing or Pacing()

    @property
    def interval(self) -> float:
        """Seconds between request starts to one host that the configured rate allows."""
        return 1.0 / self.config.rate if self.config.rate > 0 else 0.0

    def client_options(self, accept_encoding: str) -> dict[str, Any]:
        """The settings of the client's httpx.Client or httpx.AsyncClient."""
        c = self.config
        return {
            "headers": {"User-Agent": user_agent(c.contact), "Accept-Encoding": accept_encoding},
            "timeout": httpx.Timeout(c.read_timeout, connect=c.connect_timeout),
            "follow_redirects": False,  # followed by the client, each hop checked by `may_follow`
            "trust_env": False,  # no proxies from the environment: requests go where they say, nowhere else
        }

    def judge(self, response: httpx.Response, url: str) -> Redirect | RetryLater | None:
        """What the policy makes of an answer to ``url``: a redirect, an answer to try again later, or
        None: the answer is the client's to read."""
        status = response.status_code
        if status in REDIRECT_STATUSES and "location" in response.headers:
            return Redirect(urljoin(url, response.headers["location"]))
        if status in RETRY_STATUSES:
            return RetryLater(status, retry_after_seconds(response.headers.get("retry-after")), status_label(response))
        return None

    def may_follow(self, origin: str, target: str) -> bool:
        """Follow a redirect to ``target`` in a request first made to ``origin``?"""
        return self.follows(origin, target)

    def refusal(self, retry: RetryLater) -> str | None:
        """The reason to give up at once on an answer that asks for a longer wait than allowed."""
        if retry.retry_after is not None and retry.retry_after > self.config.max_retry_after:
            return f"{retry.label}; asked to wait {retry.retry_after:.0f} s, more than allowed"
        return None

    def attempts(self) -> Attempts:
        return Attempts(self.config)
