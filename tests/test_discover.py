"""Discovery from the feed and list pages of the loopback site, and hostile or broken feeds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from breaknews.tasks.discover import Discovery, article_target, discover, feed_links
from breaknews.tasks.fetch import SiteFetcher
from breaknews.tasks.http import FetchConfig
from tests.site_server import Fault, SiteServer

FAST = FetchConfig(rate=0, backoff_base=0.01, retries=1, read_timeout=1.0, total_timeout=3.0)
FEED = "/rss/rss_news.php"


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(range(7000, 7035), per_page=10, feed_size=6) as server:
        yield server


def run(site: SiteServer, list_pages: int = 2, feeds: list[str] | None = None, base: str | None = "") -> Discovery:
    base = site.base_url if base == "" else base
    with SiteFetcher([site.base_url], FAST) as fetcher:
        return fetcher.run(discover(fetcher, base, feeds or [], list_pages))


def test_feed_and_list_pages_give_each_article_once_in_its_canonical_form(site):
    found = run(site, list_pages=2)
    ids = [t.ref.article_id for t in found.targets]
    # feed: 6 newest; list pages 1-2: 20 newest (the feed's among them) → 20 distinct articles
    assert ids == [f"www:{uid}" for uid in range(7034, 7014, -1)]
    assert all(t.url == f"{site.base_url}/{t.ref.uid}" for t in found.targets)
    assert found.failures == []
    assert found.links_offsite == 2  # the honam.breaknews.com article link on each list page
    assert site.paths() == ["/robots.txt", FEED, "/sub_view.html", "/sub_view.html?page=2"]


def test_list_pages_follow_page_links_up_to_the_limit(site):
    found = run(site, list_pages=10)
    assert len(found.targets) == 35  # all four pages, then no more page links
    assert [p for p in site.paths() if p.startswith("/sub_view")] == [
        "/sub_view.html",
        "/sub_view.html?page=2",
        "/sub_view.html?page=3",
        "/sub_view.html?page=4",
    ]


def test_both_url_forms_and_hosts_of_one_family_name_one_article():
    site = "https://www.breaknews.com"
    forms = [
        "https://www.breaknews.com/1063522",
        "http://breaknews.com/sub_read.html?uid=1063522&section=sc1&section2=%EC%A0%95%EC%B9%98",
        "https://m.breaknews.com/1063522",
    ]
    targets = [article_target(link, site, "test") for link in forms]
    assert {t.ref.article_id for t in targets} == {"www:1063522"}
    assert {t.url for t in targets} == {"https://www.breaknews.com/1063522"}
    assert article_target("https://honam.breaknews.com/48217", site, "test") is False  # off-site family
    assert article_target("https://www.breaknews.com/sub.html?section=sc1", site, "test") is None
    assert article_target("https://example.org/1063522", site, "test") is None


def test_malformed_feed_is_recorded_and_list_pages_still_read(site):
    site.set_fault(FEED, Fault("body", body=b"<rss><channel><item><title>x</tit", content_type="application/rss+xml"))
    found = run(site, list_pages=1)
    [failure] = found.failures
    assert (failure.stage, failure.source) == ("discover", site.base_url + FEED)
    assert "not well-formed" in failure.reason
    assert len(found.targets) == 10  # the list page still gave its articles


def test_feed_items_without_links_are_recorded(site):
    body = (
        f"<rss><channel><item><title>a</title><link>{site.base_url}/7001</link></item>"
        "<item><title>b</title></item><item><title>c</title></item></channel></rss>"
    ).encode()
    site.set_fault(FEED, Fault("body", body=body))
    found = run(site, list_pages=0)
    assert [t.ref.uid for t in found.targets] == [7001]
    assert [f.reason for f in found.failures] == ["2 of 3 feed items have no link"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss><channel><item><title>&lol4;</title><link>http://127.0.0.1/1</link></item></channel></rss>"""


def test_entity_bombs_are_refused_unexpanded(site):
    site.set_fault(FEED, Fault("body", body=BILLION_LAUGHS))
    found = run(site, list_pages=0)
    [failure] = found.failures
    assert failure.stage == "discover" and "entities" in failure.reason
    assert found.targets == []


def test_external_entities_are_never_resolved(site):
    with SiteServer() as spy:
        xxe = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY ext SYSTEM "http://127.0.0.1:{spy.port}/xxe">]>'
            f"<rss><channel><item><title>&ext;</title><link>{site.base_url}/7001</link></item></channel></rss>"
        ).encode()
        site.set_fault(FEED, Fault("body", body=xxe))
        found = run(site, list_pages=0)
        assert spy.requests == []
    assert [f.stage for f in found.failures] == ["discover"] and "external" in found.failures[0].reason
    assert found.targets == []


def test_hostile_feed_that_is_also_malformed_is_refused():
    with pytest.raises(ValueError, match="refused"):
        feed_links(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><rss><item><link>&e;</li')


def test_a_list_page_without_links_is_recorded(site):
    site.set_fault("/sub_view.html", Fault("body", body="<html><body><p>점검 중</p></body></html>".encode()))
    found = run(site, list_pages=3)
    assert [(f.stage, f.source) for f in found.failures] == [("discover", site.base_url + "/sub_view.html")]
    assert "no article links" in found.failures[0].reason
    assert len(found.targets) == 6  # the feed's


def test_an_extra_feed_adds_its_articles(site):
    found = run(site, list_pages=0, feeds=[site.base_url + FEED], base=None)
    assert len(found.targets) == 6 and site.paths().count(FEED) == 1
