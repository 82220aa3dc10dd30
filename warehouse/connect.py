"""Open the warehouse and hold the single-writer lock.

DuckDB lets one process write a database file at a time, and while it has the file open no other
process can open it, even read-only. Writers therefore hold a connection only for one short batch,
readers retry briefly on a lock conflict, and a lock file keeps two ingest runs from interleaving.

Read-only connections are sealed: they touch no file but the warehouse (no COPY TO, no EXPORT, no
ATTACH, no read_csv of /etc/passwd), install and load no extension, and lock their configuration so
a statement cannot undo any of that. Each is its own in-memory DuckDB instance with the warehouse
attached read-only: DuckDB shares one instance (and its settings) between connections to the same
file in a process, so sealing a plain read-only connection would seal every other one too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from breaknews.warehouse.errors import WarehouseBusyError, WarehouseError

DEFAULT_DB = "breaknews.duckdb"
KOREA_TIME_ZONE = "Asia/Seoul"
_LOCK_ERROR = "Could not set lock"
# Rows per row group when breaknews writes. DuckDB appends each committed batch as a new row group
# and, at every checkpoint (each writer's close), merges the small ones back up to this size,
# re-compressing them. At DuckDB's default (122,880 rows) a merge near the end of a large run
# rewrites tens of thousands of compressed raw pages at once: the ingest's peak memory grew with
# the corpus (~14 KB per page). At 2,048 rows (one DuckDB vector) a merge touches at most ~30 MB,
# so memory stays flat. Scans over 477,000 paragraphs and 64,000 articles ran from 0.8x to 1.3x
# their time at the default size (bench/README.md).
WRITE_ROW_GROUP_SIZE = 2048
# The storage format breaknews creates files in. DuckDB 2.0 writes v2.0.0 by default, which no DuckDB
# 1.x client can open (the CLI on PyPI is 1.5.6; DBeaver, dbt-duckdb and notebooks pinned to 1.x or the
# 1.4 LTS fail with "Trying to read a database file with version number 69"). Files created at v1.4.0
# open in DuckDB 1.4 LTS and every later client, and stay at that version whoever writes them later.
# A file's storage version is fixed when it is created: `breaknews convert` rewrites an older file.
STORAGE_VERSION = "v1.4.0"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """--db beats $BREAKNEWS_DB beats ./breaknews.duckdb."""
    return Path(db or os.environ.get("BREAKNEWS_DB") or DEFAULT_DB).expanduser()


def connect(
    path: str | os.PathLike[str],
    *,
    read_only: bool = False,
    wait_seconds: float = 0.0,
    allow_files: bool = False,
    write_paths: Sequence[Path] = (),
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; on a lock held by another process, retry for up to ``wait_seconds``.

    A read-only connection is sealed (see the module's docstring): ``allow_files`` lets it read files
    outside the warehouse, ``write_paths`` are the only files (or folders, with what they hold) it
    may write. Both are settings of the connection, fixed before its configuration is locked."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `breaknews ingest` first, or pass --db")
    if not read_only and not path.parent.exists():
        raise WarehouseError(f"cannot create warehouse {path}: folder {path.parent} does not exist")
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = _open_sealed(path, allow_files, write_paths) if read_only else _open_for_writing(path)
            break
        except duckdb.IOException as exc:
            if _LOCK_ERROR in str(exc) and time.monotonic() < deadline:
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
                delay = min(delay * 2, 0.5)
                continue
            if _LOCK_ERROR in str(exc):
                raise WarehouseBusyError(
                    f"warehouse {path} is open for writing by another process; try again shortly"
                ) from exc
            raise WarehouseError(f"cannot open warehouse {path}: {exc}") from exc
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {path}: {exc}") from exc
    if not read_only:
        # Users read published_at in Korea time, as the site prints it.
        con.execute(f"SET TimeZone = '{KOREA_TIME_ZONE}'")
    return con


def _open_sealed(path: Path, allow_files: bool, write_paths: Sequence[Path]) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can reach nothing but the warehouse (and ``write_paths``)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(path)} AS {_identifier(_catalog_name(path))} (READ_ONLY)")
        con.execute(f"USE {_identifier(_catalog_name(path))}")
        # Settings first, then the lock: once locked, no statement can change any of them back.
        con.execute(f"SET TimeZone = '{KOREA_TIME_ZONE}'")
        # Spills of large sorts go where DuckDB puts them for a file it opens itself, not into the cwd.
        con.execute(f"SET temp_directory = {_literal(f'{path}.tmp')}")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET allow_community_extensions = false")
        if write_paths:
            # A folder written whole (a partitioned export) needs its own path and what it holds.
            files = ", ".join(_literal(p) for p in write_paths)
            folders = ", ".join(_literal(f"{p}{os.sep}") for p in write_paths)
            con.execute(f"SET allowed_paths = [{files}]")
            con.execute(f"SET allowed_directories = [{folders}]")
        if not allow_files:
            con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _catalog_name(path: Path) -> str:
    """The name DuckDB itself gives a database it opens (the file's stem), unless that is reserved."""
    name = path.stem
    return "warehouse" if not name or name.lower() in ("memory", "system", "temp", "main") else name


def _literal(text: str | os.PathLike[str]) -> str:
    """A SQL string literal (ATTACH and SET take no parameters)."""
    return "'" + str(text).replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that writes ``path`` with small row groups. The row-group size is a setting of
    the attachment, not of the file, so every breaknews writer attaches the file this way; readers
    (and other tools) open the file as usual and see the same tables."""
    options = f"ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE}"
    if not path.exists() or path.stat().st_size == 0:  # a new file: in the format every client reads
        options += f", STORAGE_VERSION '{STORAGE_VERSION}'"
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(path)} AS warehouse ({options})")
        con.execute("USE warehouse")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def writer(path: str | os.PathLike[str], wait_seconds: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived write connection, closed on exit so readers can get in between batches."""
    con = connect(path, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of the warehouse ``path``."""
    return Path(f"{Path(path)}.lock")


@contextmanager
def ingest_lock(path: str | os.PathLike[str], wait_seconds: float = 0.0) -> Iterator[None]:
    """Held while one breaknews process writes the warehouse, so two never write one file at once.
    Taken once, where the writing starts (`handle.open_warehouse`, convert, serve's last word in the
    ledger): a second take in the same process waits like any other writer's."""
    if not Path(path).parent.exists():
        raise WarehouseError(f"cannot create warehouse {path}: folder {Path(path).parent} does not exist")
    if Path(path).is_dir():
        raise WarehouseError(f"cannot open warehouse {path}: it is a folder")
    lock = FileLock(lock_path(path), thread_local=False)
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout as exc:
        raise WarehouseBusyError(
            f"another breaknews run is writing {path} (lock file {lock_path(path)}); wait for it to finish"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def storage_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The storage format of the connection's warehouse file (``v1.4.0``, ``v2.0.0``, …): the oldest
    DuckDB release that can read it."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return str(row[0]).rstrip("+") if row and row[0] else None
