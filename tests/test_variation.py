"""Extraction holds on variants of every fixture and sample page, not only on the pages as we wrote them.

`tests/variants.py` rewrites each page in seeded variants: attribute order and quoting, upper-case tags,
white space and line breaks, `<br>` instead of `<p>`, extra wrapper `div`s, ad and script blocks between
paragraphs, optional parts left out, the other encoding (UTF-8 ↔ EUC-KR), and the site's own ins_news
variants (`h2.read_title`, 입력/등록 date lines, the body without `div#CLtag`, inline-styled ads in the
body cell, debris paragraphs, the reporter's e-mail address in the dateline or on a line of its own).
Title, reporter, time, bureau, both bodies and the split must stay what the original page gives; a page
that is no article must stay none. ``BREAKNEWS_VARIANTS=300`` tries more variants a page (about 30 s).
"""

from __future__ import annotations

import os

import pytest

from breaknews.tasks.pipeline import process_page
from breaknews.warehouse.models import Page, PageResult
from tests.variants import PAGES, TRANSFORMS, check, decode_ok, variants

PER_PAGE = int(os.environ.get("BREAKNEWS_VARIANTS", "24"))
READABLE = [path for path in PAGES if decode_ok(path)]


@pytest.fixture(scope="module")
def originals() -> dict[str, PageResult]:
    return {
        path.name: process_page(Page(source=str(path), source_kind="file", content=path.read_bytes()))
        for path in READABLE
    }


@pytest.mark.parametrize("path", READABLE, ids=lambda path: path.name)
def test_variants_come_out_as_the_original(path, originals):
    base = originals[path.name]
    problems, tried = [], set()
    for variant in variants(path, base.article, PER_PAGE):
        tried.update(variant.transforms)
        result = process_page(Page(source=variant.name, source_kind="file", content=variant.content))
        problems.extend(f"{variant.name}: {problem}" for problem in check(base, result, variant))
    assert not problems, "\n".join(problems)
    # Every page meets the harmless transforms, whatever its skin.
    assert {"attributes", "upper_tags", "whitespace", "encoding", "drop_optional"} <= tried


def test_every_transform_applies_somewhere(originals):
    """The generator really exercises each variant: none silently does nothing on every page."""
    applied = set()
    for path in READABLE:
        for variant in variants(path, originals[path.name].article, len(TRANSFORMS)):
            applied.update(variant.transforms)
    assert applied == set(TRANSFORMS)


def test_the_known_site_variants_reach_the_fields():
    """A variant whose field must change does change: the e-mail transforms set `reporter_email`."""
    path = next(p for p in READABLE if p.name == "breaknews.modern-nomarker.html")
    base = process_page(Page(source=str(path), source_kind="file", content=path.read_bytes()))
    assert base.article is not None and base.article.reporter_email is None
    found = [v for v in variants(path, base.article, len(TRANSFORMS)) if "reporter_email" in v.expect]
    assert found
    for variant in found:
        article = process_page(Page(source=variant.name, source_kind="file", content=variant.content)).article
        assert article is not None and article.reporter_email == variant.expect["reporter_email"]
        assert article.paragraphs_ko == base.article.paragraphs_ko
