"""The ingest flow on Prefect's real local API, against real DuckDB files."""

from __future__ import annotations

import shutil

import pytest

from breaknews.flows.ingest import ingest_pages, list_pages
from tests.conftest import FIXTURES, SAMPLES, rows

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_fixtures_end_to_end(db_path):
    summary = ingest_pages(paths=[str(FIXTURES)], db=str(db_path))
    c = summary.counts
    assert summary.status == "completed"
    assert c.pages_seen == len(list(FIXTURES.glob("*.html")))
    # mobile-url-forms is the same article as modern-marker1: counted unchanged, stored once.
    assert (c.articles_new, c.articles_unchanged, c.failures) == (c.pages_seen - 5, 1, 4)
    assert {stage for _, stage, _ in summary.failures} == {"decode", "extract"}
    assert rows(db_path, "SELECT count(*) FROM articles") == [(c.articles_new,)]
    [run] = rows(db_path, "SELECT status, pages_seen, articles_new, failures, flow_run_id FROM ingest_runs")
    assert run[:4] == ("completed", c.pages_seen, c.articles_new, 4)
    assert run[4]  # the Prefect flow-run id is recorded
    assert rows(db_path, "SELECT count(*) FROM ingest_failures") == [(4,)]


def test_second_run_skips_stored_pages_and_changes_nothing(db_path):
    ingest_pages(paths=[str(SAMPLES)], db=str(db_path))
    before = rows(db_path, "SELECT * EXCLUDE (last_seen_at) FROM articles ORDER BY article_id")
    parts = rows(db_path, "SELECT count(*) FROM paragraphs"), rows(db_path, "SELECT count(*) FROM captions")
    summary = ingest_pages(paths=[str(SAMPLES)], db=str(db_path))
    c = summary.counts
    assert c.articles_new == c.articles_updated == 0
    assert c.pages_skipped == c.articles_unchanged == c.pages_seen - c.failures
    assert rows(db_path, "SELECT * EXCLUDE (last_seen_at) FROM articles ORDER BY article_id") == before
    assert (rows(db_path, "SELECT count(*) FROM paragraphs"), rows(db_path, "SELECT count(*) FROM captions")) == parts
    assert rows(db_path, "SELECT count(*) FROM ingest_runs WHERE status = 'completed'") == [(2,)]


def test_rerun_over_unchanged_pages_loads_them_in_one_task_run(db_path):
    ingest_pages(paths=[str(FIXTURES)], db=str(db_path), batch_size=3)
    summary = ingest_pages(paths=[str(FIXTURES)], db=str(db_path), batch_size=3)
    assert summary.counts.pages_skipped == summary.counts.pages_seen - 4  # all but the failing pages
    [(run_id, flow_run_id)] = rows(
        db_path, "SELECT run_id, flow_run_id FROM ingest_runs ORDER BY started_at DESC LIMIT 1"
    )

    import asyncio
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def task_runs() -> list[str]:
        async with get_client() as client:
            found = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
            )
            return [t.name for t in found]

    names = asyncio.run(task_runs())
    # 14 pages in batches of 3: the failing pages' batches load on their own, the all-skipped
    # batches are held and loaded together at the end.
    loads = [n for n in names if n.startswith("load-batch")]
    assert 1 < len(loads) < 5, loads
    # Only batches with a page to extract (here: the failing ones, tried again) get a task run.
    failing = {source for (source,) in rows(db_path, "SELECT source FROM ingest_failures WHERE run_id = ?", [run_id])}
    files, _ = list_pages([str(FIXTURES)])
    batches = [files[i : i + 3] for i in range(0, len(files), 3)]
    extracts = [n for n in names if n.startswith("extract-batch")]
    assert len(extracts) == sum(any(f in failing for f in batch) for batch in batches) < len(batches)


def test_worker_processes_give_the_same_rows(db_path, tmp_path):
    single = tmp_path / "single.duckdb"
    ingest_pages(paths=[str(FIXTURES)], db=str(single), workers=1, batch_size=3)
    ingest_pages(paths=[str(FIXTURES)], db=str(db_path), workers=2, batch_size=3)
    query = "SELECT article_id, content_sha256, body_ko, body_en FROM articles ORDER BY article_id"
    assert rows(db_path, query) == rows(single, query)
    assert rows(db_path, "SELECT sum(failures) FROM ingest_runs") == [(4,)]


def test_a_changed_page_updates_its_article(db_path, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    page = folder / "a.html"
    shutil.copy(FIXTURES / "breaknews.modern-nomarker.html", page)
    ingest_pages(paths=[str(folder)], db=str(db_path))
    page.write_text(page.read_text(encoding="utf-8").replace("</h1>", " (수정)</h1>", 1), encoding="utf-8")
    summary = ingest_pages(paths=[str(folder)], db=str(db_path))
    assert summary.counts.articles_updated == 1
    assert rows(db_path, "SELECT revision, title_ko LIKE '%(수정)' FROM articles") == [(2, True)]
    assert rows(db_path, "SELECT count(*) FROM article_revisions") == [(2,)]


def test_unreadable_file_is_a_read_failure(db_path, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(FIXTURES / "breaknews.modern-nomarker.html", folder / "ok.html")
    (folder / "gone.html").symlink_to(tmp_path / "deleted-meanwhile.html")  # listed, but cannot be read
    summary = ingest_pages(paths=[str(folder)], db=str(db_path))
    assert summary.counts.articles_new == 1
    [(stage, reason)] = rows(db_path, "SELECT stage, reason FROM ingest_failures")
    assert stage == "read" and "gone.html" in reason and "No such file" in reason
