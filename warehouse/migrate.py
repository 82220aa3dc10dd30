"""Bring a warehouse's schema up to date: migrations forward, one version at a time, then the views.

Migrations are `migrations/NNNN_verb_object.sql`, append-only, applied in order in one transaction
each and recorded with a checksum (an edited migration is refused). Views are `views/*.sql`
(`CREATE OR REPLACE VIEW`), re-created after migrating so a new breaknews brings its views to an old
file. A command migrates a warehouse once: inside `once_per_command()` (the CLI enters it around
every command, and every flow run around itself), `open_migrated` remembers the files it has brought up
to date and does not open them for writing again; outside it (a library caller, a test), every call
migrates.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from breaknews.warehouse.connect import storage_version, writer
from breaknews.warehouse.errors import WarehouseError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VIEWS_DIR = Path(__file__).parent / "views"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Files migrated during the current command, by (device, inode): a file replaced under the same name
# is new. None outside a command: every call migrates.
_migrated: set[tuple[int, int]] | None = None


@contextmanager
def once_per_command() -> Iterator[None]:
    """Within this block, each warehouse file is migrated at most once (the CLI, the flow and the site
    flow each ask for it). Nested, it shares the enclosing block's memory: a flow run inside a command
    does not migrate again what the command did."""
    global _migrated
    previous = _migrated
    _migrated = set() if previous is None else previous
    try:
        yield
    finally:
        _migrated = previous


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
    """Create the warehouse if needed and bring its schema up to date, once per command and file.
    Returns the file's storage format (`storage_version`) when it migrated, None when it had already."""
    if _migrated is not None and _file_key(path) in _migrated:
        return None
    try:
        with writer(path, wait_seconds=wait_seconds) as con:
            migrate(con)
            version = storage_version(con)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot prepare warehouse {path}: {exc}") from exc
    key = _file_key(path)
    if _migrated is not None and key is not None:
        _migrated.add(key)
    return version


def _file_key(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino
