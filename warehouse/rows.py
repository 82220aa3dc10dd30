"""How rows go into the warehouse's tables, for every writer (the batch load, the realignment): in
bulk through DuckDB's appender, a list of ids as one query parameter, and the row of a paragraph pair
(both writers make them)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from breaknews.warehouse.models import ParagraphPair


def ids_param(values: Sequence[str]) -> list[list[str]]:
    """The parameters of a query that reads a list of ids as ``IN (SELECT unnest(?))``."""
    return [list(values)]


def append_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[tuple[object, ...]],
    *,
    upsert: bool = False,
    columns: Sequence[str] | None = None,
) -> None:
    """Bulk-insert with DuckDB's appender: executemany manages under 1,000 rows/s, this ~85,000."""
    if not rows:
        return
    appender = con.appender(table, columns=list(columns) if columns else None, action="upsert" if upsert else "insert")
    appender.append_rows(rows)
    appender.flush()


def pair_row(article_id: str, p: ParagraphPair) -> tuple[object, ...]:
    """A `paragraph_pairs` row, in the table's column order."""
    return (
        article_id,
        p.kind,
        p.position,
        p.ko_first,
        p.ko_last,
        p.en_first,
        p.en_last,
        p.ko_text,
        p.en_text,
        p.score,
        p.bead,
        p.method,
    )
