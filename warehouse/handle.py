"""The warehouse a command writes: opened once, at the command's edge, and handed down.

`open_warehouse` takes the ingest lock (no other breaknews process writes the file meanwhile), then
creates the file if needed and migrates it: a busy warehouse is refused before anything is created,
a broken one before anything runs. The `Warehouse` it yields stands for all three: the flows, the
engine and the loader are given one, and none of them locks or migrates again. Where no command
opens it (a run `serve` starts in a process of its own, a library caller passing a path), the flow
opens it itself (`writing`).

Readers (query, search, report, export) open read-only connections of their own and take no lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from breaknews.warehouse.connect import ingest_lock, resolve_db_path
from breaknews.warehouse.migrate import open_migrated


class Warehouse(str):
    """The path of a warehouse this process holds for writing (locked, created, migrated), as
    `open_warehouse` yields it; valid inside its block.

    A str, the path itself, because it is the parameter by which a command hands its warehouse to a
    flow: Prefect records a flow run's parameters as JSON (`Flow.serialize_parameters`) to show them
    in its UI, where a value that is not JSON would read only `<Warehouse>`."""

    storage_version: str | None  # the file's storage format when it was opened (`connect.storage_version`)

    def __new__(cls, path: str, storage_version: str | None = None) -> Warehouse:
        opened = super().__new__(cls, path)
        opened.storage_version = storage_version
        return opened

    @property
    def path(self) -> str:
        return str.__str__(self)


@contextmanager
def open_warehouse(path: str | os.PathLike[str], wait_seconds: float = 0.0) -> Iterator[Warehouse]:
    """Hold the warehouse ``path`` for writing for the block: lock it (waiting up to ``wait_seconds``
    for another breaknews writer), create it if needed and migrate it."""
    with ingest_lock(path, wait_seconds):
        yield Warehouse(str(path), open_migrated(path))


@contextmanager
def writing(db: str | os.PathLike[str] | None, wait_seconds: float = 0.0) -> Iterator[Warehouse]:
    """The warehouse a flow run writes: the one its caller holds (a `Warehouse`, as a command passes
    it), else ``db`` (a path; None: $BREAKNEWS_DB or ./breaknews.duckdb) opened for the block."""
    if isinstance(db, Warehouse):
        yield db
        return
    with open_warehouse(resolve_db_path(db), wait_seconds) as warehouse:
        yield warehouse
