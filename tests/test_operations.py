"""Scheduled operation with real processes: `breaknews serve` on a schedule, readers while it writes,
a run at once, two serves of two warehouses on one kept server, a clean stop on SIGTERM and Ctrl-C,
and a kill -9 in the middle of an ingest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.warehouse.connect import connect
from tests.conftest import EXE, rows
from tests.site_server import SiteServer
from tests.sitegen import write_corpus

pytestmark = pytest.mark.slow  # real serve processes on a real Prefect server: the full suite only


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


def test_serve_runs_on_schedule_answers_readers_and_stops_cleanly(tmp_path, capsys, kept_server_env):
    site = SiteServer(range(4_100_000, 4_100_030), per_page=10, feed_size=10).start()
    db = tmp_path / "w.duckdb"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [EXE, "serve", "--site", site.base_url, "--list-pages", "3", "--rate", "0", "--interval", "3", "--db", str(db)],
        env=kept_server_env,
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
def test_kill_9_mid_ingest_then_rerun_loads_everything_exactly_once(tmp_path, shared_prefect_env):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 800, first_uid=4_200_000)
    db = tmp_path / "w.duckdb"
    victim = subprocess.Popen(
        [EXE, "ingest", str(corpus), "--db", str(db), "--batch-size", "20", "--workers", "1"],
        env=shared_prefect_env,
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


def _serve(db: Path, site_url: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [EXE, "serve", "--site", site_url, "--rate", "0", "--db", str(db), *extra],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _count(db: Path, sql: str) -> int:
    return int(_poll(db, sql)[0][0]) if db.exists() else 0


def _api(env: dict[str, str]) -> str:
    from breaknews.flows import kept_server

    home = env["PREFECT_HOME"]
    data = Path(home, kept_server.STATE_NAME).read_text(encoding="utf-8")
    return str(json.loads(data)["url"])


def _deployment_runs(env: dict[str, str], name: str, states: list[str]) -> list[dict]:
    import httpx

    api = _api(env)
    found = httpx.get(f"{api}/deployments/name/breaknews-scheduled-ingest/{name}", timeout=10)
    found.raise_for_status()
    body = {
        "deployments": {"id": {"any_": [found.json()["id"]]}},
        "flow_runs": {"state": {"type": {"any_": states}}},
    }
    listed = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10)
    listed.raise_for_status()
    return listed.json()


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> float:
    started = time.monotonic()
    process.send_signal(sig)
    assert process.wait(timeout=60) == 0
    return time.monotonic() - started


def test_serve_starts_at_once_and_two_serves_keep_to_their_own_warehouses(tmp_path, kept_server_env):
    """Issue 11: a second serve never runs the first one's runs, and the first run comes at once."""
    from breaknews.flows.schedule import deployment_name

    site = SiteServer(range(4_300_000, 4_300_012), per_page=10, feed_size=10).start()
    first_db, second_db = tmp_path / "a" / "w.duckdb", tmp_path / "b" / "w.duckdb"
    first_db.parent.mkdir()
    second_db.parent.mkdir()
    log = tmp_path / "serve.log"
    try:
        launched = time.monotonic()
        first = _serve(first_db, site.base_url, kept_server_env, log, "--interval", "3")
        _wait_for(lambda: _count(first_db, "SELECT count(*) FROM ingest_runs") >= 1, 60, "the first run")
        latency = time.monotonic() - launched
        _wait_for(
            lambda: _count(first_db, "SELECT count(*) FROM ingest_runs WHERE status = 'completed'") >= 2,
            60,
            "two runs of the first serve",
        )
        assert _stop(first) < 10
        done_first = _count(first_db, "SELECT count(*) FROM ingest_runs")
        name_a = deployment_name(str(first_db))
        assert _deployment_runs(kept_server_env, name_a, ["SCHEDULED", "PENDING"]) == []  # nothing left behind

        second = _serve(second_db, site.base_url, kept_server_env, log, "--interval", "3")
        _wait_for(
            lambda: _count(second_db, "SELECT count(*) FROM ingest_runs WHERE status = 'completed'") >= 3,
            90,
            "three runs of the second serve",
        )
        assert _stop(second) < 10
        assert name_a != deployment_name(str(second_db))
        # The first warehouse got nothing while only the second serve ran.
        assert _count(first_db, "SELECT count(*) FROM ingest_runs") == done_first

        # The first serve again, other settings: its runs carry them, none the old ones.
        again = _serve(first_db, site.base_url, kept_server_env, log, "--interval", "600", "--list-pages", "1")
        _wait_for(
            lambda: _count(first_db, "SELECT count(*) FROM ingest_runs WHERE status = 'completed'") > done_first,
            60,
            "the run at the start of the restarted serve",
        )
        waiting = _deployment_runs(kept_server_env, name_a, ["SCHEDULED", "PENDING", "RUNNING"])
        assert waiting and all(run["parameters"]["list_pages"] == 1 for run in waiting)
        assert _stop(again) < 10
    finally:
        site.stop()
    print(f"first-run latency {latency:.1f} s")
    assert latency < 10.0, f"the first run started {latency:.1f} s after serve was launched"
    assert b"a run now" in log.read_bytes()
    assert rows(first_db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(12, 12)]


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_stopping_serve_mid_run_cancels_the_run_and_records_it(tmp_path, kept_server_env, how):
    # A slow site: the run is still fetching when the signal comes.
    site = SiteServer(range(4_400_000, 4_400_040), per_page=10, feed_size=10, latency=1.0).start()
    db = tmp_path / "w.duckdb"
    serve = _serve(db, site.base_url, kept_server_env, tmp_path / "serve.log", "--interval", "600")
    try:
        _wait_for(
            lambda: len(site.article_paths()) >= 8 and _count(db, "SELECT count(*) FROM ingest_runs") == 1,
            90,
            "the run to be fetching articles",
        )
        started = time.monotonic()
        if how == "SIGTERM":
            serve.send_signal(signal.SIGTERM)
        else:  # a terminal's Ctrl-C reaches every process of the foreground group
            os.killpg(serve.pid, signal.SIGINT)
        code = serve.wait(timeout=60)
        stopped_in = time.monotonic() - started
    finally:
        site.stop()
    # Ctrl-C exits 130, as it does every command (issue 21); SIGTERM is serve's ordinary stop.
    assert code == (130 if how == "Ctrl-C" else 0), (tmp_path / "serve.log").read_text()
    assert stopped_in < 10.0, f"serve took {stopped_in:.1f} s to stop"
    _wait_for(lambda: not _group_alive(serve.pid), 15, "serve's run processes to end")
    [(status, message, ended)] = rows(db, "SELECT status, message, ended_at FROM ingest_runs")
    assert status == "cancelled" and ended is not None, message
    assert rows(db, "SELECT count(*) FROM articles")[0][0] < 40  # it really was stopped mid-run
    assert rows(db, "SELECT count(*) FROM articles a WHERE paragraphs_ko = 0") == [(0,)]
