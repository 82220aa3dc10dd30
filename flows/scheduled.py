"""The flow `breaknews serve` puts on a schedule: one ingest of the configured sources."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows.ingest import IngestSummary, ingest_pages
from warehouse.errors import WarehouseBusyError

# A scheduled run waits this long for another breaknews process (a manual ingest) to finish.
DEFAULT_LOCK_WAIT_SECONDS = 600.0


@flow(name="breaknews-scheduled-ingest", validate_parameters=False)
def scheduled_ingest(
    db: str,
    paths: list[str] | None = None,
    site: str | None = None,
    feeds: list[str] | None = None,
    list_pages: int | None = None,
    refresh: bool = False,
    fetch: dict[str, Any] | None = None,
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> IngestSummary | None:
    """One scheduled ingest of the live site (and/or saved pages). Parameters are plain JSON values,
    as a Prefect deployment stores them. If another process holds the warehouse past the wait, the
    run is skipped."""
    try:
        if site or feeds:
            from flows.site import ingest_site
            from flows.site_options import DEFAULT_LIST_PAGES
            from tasks.fetch import FetchConfig

            return ingest_site(
                site=site,
                feeds=feeds or [],
                paths=paths or [],
                db=db,
                list_pages_limit=DEFAULT_LIST_PAGES if list_pages is None else list_pages,
                refresh=refresh,
                config=FetchConfig(**(fetch or {})),
                lock_wait_seconds=lock_wait_seconds,
            )
        return ingest_pages(paths=paths or [], db=db, lock_wait_seconds=lock_wait_seconds)
    except WarehouseBusyError as exc:
        get_run_logger().warning("skipped: %s", exc)
        return None
