"""Rewrite a warehouse in the storage format every DuckDB client since 1.4 LTS reads.

A DuckDB file's storage version is fixed when the file is created. Files created by breaknews before it
wrote `STORAGE_VERSION` (or by any DuckDB 2.x client with its defaults) are v2.0.0, which DuckDB 1.x
cannot open. Converting copies every table, view and row (`COPY FROM DATABASE`) into a new file created
at `connect.STORAGE_VERSION`, checks the row counts, and swaps the files; the old file is kept beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from breaknews.warehouse.connect import (
    STORAGE_VERSION,
    _identifier,
    _literal,
    connect,
    ingest_lock,
    storage_version,
)
from breaknews.warehouse.errors import WarehouseError


@dataclass(frozen=True)
class Conversion:
    path: Path
    old_version: str | None
    new_version: str | None
    backup: Path | None  # None when the file was already in the format and nothing was done
    tables: int
    rows: int


def _row_counts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    tables = [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_type = 'BASE TABLE'",
            [catalog],
        ).fetchall()
    ]
    return {
        t: con.execute(f"SELECT count(*) FROM {_identifier(catalog)}.{_identifier(t)}").fetchone()[0]  # type: ignore[index]
        for t in tables
    }


def convert_storage(path: str | os.PathLike[str], wait_seconds: float = 0.0) -> Conversion:
    """Rewrite ``path`` at STORAGE_VERSION unless it already is; holds the write lock throughout."""
    path = Path(path)
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: nothing to convert")
    with ingest_lock(path, wait_seconds):
        with connect(path, read_only=True, wait_seconds=10.0) as probe:
            old = storage_version(probe)
        if old == STORAGE_VERSION:
            return Conversion(path, old, old, None, 0, 0)
        target = path.with_name(path.name + ".converting")
        backup = path.with_name(f"{path.name}.{old or 'old'}-backup")
        for stale in (target, Path(f"{target}.wal")):
            stale.unlink(missing_ok=True)
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH {_literal(path)} AS old (READ_ONLY)")
            con.execute(f"ATTACH {_literal(target)} AS new (STORAGE_VERSION '{STORAGE_VERSION}')")
            con.execute("COPY FROM DATABASE old TO new")
            before, after = _row_counts(con, "old"), _row_counts(con, "new")
            if before != after:
                raise WarehouseError(
                    f"conversion of {path} did not copy every row ({before} → {after}); nothing changed"
                )
            con.execute("DETACH new")
            con.execute("DETACH old")
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot convert {path}: {exc}; nothing changed") from exc
        finally:
            con.close()
        os.replace(path, backup)
        wal = Path(f"{path}.wal")
        if wal.exists():
            os.replace(wal, Path(f"{backup}.wal"))
        os.replace(target, path)
        with connect(path, read_only=True) as check:
            new = storage_version(check)
        return Conversion(path, old, new, backup, len(after), sum(after.values()))
