"""What the warehouse says of itself: its tables and views, their columns, and what each means.

The meanings are comments in DuckDB's own catalog (`COMMENT ON` in the migrations and the view files),
so any DuckDB client shows them (`SELECT comment FROM duckdb_columns()`), and docs/schema.md is
rendered from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    comment: str | None


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # "table" or "view"
    comment: str | None
    columns: tuple[Column, ...]


def relations(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """Every table, then every view, of the connection's current database, by name, columns in order."""
    kinds = con.execute(
        "SELECT table_name, 'table', comment FROM duckdb_tables()"
        " WHERE database_name = current_database() AND schema_name = current_schema() AND NOT internal"
        " UNION ALL SELECT view_name, 'view', comment FROM duckdb_views()"
        " WHERE database_name = current_database() AND schema_name = current_schema() AND NOT internal"
        " ORDER BY 2, 1"
    ).fetchall()
    columns: dict[str, list[Column]] = {}
    for table, name, data_type, comment in con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = current_schema() AND NOT internal"
        " ORDER BY table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append(Column(name, data_type, comment))
    return [Relation(name, kind, comment, tuple(columns.get(name, ()))) for name, kind, comment in kinds]
