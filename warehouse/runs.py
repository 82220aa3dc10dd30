"""The run ledger: one `ingest_runs` row per run, kept current batch by batch, and the archive files
runs have read to their end (`archive_files`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from breaknews.warehouse.models import COUNT_COLUMNS, ArchiveRead, SourceStats


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


def set_source_counts(con: duckdb.DuckDBPyConnection, run_id: str, stats: SourceStats) -> None:
    """Record what the sources gave and skipped on purpose (archive files read, WARC records of other
    hosts, revisits, …): totals kept by the reader, so they are set, not added."""
    counts = stats.ledger_counts()
    assignments = ", ".join(f"{name} = ?" for name in counts)
    hosts = sorted(stats.kept_by_host.items())
    con.execute(
        f"UPDATE ingest_runs SET {assignments}, records_kept_by_host = MAP(?::VARCHAR[], ?::BIGINT[])"  # constants
        " WHERE run_id = ?",
        [*counts.values(), [h for h, _ in hosts], [n for _, n in hosts], run_id],
    )


def record_archive_files(
    con: duckdb.DuckDBPyConnection, run_id: str, archives: Sequence[ArchiveRead], now: datetime
) -> None:
    """Archive files read to their end, inside the transaction that loads their last pages."""
    for a in archives:
        hosts = sorted(a.kept_by_host.items())
        con.execute(
            "INSERT INTO archive_files (location, hosts, size, bytes_read, records_read, records_kept, failures,"
            " kept_by_host, read_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, MAP(?::VARCHAR[], ?::BIGINT[]), ?, ?)",
            [
                a.location,
                a.hosts,
                a.size,
                a.bytes_read,
                a.records_read,
                a.records_kept,
                a.failures,
                [h for h, _ in hosts],
                [n for _, n in hosts],
                now,
                run_id,
            ],
        )


def archives_read(con: duckdb.DuckDBPyConnection, hosts: str) -> dict[str, set[int | None]]:
    """The archive files read to their end with the host filter ``hosts``: location → sizes seen."""
    found: dict[str, set[int | None]] = {}
    for location, size in con.execute(
        "SELECT DISTINCT location, size FROM archive_files WHERE hosts = ?", [hosts]
    ).fetchall():
        found.setdefault(location, set()).add(size)
    return found


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
