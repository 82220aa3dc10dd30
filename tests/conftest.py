"""Shared fixtures. Telemetry switches are set before anything can import Prefect."""

from __future__ import annotations

import os

os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# `breaknews` processes started by tests use a temporary Prefect server, never leave a kept one behind.
os.environ["BREAKNEWS_PREFECT_SERVER"] = "ephemeral"

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

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

    with prefect_test_harness(server_startup_timeout=120):
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

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
