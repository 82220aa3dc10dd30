from __future__ import annotations

from breaknews.tasks.pipeline import process_page
from breaknews.warehouse.models import Page
from tests.sitegen import page_for, templates, write_corpus


def test_generated_pages_are_distinct_articles_with_their_uid(tmp_path):
    assert len(templates()) >= 10
    paths = write_corpus(tmp_path, 24, first_uid=3_000_000)
    results = [process_page(Page(source=str(p), source_kind="file", content=p.read_bytes())) for p in paths]
    assert all(not r.failed for r in results), [r.reason for r in results if r.failed]
    assert [r.article.uid for r in results] == list(range(3_000_000, 3_000_024))
    assert len({r.article.content_sha256 for r in results}) == 24
    assert {r.article.skin for r in results} == {"modern", "old"}


def test_revision_changes_the_title():
    first, _ = page_for(5_000_001)
    second, charset = page_for(5_000_001, revision=1)
    a = process_page(Page(source="a", source_kind="file", content=first)).article
    b = process_page(Page(source="b", source_kind="file", content=second)).article
    assert a.article_id == b.article_id and a.content_sha256 != b.content_sha256
    assert "수정 1" in b.title_ko and charset in ("utf-8", "cp949")
