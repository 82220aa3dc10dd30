"""The loader against a real DuckDB file: idempotency, revisions, one row per article, failures."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from breaknews.tasks.pipeline import process_page
from breaknews.tasks.versions import EXTRACTOR_VERSION
from breaknews.warehouse import runs
from breaknews.warehouse.connect import writer
from breaknews.warehouse.migrate import open_migrated
from breaknews.warehouse.models import Page, PageResult
from breaknews.warehouse.write import write_batch
from tests.conftest import fixture_page, rows

TABLES = ("articles", "paragraphs", "captions", "article_revisions", "raw_pages")


def _result(slug: str, url: str | None = None, html: str | None = None) -> PageResult:
    path = fixture_page(slug)
    content = html.encode() if html is not None else path.read_bytes()
    return process_page(Page(source=str(path), source_kind="file", content=content, url=url))


def _load(db: Path, results: list[PageResult]):
    open_migrated(db)
    run_id = str(uuid.uuid4())
    with writer(db) as con:
        runs.start_run(con, run_id, command="test", sources="-", flow_run_id=None, extractor_version="t")
        counts = write_batch(con, run_id, results, EXTRACTOR_VERSION)
        runs.finish_run(con, run_id, "completed")
    return counts


def _snapshot(db: Path) -> dict[str, list[tuple]]:
    return {
        t: rows(db, f"SELECT * EXCLUDE (last_seen_at) FROM {t} ORDER BY ALL")
        if t in ("articles", "raw_pages")
        else rows(db, f"SELECT * FROM {t} ORDER BY ALL")
        for t in TABLES
    }


def test_load_writes_every_part(db_path):
    counts = _load(db_path, [_result("modern-marker1")])
    assert (counts.articles_new, counts.with_translation, counts.failures) == (1, 1, 0)
    [(title_ko, has_translation, body_en, reporter, bureau)] = rows(
        db_path, "SELECT title_ko, has_translation, body_en, reporter, bureau FROM articles"
    )
    assert title_ko.startswith("포항시") and has_translation and body_en and reporter == "박영재" and bureau == "포항"
    assert rows(db_path, "SELECT lang, count(*) FROM paragraphs GROUP BY lang ORDER BY lang") == [("en", 6), ("ko", 7)]
    assert rows(db_path, "SELECT count(*) FROM captions WHERE credit IS NOT NULL")[0][0] >= 4
    assert rows(db_path, "SELECT count(*), max(compression) FROM raw_pages") == [(1, "zlib")]


def test_raw_page_round_trips_to_the_same_bytes(db_path):
    import zlib

    _load(db_path, [_result("old-euckr")])
    [(content, sha, charset)] = rows(db_path, "SELECT content, page_sha256, charset FROM raw_pages")
    original = fixture_page("old-euckr").read_bytes()
    assert zlib.decompress(content) == original
    assert charset == "cp949"
    import hashlib

    assert sha == hashlib.sha256(original).hexdigest()


def test_loading_the_same_pages_again_changes_nothing(db_path):
    pages = ["modern-marker1", "old-euckr", "column-byline-en", "modern-nomarker"]
    _load(db_path, [_result(s) for s in pages])
    before = _snapshot(db_path)
    counts = _load(db_path, [_result(s) for s in pages])
    assert (counts.articles_new, counts.articles_updated, counts.articles_unchanged) == (0, 0, 4)
    assert _snapshot(db_path) == before
    assert rows(db_path, "SELECT count(*) FROM ingest_runs") == [(2,)]


def test_same_article_under_two_url_forms_is_one_row(db_path):
    counts = _load(db_path, [_result("modern-marker1"), _result("mobile-url-forms")])
    assert (counts.articles_new, counts.articles_unchanged) == (1, 1)
    assert rows(db_path, "SELECT article_id FROM articles") == [("www:1063522",)]
    assert rows(db_path, "SELECT count(*) FROM raw_pages") == [(2,)]  # both pages kept
    assert rows(db_path, "SELECT count(*) FROM paragraphs WHERE lang = 'ko'") == [(7,)]


def test_changed_page_makes_a_revision_and_keeps_history(db_path):
    _load(db_path, [_result("modern-marker1")])
    html = fixture_page("modern-marker1").read_text(encoding="utf-8").replace("600여 명이", "700여 명이")
    counts = _load(db_path, [_result("modern-marker1", html=html)])
    assert counts.articles_updated == 1
    assert rows(db_path, "SELECT revision FROM articles") == [(2,)]
    revisions = rows(db_path, "SELECT revision, body_ko LIKE '%600여 명이%' FROM article_revisions ORDER BY revision")
    assert revisions == [(1, True), (2, False)]
    assert rows(db_path, "SELECT count(*) FROM paragraphs WHERE text LIKE '%700여 명이%'") == [(1,)]
    assert rows(db_path, "SELECT count(*) FROM paragraphs WHERE lang = 'ko'") == [(7,)]  # replaced, not doubled
    # Seeing the older version again does not flip the article back.
    counts = _load(db_path, [_result("modern-marker1")])
    assert counts.articles_unchanged == 1
    assert rows(db_path, "SELECT revision FROM articles") == [(2,)]


def test_failures_are_recorded_and_pages_kept(db_path):
    counts = _load(db_path, [_result("garbage"), _result("deleted"), _result("modern-marker1")])
    assert (counts.failures, counts.articles_new) == (2, 1)
    failures = rows(db_path, "SELECT stage, reason FROM ingest_failures ORDER BY stage")
    assert [s for s, _ in failures] == ["decode", "extract"]
    assert rows(db_path, "SELECT status, count(*) FROM raw_pages GROUP BY status ORDER BY status") == [
        ("article", 1),
        ("failed", 2),
    ]


def test_a_failing_batch_rolls_back_whole(db_path):
    _load(db_path, [_result("modern-marker1")])
    before = _snapshot(db_path)
    bad = _result("old-euckr")
    broken = PageResult(source=bad.source, page_sha256=bad.page_sha256, stored=None, article=bad.article)
    object.__setattr__(broken.article, "title_ko", None)  # violates NOT NULL: the load must fail whole
    with pytest.raises(Exception):  # noqa: B017  (DuckDB's constraint error)
        _load(db_path, [_result("column-byline-en"), broken])
    assert _snapshot(db_path) == before


def test_a_rejected_page_fails_alone_at_load_and_the_rest_of_its_batch_loads(db_path):
    """load_results' fallback: when DuckDB rejects the batch, it loads page by page; the rejected page is
    a `load` failure, the others load, and the translation counts still count distinct articles."""
    from breaknews.tasks.load import load_results

    open_migrated(db_path)
    run_id = str(uuid.uuid4())
    with writer(db_path) as con:
        runs.start_run(con, run_id, command="test", sources="-", flow_run_id=None, extractor_version="t")
    bad = _result("old-euckr")
    object.__setattr__(bad.article, "title_ko", None)  # violates NOT NULL
    with_en, again = _result("modern-marker1"), _result("modern-marker1")
    counts = load_results(str(db_path), run_id, [with_en, bad, _result("modern-nomarker"), again], seen={})
    assert (counts.articles_new, counts.articles_unchanged, counts.failures) == (2, 1, 1)
    assert (counts.with_translation, counts.without_translation) == (1, 1)  # distinct articles, not pages
    assert rows(db_path, "SELECT stage, source FROM ingest_failures") == [("load", bad.source)]
    assert rows(db_path, "SELECT count(*) FROM articles") == [(2,)]
