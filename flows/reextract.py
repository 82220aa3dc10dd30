"""Re-extract stored raw pages with the current extractor: no network, same loader.

Users get parser fixes without re-crawling. By default only pages last processed by an older
extractor version are re-read (plus pages that failed under one); ``everything`` re-reads all.
"""

from __future__ import annotations

from collections.abc import Iterator

from prefect import flow

from flows.ingest import DEFAULT_BATCH_SIZE, IngestSummary, run_ingest
from tasks.extract import EXTRACTOR_VERSION
from tasks.models import Page
from warehouse.connect import connect, open_migrated, resolve_db_path
from warehouse.pages import reextract_candidates, stored_pages


def _stored_page_items(db: str, shas: list[str], batch_size: int) -> Iterator[Page]:
    # A short read per batch: the loader needs the file between batches, and so do readers.
    for start in range(0, len(shas), batch_size):
        con = connect(db, wait_seconds=30.0)
        try:
            pages = stored_pages(con, shas[start : start + batch_size])
        finally:
            con.close()
        for _sha, source, kind, url, content, charset, charset_source, fetched, status, etag, lm, ctype in pages:
            header_charset = charset if charset_source and charset_source.startswith("header") else None
            yield Page(
                source=source,
                source_kind=kind,
                content=content,
                url=url,
                header_charset=header_charset,
                fetched_at=fetched,
                http_status=status,
                etag=etag,
                last_modified=lm,
                content_type=ctype,
            )


@flow(name="reextract-pages", validate_parameters=False)
def reextract_pages(
    db: str | None = None,
    everything: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    show_progress: bool = False,
) -> IngestSummary:
    path = str(resolve_db_path(db))
    open_migrated(path)
    con = connect(path, wait_seconds=30.0)
    try:
        shas = reextract_candidates(con, EXTRACTOR_VERSION, everything)
    finally:
        con.close()
    return run_ingest(
        command="reextract",
        sources=f"raw_pages ({'all' if everything else 'stale'}; extractor {EXTRACTOR_VERSION})",
        items=_stored_page_items(path, shas, batch_size),
        total=len(shas),
        db=path,
        batch_size=batch_size,
        workers=workers,
        show_progress=show_progress,
        force=True,
    )
