"""The generic path on real pages saved by others (newspaper4k's test suite, tests/fixtures/real/):
newspaper4k's expected title, text and date are the oracle, so markup and answers are not ours."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from breaknews.tasks.pipeline import process_page
from breaknews.warehouse.models import Page

REAL = Path(__file__).parent / "fixtures" / "real"
NAMES = sorted(p.name.removesuffix(".html.gz") for p in REAL.glob("*.html.gz"))
_DEBRIS = re.compile(r"^[\W_]+$")


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


def test_there_are_real_pages():
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_a_real_page_gives_the_article_an_independent_extractor_expects(name):
    expected = json.loads((REAL / f"{name}.expected.json").read_text(encoding="utf-8"))
    content = gzip.decompress((REAL / f"{name}.html.gz").read_bytes())
    page = Page(source=f"{name}.html", source_kind="file", content=content)
    result = process_page(page)
    assert result.article is not None, (result.stage, result.reason)
    article = result.article

    assert _plain(article.title_ko) == _plain(expected["title"])
    # Another site's page is never taken for a BreakNews article.
    assert article.article_id.startswith("content:") and article.uid is None and article.host_family is None
    assert article.identity_source == "content" and article.bureau is None

    body = _plain(article.body_ko)
    paragraphs = [p for p in (REAL / f"{name}.expected.txt").read_text(encoding="utf-8").split("\n") if len(p) > 30]
    assert paragraphs
    missing = [p[:60] for p in paragraphs if _plain(p)[:60] not in body]
    assert not missing, missing
    assert not any(_DEBRIS.match(p) for p in article.paragraphs_ko)

    # A time found is the right one; not finding one is allowed (the field degrades alone).
    if article.published_at is not None and expected["publish_date"] and "+" in expected["publish_date"][10:]:
        assert article.published_at == datetime.fromisoformat(expected["publish_date"])
