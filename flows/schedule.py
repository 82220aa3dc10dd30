"""`breaknews serve`: the ingest on a schedule, as a Prefect deployment served by this process.

`scheduled_ingest` is the flow each scheduled run executes (one ingest of the configured sources);
`serve` registers it with a schedule and runs its runs until Ctrl-C or SIGTERM. Prefect will not
schedule flows on its ephemeral API, so serving needs a real Prefect server: the one PREFECT_API_URL
names, else the local `prefect server start` that breaknews keeps (`flows/prefect_server.py`), started
for the occasion and stopped on exit if it was not already running.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from types import FrameType
from typing import Any

from prefect import flow, get_run_logger

from breaknews.flows.engine import IngestSummary, quiet_failure
from breaknews.flows.ingest import ingest_pages
from breaknews.warehouse.errors import WarehouseBusyError

KOREA = "Asia/Seoul"
DEFAULT_CRON = "*/30 * * * *"
# A scheduled run waits this long for another breaknews process (a manual ingest) to finish.
DEFAULT_LOCK_WAIT_SECONDS = 600.0


@flow(name="breaknews-scheduled-ingest", validate_parameters=False)
@quiet_failure
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
            from breaknews.flows.site import ingest_site
            from breaknews.tasks.discover import DEFAULT_LIST_PAGES
            from breaknews.tasks.fetch import FetchConfig

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
        from breaknews.tasks.fetch import DEFAULT_MAX_BYTES

        max_bytes = int((fetch or {}).get("max_bytes") or DEFAULT_MAX_BYTES)
        return ingest_pages(paths=paths or [], db=db, lock_wait_seconds=lock_wait_seconds, max_bytes=max_bytes)
    except WarehouseBusyError as exc:
        get_run_logger().warning("skipped: %s", exc)
        return None


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    *,
    db: str,
    paths: list[str],
    cron: str | None,
    interval: float | None,
    live: dict[str, Any] | None = None,
    name: str = "breaknews",
) -> None:
    """Serve the scheduled ingest until Ctrl-C or SIGTERM, on the Prefect API that PREFECT_API_URL
    names (`prefect_server.serving_api`, entered before this module is imported). Runs never overlap:
    a run that comes due while the previous one is still going waits for it (limit 1, enqueued)."""
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    api_url = os.environ["PREFECT_API_URL"]
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval

    schedule: Any = (
        Interval(timedelta(seconds=interval), timezone=KOREA)
        if interval
        else Cron(cron or DEFAULT_CRON, timezone=KOREA)
    )
    when = f"every {interval:g} s" if interval else f"cron '{cron or DEFAULT_CRON}' (Korea time)"
    print(f"breaknews serve: Prefect API {api_url}; {when}; warehouse {db}", flush=True)
    scheduled_ingest.serve(
        name=name,
        schedules=[schedule],
        parameters={"db": db, "paths": paths, **(live or {})},
        limit=1,
        global_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        pause_on_shutdown=False,
        print_starting_message=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
