"""Bring a warehouse's schema up to date: migrations forward, one version at a time, then the views.

Migrations are `migrations/NNNN_verb_object.sql`, append-only, applied in order in one transaction
each and recorded with a checksum (an edited migration is refused). Views are `views/*.sql`
(`CREATE OR REPLACE VIEW`), re-created after migrating so a new breaknews brings its views to an old
file. A command migrates its warehouse once, where it opens it (`handle.open_warehouse`), and hands
the opened warehouse down to what writes it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from breaknews.warehouse.connect import storage_version, writer
from breaknews.warehouse.errors import WarehouseError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VIEWS_DIR = Path(__file__).parent / "views"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    found = []
    for file in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(file.name)
        if not match:
            raise WarehouseError(f"migration file {file.name} is not named NNNN_verb_object.sql")
        found.append(Migration(int(match.group(1)), match.group(2), file.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise WarehouseError(f"migrations must be numbered 1..N without gaps, found {versions}")
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations in order, one transaction each; refuse edited ones. Returns versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = dict(con.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    known = migrations()
    newer = [v for v in applied if v > len(known)]
    if newer:
        raise WarehouseError(
            f"warehouse has schema version {max(newer)}, newer than this breaknews knows ({len(known)}): "
            "upgrade breaknews"
        )
    done = []
    for migration in known:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise WarehouseError(
                    f"migration {migration.version:04d}_{migration.name} was edited after it was applied; "
                    "schema changes go in a new migration"
                )
            continue
        con.execute("BEGIN")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                [migration.version, migration.name, migration.checksum, datetime.now(UTC)],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
        done.append(migration.version)
    refresh_views(con)
    return done


def refresh_views(con: duckdb.DuckDBPyConnection) -> None:
    for file in sorted(VIEWS_DIR.glob("*.sql")):
        con.execute(file.read_text(encoding="utf-8"))


def open_migrated(path: str | os.PathLike[str], wait_seconds: float = 30.0) -> str | None:
    """Create the warehouse if needed and bring its schema up to date. Returns the file's storage
    format (`storage_version`)."""
    try:
        with writer(path, wait_seconds=wait_seconds) as con:
            migrate(con)
            return storage_version(con)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot prepare warehouse {path}: {exc}") from exc
