"""The fetcher against the loopback imitation of the site: politeness, retries and every fault."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from breaknews.tasks.fetch import (
    Fetched,
    FetchFailed,
    NotModified,
    RobotsDenied,
    SiteFetcher,
    Validators,
)
from breaknews.tasks.http import FetchConfig, user_agent
from tests.site_server import Fault, SiteServer, closed_port_url

FAST = FetchConfig(
    rate=0, backoff_base=0.01, retries=2, connect_timeout=1.0, read_timeout=0.5, total_timeout=3.0, contact="ops@x.test"
)


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(range(5000, 5020)) as server:
        yield server


@pytest.fixture
def other() -> Iterator[SiteServer]:
    """A second host (localhost, not 127.0.0.1) that must never be contacted."""
    with SiteServer(range(1, 3)) as server:
        yield server


def fetch(site: SiteServer, *paths: str, config: FetchConfig = FAST, validators=None):
    with SiteFetcher([site.base_url], config) as fetcher:
        return fetcher.fetch_many([site.base_url + p for p in paths], validators), fetcher.stats


def test_fetches_pages_with_headers_a_site_owner_can_act_on(site):
    [page], _ = fetch(site, "/5001")
    assert isinstance(page, Fetched)
    assert page.status == 200 and page.content == site.article(5001).content
    assert page.etag == site.article(5001).etag and page.last_modified
    assert page.content_type.startswith("text/html")
    seen = {r.path: r.headers for r in site.requests}
    assert set(seen) == {"/robots.txt", "/5001"}
    agent = seen["/5001"]["user-agent"]
    assert agent == user_agent("ops@x.test") and agent.startswith("breaknews/") and "ops@x.test" in agent


def test_gzip_pages_arrive_decompressed_and_a_gzip_bomb_is_cut_off(site):
    site.gzip = True
    [page], stats = fetch(site, "/5001")
    assert isinstance(page, Fetched) and page.content == site.article(5001).content
    assert stats.bytes < len(page.content)  # the cap counts bytes on the wire; the page came compressed
    config = FetchConfig(**{**FAST.__dict__, "max_bytes": len(page.content) - 1})
    [failed], _ = fetch(site, "/5001", config=config)
    assert isinstance(failed, FetchFailed) and "once decompressed" in failed.reason


def test_concurrency_stays_within_the_limit(site):
    site.latency = 0.05
    config = FetchConfig(**{**FAST.__dict__, "concurrency": 3})
    outcomes, _ = fetch(site, *[f"/{uid}" for uid in range(5000, 5020)], config=config)
    assert all(isinstance(o, Fetched) for o in outcomes)
    assert site.max_concurrency == 3  # reached, never exceeded


def test_request_rate_spaces_request_starts(site):
    config = FetchConfig(**{**FAST.__dict__, "rate": 20.0})
    fetch(site, *[f"/{uid}" for uid in range(5000, 5006)], config=config)
    starts = [r.at for r in site.requests if r.path != "/robots.txt"]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.04  # 20/s is one start per 50 ms (a little scheduling slack)


def test_robots_is_read_once_and_obeyed(site):
    site.robots = "User-agent: *\nDisallow: /5003\n"
    outcomes, stats = fetch(site, "/5001", "/5002", "/5003")
    assert [type(o) for o in outcomes] == [Fetched, Fetched, RobotsDenied]
    assert outcomes[2].stage == "robots" and "disallows /5003" in outcomes[2].reason
    assert site.paths().count("/robots.txt") == 1 and "/5003" not in site.paths()
    assert stats.robots_denied == 1


def test_robots_disallowing_everything_stops_every_request(site):
    site.robots = "User-agent: *\nDisallow: /\n"
    outcomes, _ = fetch(site, "/5001", "/5002")
    assert all(isinstance(o, FetchFailed) and o.stage == "robots" for o in outcomes)
    assert site.paths() == ["/robots.txt"]


def test_missing_robots_txt_allows_everything(site):
    site.set_fault("/robots.txt", Fault("status", status=404))
    [page], _ = fetch(site, "/5001")
    assert isinstance(page, Fetched)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_pages_fail_without_retries(site, status):
    site.set_fault("/5001", Fault("status", status=status))
    [failed], _ = fetch(site, "/5001")
    assert isinstance(failed, FetchFailed) and failed.stage == "fetch" and failed.reason.startswith(f"HTTP {status}")
    assert site.paths().count("/5001") == 1


def test_server_error_then_ok_is_retried(site):
    site.set_fault("/5001", Fault("status", status=500, times=1))
    [page], stats = fetch(site, "/5001")
    assert isinstance(page, Fetched) and site.paths().count("/5001") == 2 and stats.retries == 1


def test_persistent_server_error_fails_after_the_retries(site):
    site.set_fault("/5001", Fault("status", status=503))
    [failed], _ = fetch(site, "/5001")
    assert isinstance(failed, FetchFailed) and "HTTP 503" in failed.reason and "after 3 tries" in failed.reason
    assert site.paths().count("/5001") == 3


def test_429_waits_as_long_as_retry_after_says(site):
    site.set_fault("/5001", Fault("status", status=429, retry_after="1", times=1))
    [page], _ = fetch(site, "/5001")
    assert isinstance(page, Fetched)
    first, second = (r.at for r in site.requests if r.path == "/5001")
    assert second - first >= 0.95


def test_retry_after_beyond_the_limit_is_not_waited_for(site):
    site.set_fault("/5001", Fault("status", status=429, retry_after="86400"))
    [failed], _ = fetch(site, "/5001")
    assert isinstance(failed, FetchFailed) and "asked to wait 86400 s" in failed.reason
    assert site.paths().count("/5001") == 1


def test_a_stalled_server_times_out(site):
    site.set_fault("/5001", Fault("stall", seconds=30))
    config = FetchConfig(**{**FAST.__dict__, "retries": 1})
    [failed], _ = fetch(site, "/5001", config=config)
    assert isinstance(failed, FetchFailed) and "timed out" in failed.reason
    assert site.paths().count("/5001") == 2


def test_connection_reset_mid_body_is_retried_then_recorded(site):
    site.set_fault("/5001", Fault("reset", times=1))
    site.set_fault("/5002", Fault("reset"))
    ok, failed = fetch(site, "/5001", "/5002")[0]
    assert isinstance(ok, Fetched) and ok.content == site.article(5001).content
    assert isinstance(failed, FetchFailed) and failed.reason.startswith("connection failed")
    assert not failed.unreachable


@pytest.mark.parametrize("sized", [True, False])
def test_a_huge_page_is_cut_off_early(site, sized):
    site.set_fault("/5001", Fault("huge", size=40 * 1024 * 1024, sized=sized))
    [failed], _ = fetch(site, "/5001")
    assert isinstance(failed, FetchFailed) and "page too large" in failed.reason
    assert site.paths().count("/5001") == 1  # not retried
    assert site.bytes_sent("/5001") < 25 * 1024 * 1024  # the client stopped reading well before 40 MB


def test_redirect_within_the_site_is_followed(site):
    site.set_fault("/5001", Fault("redirect", location="/5002"))
    [page], _ = fetch(site, "/5001")
    assert isinstance(page, Fetched) and page.final_url.endswith("/5002") and page.url.endswith("/5001")


def test_redirect_to_another_host_is_refused(site, other):
    elsewhere = f"http://localhost:{other.port}/1"
    site.set_fault("/5001", Fault("redirect", location=elsewhere))
    [failed], _ = fetch(site, "/5001")
    assert isinstance(failed, FetchFailed) and "refused to leave the site" in failed.reason
    assert other.requests == []


def test_conditional_requests_get_304(site):
    art = site.article(5001)
    [by_etag], stats = fetch(site, "/5001", validators={f"{site.base_url}/5001": Validators(etag=art.etag)})
    assert isinstance(by_etag, NotModified) and stats.not_modified == 1
    assert site.requests[-1].headers["if-none-match"] == art.etag
    site.publish(5001, revision=1)
    [changed], _ = fetch(site, "/5001", validators={f"{site.base_url}/5001": Validators(etag=art.etag)})
    assert isinstance(changed, Fetched) and changed.content == site.article(5001).content


def test_a_site_that_is_down_is_unreachable_quickly():
    down = closed_port_url()
    started = time.monotonic()
    with SiteFetcher([down], FAST) as fetcher:
        [failed] = fetcher.fetch_many([down + "/1"])
    assert isinstance(failed, FetchFailed) and failed.unreachable and "site unreachable" in failed.reason
    assert time.monotonic() - started < 10


def test_off_site_urls_are_never_requested(site, other):
    with SiteFetcher([site.base_url], FAST) as fetcher:
        [failed] = fetcher.fetch_many([f"http://localhost:{other.port}/1"])
    assert isinstance(failed, FetchFailed) and "another host" in failed.reason
    assert other.requests == [] and site.requests == []


def test_crawl_delay_in_robots_slows_the_rate(site):
    site.robots = "User-agent: *\nCrawl-delay: 0.2\n"
    fetch(site, "/5001", "/5002", "/5003")
    starts = [r.at for r in site.requests if r.path != "/robots.txt"]
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.19


def test_a_host_that_goes_down_mid_run_fails_the_rest_fast():
    down = closed_port_url()
    with SiteFetcher([down], FetchConfig(**{**FAST.__dict__, "obey_robots": False})) as fetcher:
        outcomes = fetcher.fetch_many([f"{down}/{n}" for n in range(20)])
        assert all(isinstance(o, FetchFailed) and o.unreachable for o in outcomes)
        # at most the first wave (one per concurrency slot) spent its retries
        assert fetcher.stats.requests <= FAST.concurrency * (FAST.retries + 1)
