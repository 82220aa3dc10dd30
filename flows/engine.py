"""The ingest engine: any stream of work items → batches → extracted in parallel → loaded one short
transaction at a time, with the run recorded in the ledger. Every ingest flow (saved pages, archives,
the live site, reextract) runs its items through `run_ingest`, into the warehouse its caller opened.

Skips are decided here, in the flow's process, once: each page is read and hashed as its batch forms,
and a page this extractor version already made is a skipped result at once. Only pages to extract
reach the extraction (a worker process, a thread, a Dask worker), which needs no warehouse state.

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
from contextlib import closing, nullcontext
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
from breaknews.tasks.pipeline import process_page, skip_known
from breaknews.warehouse import runs
from breaknews.warehouse.connect import writer
from breaknews.warehouse.errors import BreaknewsError, WarehouseError
from breaknews.warehouse.handle import Warehouse
from breaknews.warehouse.models import ArchiveRead, LoadCounts, Page, PageResult, SourceStats, WorkItem

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
    The caller of the flow still gets the exception (Prefect raises a Failed state's data)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
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
    """The run's extraction processes, started only when a batch has enough pages to extract: a re-run
    over unchanged pages never pays for starting them. They get pages and give back results; they
    know nothing of the warehouse. A context manager: the processes end with the block."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor | None = None
        self._lock = threading.Lock()  # extract batches run in several of the flow's threads

    def worth_starting(self, pages: int) -> bool:
        """Start the processes for a batch of ``pages`` to extract? Not for a few pages (an archive of
        mostly other sites gives a handful per file): starting them costs seconds, extracting ms each."""
        return self._pool is not None or pages >= _POOL_MIN_BATCH

    def map(self, pages: Sequence[Page]) -> list[PageResult]:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the parent runs Prefect's threads, and forking a threaded process can deadlock.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        # Chunks small enough that every worker gets several per batch and none idles at its end.
        chunk = max(1, min(8, len(pages) // (self.workers * 4)))
        return list(self._pool.map(process_page, pages, chunksize=chunk))

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def __enter__(self) -> LazyPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(pages: Sequence[Page], pool: LazyPool | None) -> ResultBatch:
    """Extract the pages of a batch that the flow did not decide (see `_submit`), in their order."""
    if pool is None or not pool.worth_starting(len(pages)):
        return ResultBatch([process_page(page) for page in pages])
    return ResultBatch(pool.map(pages))


Decided = Page | PageResult  # a batch's item once the flow has looked at it: a page to extract, or its result


class _Decided:
    """A batch with nothing to extract, in the queue of extract futures: it needs no task run."""

    def __init__(self, results: list[PageResult], archives: list[ArchiveRead]) -> None:
        self._batch = ResultBatch(results, archives)

    def result(self) -> ResultBatch:
        return self._batch


class _Extracting:
    """A batch in extraction: its items in order (the pages in extraction, the results the flow
    decided), with the archive files it finishes (they go to the loader with it)."""

    def __init__(self, future: Any, items: list[Decided], archives: list[ArchiveRead]) -> None:
        self.future, self.items, self.archives = future, items, archives

    def result(self) -> ResultBatch:
        extracted = iter(cast(ResultBatch, signals.result(self.future)).results)
        results = [next(extracted) if isinstance(item, Page) else item for item in self.items]
        return ResultBatch(results, self.archives)


def _submit(items: list[Decided], archives: list[ArchiveRead], pool: LazyPool | None) -> _Decided | _Extracting:
    """A batch's pages to extract, as one `extract-batch` task run; a batch of nothing else is
    decided already and costs no task run."""
    pages = [item for item in items if isinstance(item, Page)]
    if not pages:
        return _Decided(cast(list[PageResult], items), archives)
    return _Extracting(extract_batch.submit(pages, pool), items, archives)


class RunArticles:
    """The articles a run has seen so far (article_id -> has an English version), so each batch's
    translation counts are its change to the run's distinct totals. A plain object, so Prefect passes
    it to the load task as it is instead of walking its keys."""

    def __init__(self) -> None:
        self.translated: dict[str, bool] = {}


@task(name="load-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def load_batch_task(warehouse: Warehouse, run_id: str, batch: ResultBatch, seen: RunArticles) -> LoadCounts:
    # ``seen`` is only read here; the loader adds the batch's articles once the batch has committed,
    # so a retried batch counts against the same totals.
    return load_results(warehouse, run_id, batch.results, seen.translated, batch.archives)


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


def run_ingest(
    warehouse: Warehouse,
    *,
    command: str,
    sources: str,
    items: Iterable[WorkItem],
    total: int | None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    force: bool = False,
    source_stats: SourceStats | None = None,
    task_runner: str = "processes",
    max_bytes: int | None = None,
    not_regular: Sequence[str] = (),
) -> IngestSummary:
    """Shared body of every ingest flow: any iterable of work items, any source, into ``warehouse``
    (opened by the caller: locked and migrated).

    ``force`` extracts pages even when their bytes were already extracted by this extractor version.
    With ``source_stats`` (kept current by the item generator) the progress bar counts bytes read and
    the run's ledger row gets the generator's skip counts. ``task_runner`` says where extraction runs:
    ``processes`` (a process pool owned by the run), ``threads`` (in the flow's threads), ``dask``
    (each batch is a task run on the flow's Dask task runner, so on the cluster's workers). Loading
    always stays here: the warehouse has one writer. A page file larger than ``max_bytes`` fails
    unread; ``not_regular`` are the paths the listing skipped (not regular files), for the ledger."""
    started = time.monotonic()
    with signals.delayed_signals(notice=_STOPPING) as stop:
        run_id, known = _start_run(warehouse, command, sources, force, len(not_regular))
        summary = IngestSummary(
            run_id=run_id, db=warehouse.path, status="running", counts=LoadCounts(), not_regular=list(not_regular)
        )
        workers = _choose_workers(workers, total, task_runner)
        pool = LazyPool(workers) if workers > 1 and task_runner == "processes" else None
        progress = Progress(total, source_stats) if show_progress else None
        with pool or nullcontext(), closing(progress) if progress else nullcontext():
            try:
                loader = _Loader(warehouse, run_id, summary, progress)
                decide = functools.partial(skip_known, known_pages=known, max_bytes=max_bytes)
                _extract_and_load(_batches(items, batch_size), decide, pool, loader, stop, workers, task_runner)
                summary.status = "completed"
            except BaseException as exc:
                stopped = stop.exception() if isinstance(exc, Exception) else None
                summary.status, message = _ending(stopped or exc)
                _finish(warehouse, run_id, summary.status, message, source_stats)
                if stopped is not None:  # an error raised after the signal came (e.g. Prefect's, on a second one)
                    raise stopped from exc
                raise
        _finish(warehouse, run_id, "completed", None, source_stats)
        if source_stats is not None:
            summary.source_counts = source_stats.ledger_counts()
            summary.kept_by_host = dict(source_stats.kept_by_host)
    summary.seconds = time.monotonic() - started
    publish_summary(summary)
    return summary


def _start_run(
    warehouse: Warehouse, command: str, sources: str, force: bool, files_not_regular: int
) -> tuple[str, frozenset[str]]:
    """The run's id and ledger row, and the hashes of the pages it need not extract: those this
    extractor version already made (none when ``force``)."""
    run_id = str(uuid.uuid4())
    with writer(warehouse) as con:
        runs.start_run(
            con,
            run_id,
            command=command,
            sources=sources,
            flow_run_id=flow_run.get_id(),
            extractor_version=versions.EXTRACTOR_VERSION,
            files_not_regular=files_not_regular,
        )
        known = frozenset() if force else runs.known_page_hashes(con, versions.EXTRACTOR_VERSION)
    return run_id, known


def _extract_and_load(
    batches: Iterable[list[WorkItem]],
    decide: Callable[[WorkItem], Decided],
    pool: LazyPool | None,
    loader: _Loader,
    stop: signals.Received,
    workers: int,
    task_runner: str,
) -> None:
    """Each batch decided here (``decide``: a page read and hashed, skipped if already made, failed if
    unreadable), its other pages extracted while earlier batches load, every batch loaded in order."""
    in_flight: deque[_Decided | _Extracting] = deque()
    for batch in batches:
        stop.raise_if_signalled()
        archives = [item for item in batch if isinstance(item, ArchiveRead)]
        in_flight.append(_submit([decide(item) for item in batch if not isinstance(item, ArchiveRead)], archives, pool))
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

    def __init__(self, warehouse: Warehouse, run_id: str, summary: IngestSummary, progress: Progress | None) -> None:
        self.warehouse, self.run_id, self.summary, self.progress = warehouse, run_id, summary, progress
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
        counts = load_batch_task(self.warehouse, self.run_id, batch, self.seen)
        self.seen.translated.update(counts.translation_seen)
        self.summary.counts.add(counts)
        self.summary.failures.extend((r.source, r.stage or "", r.reason or "") for r in batch.results if r.failed)


def _finish(
    warehouse: Warehouse, run_id: str, status: str, message: str | None, source_stats: SourceStats | None = None
) -> None:
    try:
        with writer(warehouse) as con:
            if source_stats is not None:
                runs.set_source_counts(con, run_id, source_stats)
            runs.finish_run(con, run_id, status, message)
    except (WarehouseError, duckdb.Error):
        if status == "completed":
            raise
        # The run is already failing; the ledger row stays 'running' and the next run marks it crashed.
