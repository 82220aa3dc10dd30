"""The ingest engine: any stream of work items → batches → extracted in parallel → loaded one short
transaction at a time, with the run recorded in the ledger. Every ingest flow (saved pages, archives,
the live site, reextract) runs its items through `run_ingest`.

Prefect tasks sit at real boundaries (extract a batch, load a batch): a Prefect task run costs 20–35 ms,
more than extracting a page, so there is never one task run per article. Extraction of later batches
overlaps loading of earlier ones. Where extraction runs is the task runner's choice: a process pool owned
by the run (`LazyPool`), the flow's threads, or a Dask cluster.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import time
import uuid
from asyncio import CancelledError
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar, cast

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal
from prefect.runtime import flow_run
from prefect.states import Failed

from breaknews.flows import signals
from breaknews.flows.artifacts import publish_summary
from breaknews.flows.progress import Progress
from breaknews.tasks import versions
from breaknews.tasks.load import load_results
from breaknews.tasks.pipeline import init_worker, process_item, process_item_in_worker, skip_known
from breaknews.warehouse import runs
from breaknews.warehouse.connect import ingest_lock, writer
from breaknews.warehouse.errors import BreaknewsError, WarehouseError
from breaknews.warehouse.migrate import once_per_command, open_migrated
from breaknews.warehouse.models import ArchiveRead, LoadCounts, PageItem, PageResult, SourceStats, WorkItem

DEFAULT_BATCH_SIZE = 200
TASK_RUNNERS = ("processes", "threads", "dask")
# Skipped-as-unchanged pages held back and loaded together (see _Loader).
_DEFERRED_SKIPS = 5000
# Below this many pages, starting worker processes costs more than it saves.
_POOL_THRESHOLD = 400
# A run of unknown size (archives) starts its worker processes for the first batch of this many pages.
_POOL_MIN_BATCH = 64


P = ParamSpec("P")
R = TypeVar("R")


def quiet_failure(fn: Callable[P, R]) -> Callable[P, R]:
    """For a flow's function: an error breaknews raises on purpose (a busy warehouse, a warehouse that
    cannot be opened) ends the flow run in Prefect's Failed state with the error's message, instead of
    Prefect logging it as an ERROR with a 40-line traceback before the command prints its one line.
    The caller of the flow still gets the exception (Prefect raises a Failed state's data).
    The run migrates each warehouse once (`once_per_command`), also where no command encloses it: a
    run `serve` starts, in a process of its own, or a library caller's."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with once_per_command():
                return fn(*args, **kwargs)
        except BreaknewsError as exc:
            return cast(R, Failed(data=exc, message=str(exc)))

    return run


@dataclass
class IngestSummary:
    run_id: str
    db: str
    status: str
    counts: LoadCounts
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (source, stage, reason)
    seconds: float = 0.0
    source_counts: dict[str, int] = field(default_factory=dict)  # archives and WARC records: read, kept, skipped
    kept_by_host: dict[str, int] = field(default_factory=dict)  # WARC records kept, by host
    not_regular: list[str] = field(default_factory=list)  # paths skipped unopened: FIFOs, sockets, devices


class KnownPages:
    """Hashes of pages already extracted by this version. A plain object, so Prefect passes it
    to tasks as it is instead of walking thousands of strings looking for futures."""

    def __init__(self, hashes: frozenset[str]) -> None:
        self.hashes = hashes

    def __contains__(self, sha: object) -> bool:
        return sha in self.hashes

    def __len__(self) -> int:
        return len(self.hashes)

    def __iter__(self) -> Iterator[str]:
        return iter(self.hashes)


class ResultBatch:
    """A batch of page results as one plain object. Prefect records every element of a list a task
    returns (a state per element, kept for the whole flow run) and walks task parameters looking for
    futures: a bare list of results would cost memory and time per page; this costs them per batch.
    ``archives`` are the archive files whose last pages are in the batch: loaded with it."""

    __slots__ = ("__weakref__", "archives", "results")

    def __init__(self, results: list[PageResult], archives: Sequence[ArchiveRead] = ()) -> None:
        self.results = results
        self.archives = list(archives)


class LazyPool:
    """The run's extraction processes, started only when a batch has a page to extract: a re-run
    over unchanged pages never pays for starting them."""

    def __init__(self, workers: int, known: frozenset[str]) -> None:
        self.workers, self.known = workers, known
        self._pool: Executor | None = None
        self._lock = threading.Lock()  # extract batches run in several of the flow's threads

    def worth_starting(self, pages: int) -> bool:
        """Start the processes for a batch of ``pages`` to extract? Not for a few pages (an archive of
        mostly other sites gives a handful per file): starting them costs seconds, extracting ms each."""
        return self._pool is not None or pages >= _POOL_MIN_BATCH

    def map(self, items: Sequence[PageItem]) -> list[PageResult]:
        with self._lock:
            if self._pool is None:
                self._pool = _make_pool(self.workers, self.known)
        # Chunks small enough that every worker gets several per batch and none idles at its end.
        chunk = max(1, min(8, len(items) // (self.workers * 4)))
        return list(self._pool.map(process_item_in_worker, items, chunksize=chunk))

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(items: Sequence[PageItem], known: KnownPages, pool: LazyPool | None) -> ResultBatch:
    """Extract the pages of a batch; items already decided (skipped, unreadable) pass through."""
    todo = [item for item in items if not isinstance(item, PageResult)]
    if pool is None or not pool.worth_starting(len(todo)):
        return ResultBatch([process_item(item, known) for item in items])
    extracted = iter(pool.map(todo) if todo else [])
    return ResultBatch([item if isinstance(item, PageResult) else next(extracted) for item in items])


class _Decided:
    """A batch with nothing to extract, in the queue of extract futures: it needs no task run."""

    def __init__(self, results: list[PageResult], archives: list[ArchiveRead]) -> None:
        self._batch = ResultBatch(results, archives)

    def result(self) -> ResultBatch:
        return self._batch


class _Extracting:
    """A batch in extraction, with the archive files it finishes (they go to the loader with it)."""

    def __init__(self, future: Any, archives: list[ArchiveRead]) -> None:
        self.future, self.archives = future, archives

    def result(self) -> ResultBatch:
        batch: ResultBatch = signals.result(self.future)
        batch.archives = self.archives
        return batch


class RunArticles:
    """The articles a run has seen so far (article_id -> has an English version), so each batch's
    translation counts are its change to the run's distinct totals. A plain object, so Prefect passes
    it to the load task as it is instead of walking its keys."""

    def __init__(self) -> None:
        self.translated: dict[str, bool] = {}


@task(name="load-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def load_batch_task(db: str, run_id: str, batch: ResultBatch, seen: RunArticles) -> LoadCounts:
    # ``seen`` is only read here; the loader adds the batch's articles once the batch has committed,
    # so a retried batch counts against the same totals.
    return load_results(db, run_id, batch.results, seen.translated, batch.archives)


def _batches(items: Iterable[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    """Batches of ``size`` items, and a batch ends with each archive file's marker: a file is recorded
    as read with its last pages, so an interrupted run loses at most the file in progress."""
    batch: list[WorkItem] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size or isinstance(item, ArchiveRead):
            yield batch
            batch = []
    if batch:
        yield batch


def _make_pool(workers: int, known: frozenset[str]) -> ProcessPoolExecutor:
    # spawn, not fork: the parent runs Prefect's threads, and forking a threaded process can deadlock.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(known,),
    )


def run_ingest(
    *,
    command: str,
    sources: str,
    items: Iterable[WorkItem],
    total: int | None,
    db: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    lock_wait_seconds: float = 0.0,
    force: bool = False,
    source_stats: SourceStats | None = None,
    task_runner: str = "processes",
    max_bytes: int | None = None,
    not_regular: Sequence[str] = (),
) -> IngestSummary:
    """Shared body of every ingest flow: any iterable of work items, any source.

    ``force`` extracts pages even when their bytes were already extracted by this extractor version.
    With ``source_stats`` (kept current by the item generator) the progress bar counts bytes read and
    the run's ledger row gets the generator's skip counts. ``task_runner`` says where extraction runs:
    ``processes`` (a process pool owned by the run), ``threads`` (in the flow's threads), ``dask``
    (each batch is a task run on the flow's Dask task runner, so on the cluster's workers). Loading
    always stays here: the warehouse has one writer. A page file larger than ``max_bytes`` fails
    unread; ``not_regular`` are the paths the listing skipped (not regular files), for the ledger."""
    started = time.monotonic()
    with ingest_lock(db, lock_wait_seconds), signals.delayed_signals(notice=_STOPPING) as stop:
        open_migrated(db)
        run_id = str(uuid.uuid4())
        with writer(db) as con:
            runs.start_run(
                con,
                run_id,
                command=command,
                sources=sources,
                flow_run_id=flow_run.get_id(),
                extractor_version=versions.EXTRACTOR_VERSION,
                files_not_regular=len(not_regular),
            )
            known = frozenset() if force else runs.known_page_hashes(con, versions.EXTRACTOR_VERSION)
        workers = _choose_workers(workers, total, task_runner)
        pool = LazyPool(workers, known) if workers > 1 and task_runner == "processes" else None
        summary = IngestSummary(
            run_id=run_id, db=db, status="running", counts=LoadCounts(), not_regular=list(not_regular)
        )
        progress = Progress(total, source_stats) if show_progress else None
        try:
            in_flight: deque[Any] = deque()
            loader = _Loader(db, run_id, summary, progress)
            for batch in _batches(items, batch_size):
                stop.raise_if_signalled()
                archives = [item for item in batch if isinstance(item, ArchiveRead)]
                # Read and hash here: pages this extractor version already made (and unreadable
                # files) are decided at once, and a batch of nothing else costs no task run.
                decided = [skip_known(item, known, max_bytes) for item in batch if not isinstance(item, ArchiveRead)]
                results = [item for item in decided if isinstance(item, PageResult)]
                if len(results) == len(decided):
                    in_flight.append(_Decided(results, archives))
                else:
                    in_flight.append(_Extracting(extract_batch.submit(decided, KnownPages(known), pool), archives))
                # An archive file read to its end is loaded before the next file is read: a run
                # interrupted while reading it has recorded this one. On a cluster the files are
                # scanned elsewhere and the newest file's extraction may overlap the next one's.
                keep = (1 if task_runner == "dask" else 0) if archives else max(workers, 1)
                while len(in_flight) > keep:
                    loader.take(in_flight.popleft().result())
            while in_flight:
                stop.raise_if_signalled()
                loader.take(in_flight.popleft().result())
            stop.raise_if_signalled()
            loader.flush()
            summary.status = "completed"
        except BaseException as exc:
            stopped = stop.exception() if isinstance(exc, Exception) else None
            summary.status, message = _ending(stopped or exc)
            _finish(db, run_id, summary.status, message, source_stats)
            if stopped is not None:  # an error raised after the signal came (e.g. Prefect's, on a second one)
                raise stopped from exc
            raise
        finally:
            if progress:
                progress.close()
            if pool:
                pool.shutdown()
        _finish(db, run_id, "completed", None, source_stats)
        if source_stats is not None:
            summary.source_counts = source_stats.ledger_counts()
            summary.kept_by_host = dict(source_stats.kept_by_host)
    summary.seconds = time.monotonic() - started
    publish_summary(summary)
    return summary


# On a terminal, the first Ctrl-C says what happens next (flows/signals.py: the run stops at its next safe point).
_STOPPING = "breaknews: stopping (the batches loaded so far stay); Ctrl-C again stops at once"


def _ending(exc: BaseException) -> tuple[str, str]:
    """The ledger status and message of a run ended by ``exc``: an interruption (Ctrl-C, SIGTERM, which
    is how Prefect cancels a run) is `cancelled`, anything else `failed`. Batches already loaded stay,
    and so do their counts."""
    # The row's counts say what was loaded: a batch can commit just before the interruption reaches
    # the flow, so the flow's own tally may be one batch short.
    kept = "the pages this row counts were loaded and are kept; run again for the rest"
    if isinstance(exc, KeyboardInterrupt):
        return "cancelled", f"interrupted (Ctrl-C or SIGINT): {kept}"
    if isinstance(exc, TerminationSignal):
        return "cancelled", f"cancelled (signal {exc.signal}, as Prefect cancels a run): {kept}"
    if isinstance(exc, CancelledError):
        return "cancelled", f"cancelled: {kept}"
    return "failed", f"{type(exc).__name__}: {exc}"


def _choose_workers(workers: int | None, total: int | None, task_runner: str = "processes") -> int:
    if workers is not None:
        return max(1, workers)
    if task_runner == "threads":
        return 1  # extraction holds the GIL: more threads than one only add switching
    if total is not None and total < _POOL_THRESHOLD:
        return 1
    return os.cpu_count() or 1


class _Loader:
    """Loads extracted batches in order, one short transaction each. Batches of nothing but pages
    skipped as unchanged are held and loaded together, up to ``_DEFERRED_SKIPS`` pages at a time: on
    a re-run over unchanged pages a task run and a warehouse open per batch would be most of the run."""

    def __init__(self, db: str, run_id: str, summary: IngestSummary, progress: Progress | None) -> None:
        self.db, self.run_id, self.summary, self.progress = db, run_id, summary, progress
        self.pending: list[PageResult] = []
        self.seen = RunArticles()

    def take(self, batch: ResultBatch) -> None:
        if self.progress:
            self.progress.advance(len(batch.results))
        if batch.results and all(r.skipped for r in batch.results) and not batch.archives:
            self.pending.extend(batch.results)
            if len(self.pending) >= _DEFERRED_SKIPS:
                self.flush()
            return
        if self.pending and batch.archives:  # the file's held skips go in with its record: one transaction
            batch = ResultBatch(self.pending + batch.results, batch.archives)
            self.pending = []
        self._load(batch)

    def flush(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, []
            self._load(ResultBatch(pending))

    def _load(self, batch: ResultBatch) -> None:
        counts = load_batch_task(self.db, self.run_id, batch, self.seen)
        self.seen.translated.update(counts.translation_seen)
        self.summary.counts.add(counts)
        self.summary.failures.extend((r.source, r.stage or "", r.reason or "") for r in batch.results if r.failed)


def _finish(db: str, run_id: str, status: str, message: str | None, source_stats: SourceStats | None = None) -> None:
    try:
        with writer(db) as con:
            if source_stats is not None:
                runs.set_source_counts(con, run_id, source_stats)
            runs.finish_run(con, run_id, status, message)
    except (WarehouseError, duckdb.Error):
        if status == "completed":
            raise
        # The run is already failing; the ledger row stays 'running' and the next run marks it crashed.
