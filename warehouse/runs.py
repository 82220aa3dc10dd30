"""The run ledger: one `ingest_runs` row per run, kept current batch by batch."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from breaknews.warehouse.models import COUNT_COLUMNS


def start_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    command: str,
    sources: str,
    flow_run_id: str | None,
    extractor_version: str,
    files_not_regular: int = 0,
) -> None:
    # No other run can be live while we hold the ingest lock: a 'running' row is a crashed run.
    con.execute(
        "UPDATE ingest_runs SET status = 'crashed', message = 'process ended before the run finished'"
        " WHERE status = 'running'"
    )
    con.execute(
        "INSERT INTO ingest_runs (run_id, flow_run_id, command, sources, started_at, status, extractor_version,"
        " files_not_regular) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
        [run_id, flow_run_id, command, sources, datetime.now(UTC), extractor_version, files_not_regular],
    )


def add_counts(con: duckdb.DuckDBPyConnection, run_id: str, counts: dict[str, int]) -> None:
    """Add a batch's counts to the run row, inside the batch's own transaction."""
    assignments = ", ".join(f"{name} = {name} + ?" for name in COUNT_COLUMNS)
    con.execute(
        f"UPDATE ingest_runs SET {assignments} WHERE run_id = ?",  # column names are constants
        [counts.get(name, 0) for name in COUNT_COLUMNS] + [run_id],
    )


SOURCE_COUNT_COLUMNS = ("records_read", "records_other_host", "records_revisit", "records_not_html", "records_not_ok")


def set_source_counts(con: duckdb.DuckDBPyConnection, run_id: str, counts: dict[str, int]) -> None:
    """Record what the sources skipped on purpose (WARC records of other hosts, revisits, …): totals
    kept by the reader, so they are set, not added."""
    assignments = ", ".join(f"{name} = ?" for name in SOURCE_COUNT_COLUMNS)
    con.execute(
        f"UPDATE ingest_runs SET {assignments} WHERE run_id = ?",  # column names are constants
        [counts.get(name, 0) for name in SOURCE_COUNT_COLUMNS] + [run_id],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None) -> None:
    con.execute(
        "UPDATE ingest_runs SET status = ?, ended_at = ?, message = ? WHERE run_id = ?",
        [status, datetime.now(UTC), message, run_id],
    )


def known_page_hashes(con: duckdb.DuckDBPyConnection, extractor_version: str) -> frozenset[str]:
    """Pages already turned into articles by this extractor version: re-reading them can be skipped."""
    rows = con.execute(
        "SELECT page_sha256 FROM raw_pages WHERE status = 'article' AND extractor_version = ?",
        [extractor_version],
    ).fetchall()
    return frozenset(row[0] for row in rows)


def cancel_runs(con: duckdb.DuckDBPyConnection, flow_run_ids: list[str], message: str) -> int:
    """Runs of these Prefect flow runs still `running` become `cancelled`: their process was stopped on
    purpose before it could say so itself. Returns how many."""
    rows = con.execute(
        "UPDATE ingest_runs SET status = 'cancelled', ended_at = coalesce(ended_at, ?), message = ?"
        " WHERE flow_run_id IN (SELECT unnest(?)) AND status = 'running'"
        " RETURNING run_id",
        [datetime.now(UTC), message, flow_run_ids],
    ).fetchall()
    return len(rows)
