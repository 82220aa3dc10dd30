from __future__ import annotations

import pytest

from breaknews.tasks.identify import ArticleRef, host_family, parse_article_url, refs_in_self_link


@pytest.mark.parametrize(
    "url",
    [
        "https://www.breaknews.com/1063522",
        "http://breaknews.com/1063522",
        "https://m.breaknews.com/1063522/",
        "https://www.breaknews.com/sub_read.html?uid=1063522&section=sc2&section2=사회",
        "HTTPS://WWW.BREAKNEWS.COM/sub_read.html?section=sc2&uid=1063522",
    ],
)
def test_url_forms_name_one_article(url):
    ref = parse_article_url(url)
    assert ref == ArticleRef("www", 1063522)
    assert ref.article_id == "www:1063522"
    assert ref.url == "https://www.breaknews.com/1063522"


def test_regional_hosts_have_their_own_family():
    ref = parse_article_url("https://honam.breaknews.com/12345")
    assert ref == ArticleRef("honam", 12345)
    assert ref.url == "https://honam.breaknews.com/12345"
    assert parse_article_url("https://m.honam.breaknews.com/12345") == ref
    assert ref != ArticleRef("www", 12345)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://example.com/1063522",
        "https://breaknews.com.evil.net/1063522",
        "https://www.breaknews.com/sub_view.html",
        "https://www.breaknews.com/sub_read.html?uid=abc",
        "https://www.breaknews.com/imgdata/breaknews_com/202412/1.jpg",
        "ftp://www.breaknews.com/1063522",
        "https://www.breaknews.com/rss/rss_news.php",
    ],
)
def test_non_article_urls(url):
    assert parse_article_url(url) is None


def test_host_family():
    assert host_family("www.breaknews.com") == "www"
    assert host_family("BREAKNEWS.COM.") == "www"
    assert host_family("press.breaknews.com") == "press"
    assert host_family("notbreaknews.com") is None


def test_self_links_carry_the_uid():
    share = "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.breaknews.com%2F1063522"
    assert refs_in_self_link(share, None) == [ArticleRef("www", 1063522)]
    assert refs_in_self_link("/sub_read_print.html?uid=77", "honam") == [ArticleRef("honam", 77)]


@pytest.mark.parametrize(("stage", "target"), [("identify", "identify"), ("align", "align_article")])
def test_a_bug_in_identify_or_align_is_recorded_at_that_stage_not_at_extract(monkeypatch, stage, target):
    from breaknews.tasks import pipeline
    from breaknews.warehouse.models import Page
    from tests.conftest import SAMPLES

    page = Page(source="x.html", source_kind="file", content=(SAMPLES / "breaknews.187306.html").read_bytes())
    assert pipeline.process_page(page).article is not None

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, target, broken)
    result = pipeline.process_page(page)
    assert result.article is None
    assert (result.stage, result.reason) == (stage, "unexpected RuntimeError: a bug")
