"""Live ingestion end to end: the ingest-site flow on Prefect's real API against the loopback site,
asserting on what the server saw and on warehouse rows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from breaknews.flows.cli import main
from breaknews.flows.reextract import reextract_pages
from breaknews.flows.site import ingest_site
from breaknews.tasks.http import FetchConfig
from tests.conftest import fixture_page, rows
from tests.site_server import Fault, SiteServer, closed_port_url

pytestmark = pytest.mark.usefixtures("prefect_api")

FAST = FetchConfig(rate=0, backoff_base=0.01, retries=2, read_timeout=1.0, total_timeout=3.0, contact="ops@x.test")
UIDS = range(3_000_000, 3_000_012)


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(UIDS, per_page=5, feed_size=4) as server:
        yield server


def ingest(site: SiteServer, db, **kwargs):
    kwargs.setdefault("list_pages_limit", 5)
    return ingest_site(site=site.base_url, db=str(db), config=kwargs.pop("config", FAST), **kwargs)


def test_site_is_ingested_and_a_second_run_downloads_only_the_new_article(site, db_path):
    summary = ingest(site, db_path)
    c = summary.counts
    assert summary.status == "completed" and summary.unreachable is None
    assert (c.articles_new, c.failures, summary.discovered) == (12, 0, 12)
    fetched = site.article_paths()
    assert sorted(fetched) == sorted(f"/{uid}" for uid in UIDS)  # each article once, in one URL form
    assert site.max_concurrency <= 4
    assert all(r.headers["user-agent"].startswith("breaknews/") for r in site.requests)
    assert rows(db_path, "SELECT count(*) FROM articles WHERE article_id LIKE 'www:3%'") == [(12,)]
    # both encodings arrived with their header charset, and the HTTP validators were kept
    assert rows(db_path, "SELECT DISTINCT charset, charset_source FROM raw_pages ORDER BY 1") == [
        ("cp949", "header"),
        ("utf-8", "header"),
    ]
    assert rows(
        db_path,
        "SELECT count(*) FROM raw_pages WHERE source_kind = 'http' AND http_status = 200"
        " AND etag IS NOT NULL AND last_modified IS NOT NULL AND url LIKE 'http://127.0.0.1:%'",
    ) == [(12,)]
    [(skins,)] = rows(db_path, "SELECT list(DISTINCT skin ORDER BY skin) FROM articles")
    assert skins == ["modern", "old"]

    site.reset_log()
    site.publish(3_000_100)
    again = ingest(site, db_path)
    assert site.article_paths() == ["/3000100"]  # no stored article downloaded again
    assert (again.counts.articles_new, again.not_fetched, again.counts.pages_skipped) == (1, 12, 12)
    assert again.counts.articles_unchanged == 12
    assert rows(db_path, "SELECT count(*) FROM articles") == [(13,)]
    assert rows(
        db_path,
        "SELECT count(*) FROM articles a JOIN ingest_runs r ON r.run_id = ? WHERE a.last_seen_at >= r.started_at",
        [again.run_id],
    ) == [(13,)]


def test_refresh_revalidates_and_picks_up_an_edit(site, db_path):
    ingest(site, db_path)
    site.reset_log()
    site.publish(3_000_003, revision=1)  # edited: new bytes, new ETag
    summary = ingest(site, db_path, refresh=True)
    article_requests = [r for r in site.requests if r.path.lstrip("/").isdigit()]
    assert len(article_requests) == 12
    assert all("if-none-match" in r.headers and "if-modified-since" in r.headers for r in article_requests)
    assert summary.fetch.not_modified == 11
    assert (summary.counts.articles_updated, summary.counts.articles_unchanged) == (1, 11)
    assert rows(db_path, "SELECT revision FROM articles WHERE article_id = 'www:3000003'") == [(2,)]


def test_faults_become_failures_and_the_rest_loads(site, db_path):
    base = site.base_url
    site.set_fault("/3000001", Fault("status", status=404))
    site.set_fault("/3000002", Fault("status", status=410))
    site.set_fault("/3000003", Fault("status", status=500, times=1))  # retried: loads
    site.set_fault("/3000004", Fault("huge", size=40 * 1024 * 1024))
    site.set_fault("/3000005", Fault("redirect", location="http://localhost:9/elsewhere"))
    site.set_fault("/3000006", Fault("reset"))
    site.robots = "User-agent: *\nDisallow: /3000007\n"
    summary = ingest(site, db_path)
    assert summary.status == "completed"
    failed = dict(rows(db_path, "SELECT source, stage || ': ' || reason FROM ingest_failures"))
    failing = (3_000_001, 3_000_002, 3_000_004, 3_000_005, 3_000_006, 3_000_007)
    assert failed.keys() == {f"{base}/{uid}" for uid in failing}
    assert failed[f"{base}/3000001"].startswith("fetch: HTTP 404")
    assert failed[f"{base}/3000002"].startswith("fetch: HTTP 410")
    assert "page too large" in failed[f"{base}/3000004"]
    assert "refused to leave the site" in failed[f"{base}/3000005"]
    assert failed[f"{base}/3000006"].startswith("fetch: connection failed")
    assert failed[f"{base}/3000007"].startswith("robots: ")
    assert "/3000007" not in site.paths()
    assert summary.counts.articles_new == 6
    assert rows(db_path, "SELECT url FROM ingest_failures WHERE page_sha256 IS NULL") != []

    # the failed ones are fetched again next time (they were never stored), and now load
    site.clear_faults()
    site.robots = "User-agent: *\nDisallow:\n"
    site.reset_log()
    again = ingest(site, db_path)
    assert again.counts.articles_new == 6 and len(site.article_paths()) == 6


def test_a_site_that_is_down_ends_the_run_cleanly(db_path):
    down = closed_port_url()
    summary = ingest_site(site=down, db=str(db_path), config=FAST)
    assert summary.status == "completed" and summary.unreachable
    assert rows(db_path, "SELECT status FROM ingest_runs") == [("completed",)]
    [(stage, reason)] = rows(db_path, "SELECT stage, reason FROM ingest_failures")
    assert stage == "fetch" and reason.startswith("site unreachable")


def test_cli_mixes_files_and_article_urls_and_prints_the_site_summary(site, db_path, capsys):
    page = fixture_page("modern-nomarker")
    code = main(
        [
            "ingest",
            str(page),
            site.article_url(3_000_001),
            site.article_url(3_000_002, legacy=True),
            "--db",
            str(db_path),
            "--rate",
            "0",
            "--contact",
            "https://ops.example/contact",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "3 new" in out and "site:" in out
    assert sorted(site.article_paths()) == ["/3000001", "/3000002"]
    assert all("https://ops.example/contact" in r.headers["user-agent"] for r in site.requests)
    assert rows(db_path, "SELECT source_kind, count(*) FROM raw_pages GROUP BY 1 ORDER BY 1") == [
        ("file", 1),
        ("http", 2),
    ]


def test_cli_site_down_exits_3_with_one_clear_line(db_path, capsys):
    code = main(["ingest", "--site", closed_port_url(), "--db", str(db_path), "--retries", "0"])
    captured = capsys.readouterr()
    assert code == 3
    assert "SITE UNREACHABLE" in captured.out
    assert captured.err.startswith("breaknews: site unreachable") and "Traceback" not in captured.err


def test_cli_usage_errors_exit_2(db_path, capsys):
    assert main(["ingest", "--site", "ftp://example.org", "--db", str(db_path)]) == 2
    assert "not an http(s) URL" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["ingest", "--site", "--list-pages", "-1"])
    assert info.value.code == 2
    assert not db_path.exists()  # nothing was started


def test_robots_disallowing_everything_fetches_nothing_but_robots(site, db_path):
    site.robots = "User-agent: *\nDisallow: /\n"
    summary = ingest(site, db_path)
    assert site.paths() == ["/robots.txt"]
    assert summary.counts.articles_new == 0 and summary.unreachable is None
    assert rows(db_path, "SELECT DISTINCT stage FROM ingest_failures") == [("robots",)]
    assert rows(db_path, "SELECT count(*) FROM ingest_failures") == [(2,)]  # the feed and the list


def _page_without_uid(title: str) -> bytes:
    """modern-nomarker with every uid taken out: no canonical link, og:url, share link or hidden input names it."""
    html = fixture_page("modern-nomarker").read_text(encoding="utf-8")
    html = re.sub(r"<link rel=\"canonical\"[^>]*>|<meta property=\"og:url\"[^>]*>", "", html)
    html = re.sub(r"(?:uid=|breaknews\.com%2F|breaknews\.com/|name=\"uid\" value=\")\d+", "", html)
    return html.replace("대구시, 겨울철 한파 대비 종합대책 가동", title).encode()


def test_a_page_keeps_the_uid_the_run_fetched_it_as_on_any_host(db_path):
    """On a mirror (here the loopback imitation) the fetch URL names no BreakNews host, and the page
    names no uid: the article is still the one discovery found, not a content hash. Re-extraction
    keeps it so."""
    with SiteServer(per_page=5, feed_size=2) as mirror:
        mirror.publish(878313, _page_without_uid("발견된 기사"), charset="utf-8")
        mirror.publish(878399, _page_without_uid("이름으로 받은 기사"), charset="utf-8")
        mirror.set_fault("/rss/rss_news.php", Fault("status", status=404))  # lists only
        summary = ingest_site(
            site=mirror.base_url, urls=[mirror.article_url(878399, legacy=True)], db=str(db_path), config=FAST
        )
    assert summary.counts.articles_new == 2
    found = rows(db_path, "SELECT article_id, host_family, uid, url, identity_source FROM articles ORDER BY uid")
    assert found == [
        ("www:878313", "www", 878313, "https://www.breaknews.com/878313", "url"),
        ("www:878399", "www", 878399, "https://www.breaknews.com/878399", "url"),
    ]
    assert rows(db_path, "SELECT count(*) FROM raw_pages WHERE url LIKE 'http://127.0.0.1:%/8783__'") == [(2,)]

    again = reextract_pages(db=str(db_path), everything=True)
    assert (again.counts.articles_new, again.counts.articles_unchanged) == (0, 2)
    assert rows(db_path, "SELECT article_id, identity_source FROM articles ORDER BY uid") == [
        ("www:878313", "url"),
        ("www:878399", "url"),
    ]


def test_reextract_retires_the_content_ids_a_previous_version_gave_mirror_pages(db_path, monkeypatch):
    """The previous version threw the fetched-as uid away: a mirror's pages without a canonical link were
    stored as `content:…`. Re-extraction gives them their uid, and the `content:` rows are retired, not
    left beside them as the same article twice; their history stays in article_revisions."""
    from breaknews.tasks import pipeline, versions

    with SiteServer(per_page=5, feed_size=2) as mirror:
        mirror.publish(878313, _page_without_uid("발견된 기사"), charset="utf-8")
        mirror.publish(878399, _page_without_uid("이름으로 받은 기사"), charset="utf-8")
        with monkeypatch.context() as old:
            old.setattr(versions, "EXTRACTOR_VERSION", "2026.11.25.1")
            old.setattr(pipeline, "ArticleRef", lambda family, uid: None)  # the uid discovery found: dropped
            ingest_site(site=mirror.base_url, db=str(db_path), config=FAST)
    before = rows(db_path, "SELECT article_id FROM articles ORDER BY 1")
    assert len(before) == 2 and all(article_id.startswith("content:") for (article_id,) in before)

    assert main(["reextract", "--db", str(db_path)]) == 0
    assert rows(db_path, "SELECT article_id, identity_source FROM articles ORDER BY uid") == [
        ("www:878313", "url"),
        ("www:878399", "url"),
    ]
    for table in ("paragraphs", "paragraph_pairs"):
        assert rows(db_path, f"SELECT count(*) FROM {table} WHERE article_id LIKE 'content:%'") == [(0,)]
    assert rows(db_path, "SELECT DISTINCT article_id FROM raw_pages ORDER BY 1") == [("www:878313",), ("www:878399",)]
    history = "SELECT article_id FROM article_revisions WHERE article_id LIKE 'content:%' ORDER BY 1"
    assert rows(db_path, history) == before
    [(retired, new, pages)] = rows(
        db_path, "SELECT articles_retired, articles_new, pages_seen FROM ingest_runs WHERE command = 'reextract'"
    )
    assert (retired, new, pages) == (2, 2, 2)
