"""The ingest-pages flow: saved pages (files, folders) and web archives (WARC) into the warehouse.

The flow only orchestrates: it lists the sources and hands their work items to the engine
(`flows/engine.py`), which batches, extracts and loads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prefect import flow

from breaknews.flows.engine import DEFAULT_BATCH_SIZE, IngestSummary, quiet_failure, run_ingest
from breaknews.tasks.fetch import DEFAULT_MAX_BYTES
from breaknews.tasks.read import is_warc_path, iter_page_files, iter_work_items
from breaknews.tasks.warc import HostFilter
from breaknews.warehouse.connect import resolve_db_path
from breaknews.warehouse.models import SourceStats, WorkItem


def list_pages(paths: list[str]) -> tuple[list[str], list[str]]:
    """The page and archive files under ``paths``, and the paths left out because they are not regular
    files (FIFOs, sockets, devices: never opened). A plain function, not a task: a walk of folders is
    no boundary worth a task run, and Prefect would keep a record per returned path."""
    not_regular: list[str] = []
    files = list(iter_page_files(paths, archives=True, not_regular=not_regular))
    return files, not_regular


@flow(name="ingest-pages", validate_parameters=False)
@quiet_failure
def ingest_pages(
    paths: list[str],
    db: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    lock_wait_seconds: float = 0.0,
    hosts: list[str] | None = None,
    task_runner: str = "processes",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> IngestSummary:
    """Ingest saved pages (files, or folders searched recursively for .html/.htm) and WARC files
    (.warc, .warc.gz), keeping the archived pages of ``hosts`` (default: the BreakNews hosts). A page
    file larger than ``max_bytes`` fails unread."""
    files, not_regular = list_pages(paths)
    items: Iterable[WorkItem] = files
    total: int | None = len(files)
    stats = None
    if any(is_warc_path(f) for f in files):
        stats = SourceStats(bytes_total=sum(_size(f) for f in files))
        items, total = iter_work_items(files, HostFilter(tuple(hosts or ())), stats), None
    return run_ingest(
        command="ingest",
        sources=" ".join(paths),
        items=items,
        total=total,
        db=str(resolve_db_path(db)),
        batch_size=batch_size,
        workers=workers,
        show_progress=show_progress,
        lock_wait_seconds=lock_wait_seconds,
        source_stats=stats,
        task_runner=task_runner,
        max_bytes=max_bytes,
        not_regular=not_regular,
    )


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


__all__ = ["IngestSummary", "ingest_pages", "list_pages"]
