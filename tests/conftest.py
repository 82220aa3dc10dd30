"""Shared fixtures. Telemetry switches are set before anything can import Prefect."""

from __future__ import annotations

import os

os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# `breaknews` processes started by tests use a temporary Prefect server, never leave a kept one behind.
os.environ["BREAKNEWS_PREFECT_SERVER"] = "ephemeral"

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from tests.processes import EXE, kept_env

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "pages"
SAMPLES = ROOT / "samples"


def fixture_page(slug: str) -> Path:
    return FIXTURES / f"breaknews.{slug}.html"


def expected(slug: str) -> dict:
    return json.loads((FIXTURES / f"breaknews.{slug}.expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """Prefect's real local API (a temporary server), shared by every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    from breaknews.flows.heartbeats import without_heartbeats

    # As every breaknews command runs its flows: without Prefect's heartbeat thread, which costs each
    # flow run up to a second at its end (the serve tests run real `serve` processes, with heartbeats).
    with prefect_test_harness(server_startup_timeout=120), without_heartbeats():
        yield


@pytest.fixture(scope="session")
def shared_prefect_env(prefect_api, tmp_path_factory) -> dict[str, str]:
    """The environment for a `breaknews` process that should run its flows on the session's Prefect
    server (the harness's) instead of starting one of its own: a configured PREFECT_API_URL is used as
    it is. Saves the 10–20 s a new Prefect home and an ephemeral server cost a subprocess."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    env["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    env["PREFECT_LOGGING_LEVEL"] = "WARNING"
    return env


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[object]:
    """A local Dask cluster of two workers, shared by the tests of the Dask task runner. Threads in this
    process: quick to start, and the workers see the session's Prefect API."""
    from distributed import LocalCluster

    from breaknews.flows.runners import LOCAL_CLUSTER

    with LocalCluster(n_workers=2, **{**LOCAL_CLUSTER, "processes": False}) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kept_server_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The environment of `breaknews` processes sharing one kept Prefect server (a real `prefect server
    start`, with its scheduler), started once for the session in its own Prefect home and port, as
    `breaknews server start` starts it, and stopped at the end."""
    env = kept_env(tmp_path_factory.mktemp("kept-prefect-home"))
    started = subprocess.run([EXE, "server", "start"], env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        yield env
    finally:
        subprocess.run([EXE, "server", "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def poll_count(db: Path, table: str) -> int:
    """Rows in ``table`` of a warehouse another process may be writing: 0 while the file is missing,
    busy or not yet migrated. For polling, until a running process has got somewhere."""
    from breaknews.warehouse.connect import connect

    if not db.exists():
        return 0
    try:
        con = connect(db, read_only=True, wait_seconds=5)
    except Exception:
        return 0
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # a table name from the test
    except duckdb.Error:
        return 0
    finally:
        con.close()


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@contextmanager
def lock_held_elsewhere(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the warehouse's ingest lock (as a running `breaknews ingest` does)
    until the block ends."""
    code = (
        "import sys, time\n"
        "from filelock import FileLock\n"
        "lock = FileLock(sys.argv[1]); lock.acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, f"{db}.lock"], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()
