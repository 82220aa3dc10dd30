"""Re-extract stored raw pages with the current extractor: no network, same loader.

Users get parser fixes without re-crawling. By default only pages last processed by an older
extractor version are re-read (plus pages that failed under one); ``everything`` re-reads all.
The work is `reextract_pages_in`, given the opened warehouse; the `reextract-pages` flow is a thin
layer over it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from prefect import flow

from breaknews.flows.engine import DEFAULT_BATCH_SIZE, IngestSummary, quiet_failure, run_ingest
from breaknews.tasks import versions
from breaknews.tasks.identify import site_article_ref
from breaknews.warehouse.connect import connect
from breaknews.warehouse.handle import Warehouse, writing
from breaknews.warehouse.models import Page
from breaknews.warehouse.stored import reextract_candidates, stored_pages


def _stored_page_items(warehouse: Warehouse, shas: list[str], batch_size: int) -> Iterator[Page]:
    # A short read per batch: the loader needs the file between batches, and so do readers.
    for start in range(0, len(shas), batch_size):
        con = connect(warehouse, wait_seconds=30.0)
        try:
            pages = stored_pages(con, shas[start : start + batch_size])
        finally:
            con.close()
        yield from (_as_fetched(page) for page in pages)


def _as_fetched(page: Page) -> Page:
    """A page live ingestion fetched is, again, the article its URL names on the site it was fetched
    from (as discovery read it then), so re-extraction keeps the identity of a page from a mirror."""
    ref = site_article_ref(page.url) if page.source_kind == "http" else None
    return replace(page, article_family=ref.family, article_uid=ref.uid) if ref else page


@flow(name="reextract-pages", validate_parameters=False)
@quiet_failure
def reextract_pages(
    db: str | Warehouse | None = None,
    everything: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
    lock_wait_seconds: float = 0.0,
) -> IngestSummary:
    """`reextract_pages_in` as a flow run, in ``db``: the warehouse the caller holds, or a path opened
    (locked, waiting up to ``lock_wait_seconds``, and migrated) for the run."""
    with writing(db, lock_wait_seconds) as warehouse:
        return reextract_pages_in(
            warehouse, everything=everything, batch_size=batch_size, workers=workers, show_progress=show_progress
        )


def reextract_pages_in(
    warehouse: Warehouse,
    *,
    everything: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
) -> IngestSummary:
    """Re-extract the stored raw pages the current extractor has not made (``everything``: all of
    them), through the same engine and loader as an ingest."""
    con = connect(warehouse, wait_seconds=30.0)
    try:
        shas = reextract_candidates(con, versions.EXTRACTOR_VERSION, everything)
    finally:
        con.close()
    return run_ingest(
        warehouse,
        command="reextract",
        sources=f"raw_pages ({'all' if everything else 'stale'}; extractor {versions.EXTRACTOR_VERSION})",
        items=_stored_page_items(warehouse, shas, batch_size),
        total=len(shas),
        batch_size=batch_size,
        workers=workers,
        show_progress=show_progress,
        force=True,
    )
