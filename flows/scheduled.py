"""The flow `breaknews serve` puts on a schedule: one ingest of the configured sources."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.ingest import IngestSummary, ingest_pages
from warehouse.errors import WarehouseBusyError

# A scheduled run waits this long for another breaknews process (a manual ingest) to finish.
DEFAULT_LOCK_WAIT_SECONDS = 600.0


@flow(name="breaknews-scheduled-ingest", validate_parameters=False)
def scheduled_ingest(
    db: str,
    paths: list[str] | None = None,
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> IngestSummary | None:
    """One scheduled ingest. If another process holds the warehouse past the wait, skip this run."""
    try:
        return ingest_pages(paths=paths or [], db=db, lock_wait_seconds=lock_wait_seconds)
    except WarehouseBusyError as exc:
        get_run_logger().warning("skipped: %s", exc)
        return None
