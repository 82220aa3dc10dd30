"""The ingest-pages flow: saved pages (files, folders) and web archives (WARC files on disk, by URL or
from a path list) into the warehouse.

The work is a plain function, `ingest_pages_into`, given the opened warehouse: it lists the sources,
leaves out the archive files an earlier run read to their end, and hands the work items to the engine
(`flows/engine.py`), which batches, extracts and loads them. The `ingest-pages` flow is a thin layer
over it: its parameters (the warehouse as its path) are what Prefect records of a run.

Archives are scanned in the flow's process, one after another, streaming (memory stays flat); with
the Dask task runner each archive file is a `scan-archive` task run on a worker, which sends back
only what it kept (in a CC-NEWS file, a handful of BreakNews pages).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from breaknews.flows import signals
from breaknews.flows.engine import DEFAULT_BATCH_SIZE, IngestSummary, quiet_failure, run_ingest
from breaknews.tasks.http import DEFAULT_MAX_BYTES, FetchConfig
from breaknews.tasks.read import is_warc_path, iter_page_files, iter_work_items, read_warc_list
from breaknews.tasks.remote import is_remote
from breaknews.tasks.warc import ArchiveScan, HostFilter, scan_archive
from breaknews.warehouse import runs
from breaknews.warehouse.connect import connect
from breaknews.warehouse.handle import Warehouse, writing
from breaknews.warehouse.models import PageResult, SourceStats, WorkItem


def list_pages(paths: list[str]) -> tuple[list[str], list[str]]:
    """The page and archive files under ``paths``, and the paths left out because they are not regular
    files (FIFOs, sockets, devices: never opened). A plain function, not a task: a walk of folders is
    no boundary worth a task run, and Prefect would keep a record per returned path."""
    not_regular: list[str] = []
    files = list(iter_page_files(paths, archives=True, not_regular=not_regular))
    return files, not_regular


@task(name="scan-archive", cache_policy=NO_CACHE)
def scan_archive_task(location: str, hosts: HostFilter, max_bytes: int, fetch: FetchConfig | None) -> ArchiveScan:
    """Read one archive file (on a Dask worker) and return only what it kept."""
    return scan_archive(location, hosts, max_bytes=max_bytes, fetch=fetch)


@flow(name="ingest-pages", validate_parameters=False)
@quiet_failure
def ingest_pages(
    paths: list[str],
    db: str | Warehouse | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    lock_wait_seconds: float = 0.0,
    hosts: list[str] | None = None,
    task_runner: str = "processes",
    warc_lists: Sequence[str] = (),
    warc_base: str | None = None,
    fetch: FetchConfig | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    rescan: bool = False,
    dask_workers: int | None = None,
) -> IngestSummary:
    """`ingest_pages_into` as a flow run, into ``db``: the warehouse the caller holds, or a path
    opened (locked, waiting up to ``lock_wait_seconds``, and migrated) for the run."""
    with writing(db, lock_wait_seconds) as warehouse:
        return ingest_pages_into(
            warehouse,
            paths,
            batch_size=batch_size,
            workers=workers,
            show_progress=show_progress,
            hosts=hosts,
            task_runner=task_runner,
            warc_lists=warc_lists,
            warc_base=warc_base,
            fetch=fetch,
            max_bytes=max_bytes,
            rescan=rescan,
            dask_workers=dask_workers,
        )


def ingest_pages_into(
    warehouse: Warehouse,
    paths: list[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    hosts: list[str] | None = None,
    task_runner: str = "processes",
    warc_lists: Sequence[str] = (),
    warc_base: str | None = None,
    fetch: FetchConfig | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    rescan: bool = False,
    dask_workers: int | None = None,
) -> IngestSummary:
    """Ingest saved pages (files, or folders searched recursively for .html/.htm) and WARC files
    (.warc, .warc.gz: paths, http(s) URLs, and the files the path lists ``warc_lists`` name), keeping
    the archived pages of ``hosts`` (default: the BreakNews hosts). Archive files an earlier run read
    to their end with the same hosts are left out unless ``rescan``. A page file larger than
    ``max_bytes`` fails unread, and so does an archive record larger than that. ``dask_workers``: the
    Dask cluster's workers, when the flow runs on one (`flows/runners.py` passes it)."""
    files, not_regular = list_pages([p for p in paths if not is_remote(p)])
    pages = [f for f in files if not is_warc_path(f)]
    from_lists = (read_warc_list(listed, warc_base, fetch) for listed in warc_lists)
    archives = list(  # each once, in order
        dict.fromkeys(chain((f for f in files if is_warc_path(f)), (p for p in paths if is_remote(p)), *from_lists))
    )
    sources = " ".join([*paths, *(f"--warc-list {listed}" for listed in warc_lists)])
    items: Iterable[WorkItem] = files
    total: int | None = len(files)
    stats = None
    if archives:
        host_filter = HostFilter(tuple(hosts or ()))
        stats = SourceStats()
        if not rescan:
            archives, stats.archives_skipped = _not_read_yet(warehouse, archives, host_filter.key)
        stats.bytes_total = sum(_size(f) for f in [*pages, *archives] if not is_remote(f))
        if task_runner == "dask":
            items = chain(pages, _scanned_on_workers(archives, host_filter, max_bytes, fetch, stats, dask_workers))
        else:
            items = iter_work_items([*pages, *archives], host_filter, stats, max_bytes=max_bytes, fetch=fetch)
        total = None
    return run_ingest(
        warehouse,
        command="ingest",
        sources=sources,
        items=items,
        total=total,
        batch_size=batch_size,
        workers=workers,
        show_progress=show_progress,
        source_stats=stats,
        task_runner=task_runner,
        max_bytes=max_bytes,
        not_regular=not_regular,
    )


def _not_read_yet(warehouse: Warehouse, archives: list[str], hosts: str) -> tuple[list[str], int]:
    """The archive files no earlier run read to its end with this host filter (a local file whose
    size changed since is read again), and how many were left out."""
    with connect(warehouse, read_only=True, wait_seconds=30.0) as con:
        done = runs.archives_read(con, hosts)
    todo = []
    for location in archives:
        key = location if is_remote(location) else os.path.abspath(location)
        sizes = done.get(key)
        if sizes is None or (not is_remote(location) and _size(location) not in sizes):
            todo.append(location)
    return todo, len(archives) - len(todo)


def _scanned_on_workers(
    archives: list[str],
    hosts: HostFilter,
    max_bytes: int,
    fetch: FetchConfig | None,
    stats: SourceStats,
    dask_workers: int | None,
) -> Iterator[WorkItem]:
    """Each archive file scanned by a `scan-archive` task run on the Dask cluster, a few at a time,
    their kept pages and markers in the order of the files."""
    window = _scan_window(archives, fetch, dask_workers)
    todo = iter(archives)
    running: deque[tuple[str, object]] = deque()

    def submit_next() -> None:
        location = next(todo, None)
        if location is not None:
            running.append((location, scan_archive_task.submit(location, hosts, max_bytes, fetch)))

    for _ in range(window):
        submit_next()
    while running:
        location, future = running.popleft()
        submit_next()
        try:
            scan: ArchiveScan = signals.result(future)  # type: ignore[arg-type]
        except Exception as exc:  # a worker died, or a bug: the file is a failure, the run goes on
            stats.warc_files += 1
            yield PageResult(location, None, stage="read", reason=f"scan failed on the cluster: {exc}")
            continue
        stats.merge(scan.stats)
        yield from scan.items


def _scan_window(archives: list[str], fetch: FetchConfig | None, dask_workers: int | None) -> int:
    """How many archive files are scanned at once: two per Dask worker (one running, one queued; without
    ``dask_workers``, as many as the cores here), and no more downloads from one server at a time than
    ``--concurrency`` allows."""
    window = 2 * max(1, dask_workers or os.cpu_count() or 1)
    if any(is_remote(a) for a in archives):
        window = min(window, (fetch or FetchConfig()).concurrency)
    return max(1, window)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


__all__ = ["IngestSummary", "ingest_pages", "ingest_pages_into", "list_pages"]
