"""SQL a user types, on a sealed read-only connection, and the ledger's named query.

`breaknews query` is safe to hand to a colleague: the connection is read-only and sealed
(`warehouse/connect.py`: no file but the warehouse, no extension, configuration locked), and the
statements that would reach outside it are refused before DuckDB runs anything, even when
``--allow-files`` lets queries read files: COPY (which writes files), EXPORT DATABASE, ATTACH,
DETACH, INSTALL and LOAD.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from breaknews.warehouse.connect import connect, resolve_db_path
from breaknews.warehouse.errors import WarehouseError

RECENT_RUNS_SQL = """
SELECT run_id, command, status, started_at, ended_at, pages_seen, pages_skipped, articles_new, articles_updated,
       articles_unchanged, articles_retired, failures, with_translation, without_translation, flow_run_id, message
FROM ingest_runs ORDER BY started_at DESC LIMIT ?
"""

# Statement types that reach outside the warehouse: files written, databases attached, extensions
# installed (from the network) or loaded. (IMPORT DATABASE and COPY FROM DATABASE parse as PRAGMA;
# they write the read-only warehouse and DuckDB refuses them.)
_REFUSED = {
    duckdb.StatementType.COPY: "COPY writes or reads files: use `breaknews export`, or read_csv() with --allow-files",
    duckdb.StatementType.COPY_DATABASE: "COPY FROM DATABASE writes a database",
    duckdb.StatementType.EXPORT: "EXPORT DATABASE writes files: use `breaknews export`",
    duckdb.StatementType.ATTACH: "ATTACH opens another database",
    duckdb.StatementType.DETACH: "DETACH changes the databases this connection sees",
    duckdb.StatementType.LOAD: "INSTALL and LOAD fetch or load DuckDB extensions",
    duckdb.StatementType.EXTENSION: "extension statements are refused",
}


class RefusedStatementError(WarehouseError):
    """A statement `breaknews query` does not run: it would reach outside the warehouse."""


def read_connection(
    db: str | None, *, allow_files: bool = False, write_paths: Sequence[Path] = ()
) -> duckdb.DuckDBPyConnection:
    """A sealed read-only connection to the warehouse ``db`` names (or the default), waiting up to
    10 s for a writer's batch to commit; closed at the end of a `with` block. ``allow_files`` lets it
    read other files; ``write_paths`` are the only files it may write (an export's partial file)."""
    return connect(
        resolve_db_path(db), read_only=True, wait_seconds=10.0, allow_files=allow_files, write_paths=write_paths
    )


def check_statements(sql: str) -> None:
    """Refuse SQL with a statement that reaches outside the warehouse, before any of it runs."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"query failed: {exc}") from exc
    except ValueError as exc:  # a statement type the Python client cannot name (UPDATE EXTENSIONS)
        raise RefusedStatementError(f"breaknews query runs no such statement: {exc}") from exc
    for statement in statements:
        why = _REFUSED.get(statement.type)
        if why:
            raise RefusedStatementError(f"breaknews query is read-only and reads only the warehouse: {why}")


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The relation of ``sql`` (None for a statement that returns none), or a WarehouseError naming
    what DuckDB refused. Statements that reach outside the warehouse are refused first."""
    check_statements(sql)
    try:
        return con.sql(sql, params=list(params)) if params else con.sql(sql)
    except duckdb.PermissionException as exc:
        raise WarehouseError(
            f"query failed: {one_line(exc)} (breaknews query reads only the warehouse; --allow-files lets it read"
            " files)"
        ) from exc
    except duckdb.Error as exc:
        if "requires the extension" in str(exc):  # its advice (INSTALL, SET autoinstall) cannot apply here
            raise WarehouseError(
                f"query failed: {str(exc).splitlines()[0]} (breaknews query loads no DuckDB extension:"
                " it reads the warehouse and, with --allow-files, local files)"
            ) from exc
        raise WarehouseError(f"query failed: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    """DuckDB's message without its multi-line parts: the first paragraph (the error and, for a
    binder error, the candidate names), its lines joined. The caret drawing under the SQL is dropped."""
    paragraph = str(exc).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines() if line.strip())
