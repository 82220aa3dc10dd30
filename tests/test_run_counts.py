"""The run's counts are exact for any mix of duplicate pages, and an interrupted run is recorded as
`cancelled` with what it loaded.

Page counts count pages (every page is exactly one of new, updated, unchanged or failed); translation
counts count distinct articles (README, `ingest_runs`)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from breaknews.flows.ingest import ingest_pages
from tests.conftest import EXE, SAMPLES, poll_count, rows
from tests.sitegen import write_corpus

COPIES = 5
LEDGER = (
    "SELECT pages_seen, pages_skipped, articles_new, articles_updated, articles_unchanged, failures,"
    " with_translation, without_translation FROM ingest_runs ORDER BY started_at"
)


def _duplicated_samples(folder: Path) -> int:
    """COPIES copies of every sample page (11 articles and a deleted-article notice), some byte for
    byte, some with a trailing comment (other bytes, same article), in an order that spreads the
    copies of each article over many batches."""
    folder.mkdir()
    pages = sorted(SAMPLES.glob("*.html"))
    for copy in range(COPIES):
        for page in pages:
            content = page.read_bytes() + (f"\n<!-- copy {copy} -->\n".encode() if copy % 2 else b"")
            (folder / f"{copy}-{page.name}").write_bytes(content)
    return COPIES * len(pages)


def _distinct_translation(db: Path) -> tuple[int, int]:
    [(with_en, without_en)] = rows(
        db, "SELECT count(*) FILTER (WHERE has_translation), count(*) FILTER (WHERE NOT has_translation) FROM articles"
    )
    return with_en, without_en


@pytest.mark.usefixtures("prefect_api")
def test_counts_are_exact_with_duplicates_spread_across_batches(tmp_path, db_path):
    pages = _duplicated_samples(tmp_path / "pages")
    first = ingest_pages(paths=[str(tmp_path / "pages")], db=str(db_path), batch_size=7, workers=1)
    c = first.counts
    translated = _distinct_translation(db_path)
    assert translated == (8, 3)
    assert (c.pages_seen, c.articles_new, c.failures) == (pages, 11, COPIES)  # the notice fails each time
    assert c.articles_new + c.articles_updated + c.articles_unchanged + c.failures == c.pages_seen
    assert (c.with_translation, c.without_translation) == translated  # distinct articles, not per batch

    second = ingest_pages(paths=[str(tmp_path / "pages")], db=str(db_path), batch_size=7, workers=1)
    c2 = second.counts
    # Every article page is skipped now (its bytes were extracted); the notices are tried again.
    assert (c2.pages_seen, c2.pages_skipped, c2.articles_unchanged) == (pages, pages - COPIES, pages - COPIES)
    assert (c2.with_translation, c2.without_translation) == translated
    # The ledger holds exactly what the summaries said, batch by batch added up.
    assert rows(db_path, LEDGER) == [
        (c.pages_seen, c.pages_skipped, c.articles_new, c.articles_updated, c.articles_unchanged, c.failures, 8, 3),
        (pages, pages - COPIES, 0, 0, pages - COPIES, COPIES, 8, 3),
    ]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_is_cancelled_with_what_it_loaded(shared_prefect_env, tmp_path, signum):
    """Ctrl-C (SIGINT), and SIGTERM, which is how Prefect cancels a flow run's process."""
    corpus = tmp_path / "corpus"
    # Long enough that the signal lands mid-run even when a busy machine's polls wait seconds on the lock
    # (800 pages were loaded whole between two polls on two busy cores); the run is cut short, so the
    # size costs only the writing of the corpus (~1 s).
    pages = 3000
    write_corpus(corpus, pages, first_uid=4_400_000)
    db = tmp_path / "w.duckdb"
    run = subprocess.Popen(
        [EXE, "ingest", str(corpus), "--db", str(db), "--batch-size", "10", "--workers", "1"],
        env=shared_prefect_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while poll_count(db, "articles") < 20 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.2)
        run.send_signal(signum)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == (130 if signum == signal.SIGINT else -signal.SIGTERM), err
    [(status, message, seen, new, failures)] = rows(
        db, "SELECT status, message, pages_seen, articles_new, failures FROM ingest_runs"
    )
    loaded = rows(db, "SELECT count(*) FROM articles")[0][0]
    assert status == "cancelled", message
    assert "KeyboardInterrupt" not in message and "loaded and are kept" in message
    assert 20 <= loaded < pages, "the signal did not land mid-run"
    assert (seen, new, failures) == (loaded, loaded, 0)  # what it did so far, exactly
    assert "Crash detected" not in err and "Traceback" not in err, err  # Prefect's ERROR lines: the run is cancelled
    if signum == signal.SIGINT:
        assert err.rstrip().endswith("breaknews: interrupted")


_SWALLOWING_RUN = """
import os, signal, sys, time
from pathlib import Path
from prefect import flow
from breaknews.flows.engine import run_ingest
from breaknews.warehouse.handle import open_warehouse

corpus, db, then = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
paths = sorted(str(p) for p in corpus.rglob("*.html"))

def items():
    for n, path in enumerate(paths):
        if n == 50:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except BaseException:  # as some of Prefect's calls do: the handler's exception kept, not raised
                if then == "error":  # or Prefect's crash handling fails on it with an error of its own
                    raise ValueError("Task run is not set") from None
        yield path

@flow
def swallowing():
    with open_warehouse(db) as warehouse:
        return run_ingest(warehouse, command="ingest", sources="test", items=items(), total=len(paths), batch_size=10,
                          workers=1)

swallowing()
"""


@pytest.mark.parametrize("then", ["swallowed", "error"])
def test_a_sigterm_whose_exception_is_swallowed_still_stops_the_run(shared_prefect_env, tmp_path, then):
    """A SIGTERM whose TerminationSignal some code catches and drops (Prefect does, in calls it runs in the
    main thread) still cancels the run at its next batch, instead of letting it run to its last page; one
    that code turns into an error of its own (Prefect's crash handling failing) cancels it as the signal."""
    corpus = tmp_path / "corpus"
    pages = 200
    write_corpus(corpus, pages, first_uid=4_600_000)
    db = tmp_path / "w.duckdb"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", _SWALLOWING_RUN, str(corpus), str(db), then],
        env=shared_prefect_env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGTERM, done.stderr[-2000:]
    [(status, seen)] = rows(db, "SELECT status, pages_seen FROM ingest_runs")
    assert status == "cancelled"
    assert 0 < seen < pages  # stopped at the batch after the signal, not at the last page
    assert rows(db, "SELECT count(*) FROM articles") == [(seen,)]
