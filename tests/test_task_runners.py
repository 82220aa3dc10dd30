"""Extraction on Dask through Prefect's Dask task runner gives the same rows as the default runner."""

from __future__ import annotations

import pytest

from breaknews.flows.cli.parser import build_parser
from breaknews.flows.ingest import ingest_pages
from breaknews.flows.runners import TaskRunnerError, ingest_flow
from tests.conftest import FIXTURES, rows

ARTICLES = "SELECT article_id, content_sha256, body_ko, body_en, title_en FROM articles ORDER BY article_id"
PARTS = "SELECT article_id, lang, position, text FROM paragraphs ORDER BY ALL"
FAILURES = "SELECT source, stage, reason FROM ingest_failures ORDER BY source"


def test_dask_cluster_gives_the_same_rows_as_the_default(prefect_api, dask_cluster, tmp_path):
    default_db, dask_db = tmp_path / "default.duckdb", tmp_path / "dask.duckdb"
    ingest_pages(paths=[str(FIXTURES)], db=str(default_db), batch_size=4)
    flow = ingest_flow("dask", dask_address=dask_cluster.scheduler_address)
    summary = flow(paths=[str(FIXTURES)], db=str(dask_db), batch_size=4, task_runner="dask")
    assert summary.status == "completed" and summary.counts.articles_new > 5
    for query in (ARTICLES, PARTS, FAILURES):
        assert rows(dask_db, query) == rows(default_db, query)
    # The batches really ran on the cluster's workers.
    ran = {str(prefix) for prefix in dask_cluster.scheduler.task_prefixes}
    assert "extract_batch" in ran, ran


def test_threads_runner_gives_the_same_rows(prefect_api, tmp_path):
    default_db, threads_db = tmp_path / "default.duckdb", tmp_path / "threads.duckdb"
    ingest_pages(paths=[str(FIXTURES)], db=str(default_db), workers=2, batch_size=5)
    ingest_flow("threads")(paths=[str(FIXTURES)], db=str(threads_db), batch_size=5, task_runner="threads")
    for query in (ARTICLES, PARTS, FAILURES):
        assert rows(threads_db, query) == rows(default_db, query)


def test_unknown_task_runner_is_refused():
    with pytest.raises(TaskRunnerError, match="unknown task runner"):
        ingest_flow("spark")
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["ingest", str(FIXTURES), "--task-runner", "spark"])
    assert exc.value.code == 2


def test_the_dask_flow_is_told_how_many_workers_its_cluster_has(dask_cluster):
    """How many archive files it scans at once follows from it (two per worker), asked of the cluster
    through Dask's client, not read out of Prefect's run context."""
    flow = ingest_flow("dask", dask_address=dask_cluster.scheduler_address)
    assert flow.keywords == {"dask_workers": 2}  # the session's cluster of two workers
    assert ingest_flow("dask", workers=3).keywords == {"dask_workers": 3}  # a local cluster of three
