"""SQL a user types, on a read-only connection, and the ledger's named query."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

from breaknews.warehouse.connect import connect, resolve_db_path
from breaknews.warehouse.errors import WarehouseError

RECENT_RUNS_SQL = """
SELECT run_id, command, status, started_at, ended_at, pages_seen, pages_skipped, articles_new, articles_updated,
       articles_unchanged, failures, with_translation, without_translation, flow_run_id, message
FROM ingest_runs ORDER BY started_at DESC LIMIT ?
"""


@contextmanager
def read_connection(db: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the warehouse ``db`` names (or the default), waiting up to 10 s for
    a writer's batch to commit."""
    con = connect(resolve_db_path(db), read_only=True, wait_seconds=10.0)
    try:
        yield con
    finally:
        con.close()


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The relation of ``sql`` (None for a statement that returns none), or a WarehouseError naming
    what DuckDB refused."""
    try:
        return con.sql(sql, params=list(params)) if params else con.sql(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"query failed: {exc}") from exc
