"""Scheduled operation with real processes: `breaknews serve` on a schedule, readers while it writes,
a clean stop on SIGTERM, and a kill -9 in the middle of an ingest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.warehouse.connect import connect
from tests.conftest import rows
from tests.site_server import SiteServer
from tests.sitegen import write_corpus

EXE = os.path.join(os.path.dirname(sys.executable), "breaknews")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    return env


def _poll(db: Path, sql: str) -> list[tuple]:
    con = connect(db, read_only=True, wait_seconds=20.0)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_on_schedule_answers_readers_and_stops_cleanly(tmp_path, capsys):
    site = SiteServer(range(4_100_000, 4_100_030), per_page=10, feed_size=10).start()
    db = tmp_path / "w.duckdb"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [EXE, "serve", "--site", site.base_url, "--list-pages", "3", "--rate", "0", "--interval", "3", "--db", str(db)],
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: db.exists() and _poll(db, "SELECT count(*) FROM articles")[0][0] == 30,
            400,
            "the first scheduled run",
        )
        site.publish(4_100_099)  # published between runs
        slowest = 0.0
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert main(["query", "SELECT count(*) FROM articles", "--db", str(db), "--format", "csv"]) == 0
            slowest = max(slowest, time.monotonic() - started)
            if int(capsys.readouterr().out.splitlines()[1]) == 31:
                break
            time.sleep(0.2)
        assert _poll(db, "SELECT count(*) FROM articles") == [(31,)], "the new article was not picked up"
        assert slowest < 10.0, f"a read waited {slowest:.1f} s for the writer"
        # Later runs download no stored article again: only the new one was fetched in full.
        assert sorted(p for p in site.article_paths() if p.endswith("4100099")) == ["/4100099"]
        assert all(site.article_paths().count(f"/{uid}") == 1 for uid in range(4_100_000, 4_100_030))
        # Readers see the new article as soon as its batch commits; the run that loaded it finishes
        # (its ledger row turns 'completed') a moment later. Stop serve only after that.
        _wait_for(
            lambda: _poll(db, "SELECT count(*) FROM ingest_runs WHERE status = 'completed'")[0][0] >= 2,
            60,
            "the run that loaded the new article to finish",
        )
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
        log.close()
        site.stop()
    assert code == 0, (tmp_path / "serve.log").read_text()
    _wait_for(lambda: not _group_alive(serve.pid), 30, "serve's flow-run processes to end")
    assert b"stopped" in (tmp_path / "serve.log").read_bytes()
    statuses = [s for (s,) in rows(db, "SELECT status FROM ingest_runs ORDER BY started_at")]
    assert statuses.count("completed") >= 2 and set(statuses) <= {"completed", "running", "crashed"}
    assert rows(db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(31, 31)]


@pytest.mark.usefixtures("prefect_api")
def test_kill_9_mid_ingest_then_rerun_loads_everything_exactly_once(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 800, first_uid=4_200_000)
    db = tmp_path / "w.duckdb"
    victim = subprocess.Popen(
        [EXE, "ingest", str(corpus), "--db", str(db), "--batch-size", "20", "--workers", "1"],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: db.exists() and _poll(db, "SELECT count(*) FROM articles")[0][0] >= 100,
            400,
            "the first batches to land",
        )
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
    loaded = _poll(db, "SELECT count(*) FROM articles")[0][0]
    assert 100 <= loaded < 800, "the kill did not land mid-run"
    # Nothing half-written is visible: every article has all its paragraphs, no duplicates.
    assert _poll(
        db,
        "SELECT count(*) FROM articles a WHERE paragraphs_ko <> "
        "(SELECT count(*) FROM paragraphs p WHERE p.article_id = a.article_id AND p.lang = 'ko')",
    ) == [(0,)]

    summary = ingest_pages(paths=[str(corpus)], db=str(db))
    assert summary.status == "completed"
    assert summary.counts.articles_new == 800 - loaded
    assert rows(db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(800, 800)]
    assert rows(
        db, "SELECT count(*) FROM (SELECT article_id, lang, position FROM paragraphs GROUP BY ALL HAVING count(*) > 1)"
    ) == [(0,)]
    assert rows(db, "SELECT status FROM ingest_runs ORDER BY started_at") == [("crashed",), ("completed",)]
