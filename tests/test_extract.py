"""Golden tests over hand-written fixture pages: exact fields, snippets that must and must not
appear in each body, captions with credits. A fixture's failure must name the right stage."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from breaknews.tasks.errors import NotAnArticleError, TruncatedPageError
from breaknews.tasks.extract import extract_article, split_caption
from breaknews.tasks.pipeline import process_page
from breaknews.warehouse.models import Page
from tests.conftest import FIXTURES, SAMPLES, expected, fixture_page

SLUGS = sorted(p.name[len("breaknews.") : -len(".expected.json")] for p in FIXTURES.glob("*.expected.json"))
ARTICLES = [s for s in SLUGS if expected(s)["outcome"] == "article"]
FAILURES = [s for s in SLUGS if expected(s)["outcome"] == "failure"]


def _process(slug: str):
    path = fixture_page(slug)
    return process_page(Page(source=str(path), source_kind="file", content=path.read_bytes()))


def test_fixture_set_covers_the_issue():
    assert len(ARTICLES) >= 10 and len(FAILURES) >= 4


@pytest.mark.parametrize("slug", ARTICLES)
def test_article_fields(slug):
    result = _process(slug)
    assert not result.failed, f"{result.stage}: {result.reason}"
    article = result.article
    for name, want in expected(slug)["fields"].items():
        got = getattr(article, name)
        if isinstance(got, datetime):
            got = got.isoformat()
        assert got == want, f"{slug}.{name}"


@pytest.mark.parametrize("slug", ARTICLES)
def test_article_bodies(slug):
    want = expected(slug)
    article = _process(slug).article
    assert len(article.paragraphs_ko) == want["ko_paragraphs"]
    assert len(article.paragraphs_en) == want["en_paragraphs"]
    body_en = article.body_en or ""
    for snippet in want["must_ko"]:
        assert snippet in article.body_ko
    for snippet in want["must_not_ko"]:
        assert snippet not in article.body_ko
    for snippet in want["must_en"]:
        assert snippet in body_en
    for snippet in want["must_not_en"]:
        assert snippet not in body_en
    assert article.has_translation == bool(want["en_paragraphs"])
    assert (article.body_en is None) == (not want["en_paragraphs"])


@pytest.mark.parametrize("slug", ARTICLES)
def test_article_captions(slug):
    article = _process(slug).article
    for caption in expected(slug).get("captions", []):
        assert any(
            c.lang == caption["lang"] and caption["contains"] in c.text and c.credit == caption["credit"]
            for c in article.captions
        ), caption
    for caption in article.captions:
        assert not caption.text.startswith("▲")
        assert caption.text not in article.body_ko and caption.text not in (article.body_en or "")


@pytest.mark.parametrize("slug", FAILURES)
def test_non_articles_fail_with_their_stage(slug):
    result = _process(slug)
    assert result.failed and result.article is None
    assert result.stage == expected(slug)["failure_stage"]
    assert result.reason and len(result.reason) > 20  # a reason a person can act on
    assert result.stored is not None  # the raw page is kept either way


def test_truncated_page_is_never_loaded_as_whole():
    text = fixture_page("modern-marker1").read_bytes().decode("utf-8")
    cut = text[: text.index("600여 명이") + 10]
    with pytest.raises(TruncatedPageError):
        extract_article(cut)


def test_ads_and_related_articles_never_reach_the_body():
    article = _process("modern-marker1").article
    everything = article.body_ko + (article.body_en or "")
    for junk in ("adsbygoogle", "googletag", "관련기사", "많이 본 기사", "무단전재", "119@breaknews.com"):
        assert junk not in everything


def test_same_article_from_mobile_save_has_same_identity_and_content():
    www, mobile = _process("modern-marker1").article, _process("mobile-url-forms").article
    assert www.article_id == mobile.article_id == "www:1063522"
    assert mobile.identity_source == "saved_from"
    assert www.content_sha256 == mobile.content_sha256


def test_identity_from_share_and_print_links_only():
    article = _process("modern-marker2").article
    assert article.identity_source == "self_link"
    assert article.uid == expected("modern-marker2")["fields"]["uid"]


def test_fetch_url_wins_over_page_links():
    path = fixture_page("modern-marker2")
    result = process_page(
        Page(
            source="x",
            source_kind="http",
            content=path.read_bytes(),
            url="http://breaknews.com/sub_read.html?uid=999&section=sc2",
        )
    )
    assert result.article.article_id == "www:999"
    assert result.article.identity_source == "url"


def test_page_without_any_uid_gets_a_content_key():
    html = fixture_page("modern-nomarker").read_text(encoding="utf-8")
    html = re.sub(r"(?:uid=|breaknews\.com%2F|breaknews\.com/|name=\"uid\" value=\")\d+", "", html)
    result = process_page(Page(source="x", source_kind="file", content=html.encode()))
    assert result.article.article_id.startswith("content:")
    assert result.article.uid is None and result.article.url is None
    again = process_page(Page(source="y", source_kind="file", content=html.encode()))
    assert again.article.article_id == result.article.article_id


def test_deleted_notice_is_not_an_article():
    html = fixture_page("deleted").read_text(encoding="utf-8")
    with pytest.raises(NotAnArticleError, match="deleted"):
        extract_article(html)


@pytest.mark.parametrize(
    ("line", "text", "credit"),
    [
        ("▲ 지난달 22일 … 국제 컨퍼런스.  © 포항시", "지난달 22일 … 국제 컨퍼런스.", "포항시"),
        ("▲ 시민들이 걷고 있다. <사진출처=연합뉴스>", "시민들이 걷고 있다.", "연합뉴스"),
        ("▲ Pohang City Hall. ⓒ Break News", "Pohang City Hall.", "Break News"),
        ("▲ 설명만 있는 사진", "설명만 있는 사진", None),
    ],
)
def test_split_caption(line, text, credit):
    assert split_caption(line) == (text, credit)


# -- the site's variants (issue 12) --------------------------------------------------------------------
NOMARKER = fixture_page("modern-nomarker").read_text(encoding="utf-8")
WRITER_TIME = '<div class="writer_time"><span class="writer">진예솔 기자</span> | 기사입력 2024/12/03 [16:20]</div>'
LAST_PARAGRAPH = (
    '<p>대구시 시민안전실 관계자는 "기온이 급격히 떨어지는 날에는 외출을 자제하고, 주변의 어려운 이웃을 살펴봐 달라"고'
    " 당부했다.</p>"
)


def _with(old: str, new: str) -> str:
    assert old in NOMARKER
    return NOMARKER.replace(old, new)


@pytest.mark.parametrize(
    ("line", "published", "modified"),
    [
        ('<span class="writer">진예솔 기자</span> | 입력 2024/12/03 [16:20]', "2024-12-03T16:20:00+09:00", None),
        ('<span class="writer">진예솔 기자</span> | 등록 2024.12.03 16:20', "2024-12-03T16:20:00+09:00", None),
        ('<span class="writer">진예솔 기자</span> | 기사입력:2024/12/03 [16:20]', "2024-12-03T16:20:00+09:00", None),
        (
            "최종편집 2024/12/04 [09:05] | 기사입력 2024/12/03 [16:20]",
            "2024-12-03T16:20:00+09:00",
            "2024-12-04T09:05:00+09:00",
        ),
        ("입력 : 2024-12-03 16:20 | 수정 : 2024-12-04 09:05", "2024-12-03T16:20:00+09:00", "2024-12-04T09:05:00+09:00"),
        ("입력일 2024년 12월 3일 16:20", "2024-12-03T16:20:00+09:00", None),
        ("진예솔 기자  |  등록일 :  2024.12.03. 16:20", "2024-12-03T16:20:00+09:00", None),
    ],
)
def test_date_line_labels_in_any_order_and_spacing(line, published, modified):
    html = _with(WRITER_TIME, f'<div class="writer_time">{line}</div>')
    extracted = extract_article(html)
    assert extracted.published_at is not None and extracted.published_at.isoformat() == published
    assert (extracted.modified_at.isoformat() if extracted.modified_at else None) == modified


def test_reporter_from_the_date_line_when_there_is_no_writer_span():
    html = _with(WRITER_TIME, '<div class="writer_time">입력 2024/12/03 [16:20] | 진예솔 객원기자</div>')
    html = html.replace("【브레이크뉴스 대구】진예솔 기자=", "【브레이크뉴스 대구】")  # no second source of the name
    extracted = extract_article(html)
    assert (extracted.reporter, extracted.reporter_role) == ("진예솔", "객원기자")


@pytest.mark.parametrize(
    "line",
    [
        "jys@breaknews.com",
        "진예솔 기자 jys@breaknews.com",
        "[진예솔 기자 jys@breaknews.com]",
        "진예솔 기자(jys@breaknews.com)",
        "E-mail: jys@breaknews.com",
        "진예솔 jys@breaknews.com",
        '<a href="mailto:jys@breaknews.com">jys@breaknews.com</a>',
    ],
)
def test_reporter_email_line_is_not_body_text(line):
    html = _with(LAST_PARAGRAPH, f"{LAST_PARAGRAPH}\n<p>{line}</p>")
    article = process_page(Page(source="x", source_kind="file", content=html.encode())).article
    assert article.reporter_email == "jys@breaknews.com"
    assert "@" not in article.body_ko and article.paragraphs_ko == _process("modern-nomarker").article.paragraphs_ko


@pytest.mark.parametrize(
    "line", ["문의처 help@daegu.go.kr", "자세한 내용은 help@daegu.go.kr로 문의하면 된다.", "홍길동 hong@daegu.go.kr"]
)
def test_an_address_that_is_not_the_reporters_stays_text(line):
    html = _with(LAST_PARAGRAPH, f"{LAST_PARAGRAPH}\n<p>{line}</p>")
    article = process_page(Page(source="x", source_kind="file", content=html.encode())).article
    assert article.reporter_email is None and article.paragraphs_ko[-1] == line


def test_inline_styled_block_holding_the_body_is_no_ad():
    """Only small text-less or one-line blocks in the body cell are ads: a styled wrapper holding the
    paragraphs themselves is the body (a field degrades alone, never the article)."""
    html = fixture_page("sister-cell-body").read_text(encoding="utf-8")
    start = html.index("<p>【브레이크뉴스 대전】")
    end = html.index('<div class="report_mail">')
    html = html[:start] + '<div style="font-size:16px;line-height:1.8">' + html[start:end] + "</div>" + html[end:]
    article = process_page(Page(source="x", source_kind="file", content=html.encode())).article
    assert article.paragraphs_ko == _process("sister-cell-body").article.paragraphs_ko


def test_no_paragraph_is_markup_debris_on_any_page():
    pages = sorted(SAMPLES.glob("*.html")) + sorted(FIXTURES.glob("*.html"))
    for path in pages:
        result = process_page(Page(source=str(path), source_kind="file", content=path.read_bytes()))
        for paragraph in (*result.article.paragraphs_ko, *result.article.paragraphs_en) if result.article else ():
            assert re.search(r"\w", paragraph), f"{path.name}: {paragraph!r}"


def test_a_photo_in_an_inline_styled_block_of_the_body_cell_is_kept():
    html = fixture_page("sister-cell-body").read_text(encoding="utf-8")
    photo = (
        '<div style="text-align:center;margin:0 0 15px"><img id="img_pop_view" src="/imgdata/202506/1.jpg">'
        "<br>▲ 대전 동구의 노후 하수관로 교체 현장. © 대전시</div>"
    )
    html = html.replace("<p>【브레이크뉴스 대전】", photo + "<p>【브레이크뉴스 대전】", 1)
    article = process_page(Page(source="x", source_kind="file", content=html.encode())).article
    assert [(c.text, c.credit) for c in article.captions] == [("대전 동구의 노후 하수관로 교체 현장.", "대전시")]
    assert article.paragraphs_ko == _process("sister-cell-body").article.paragraphs_ko
