"""`breaknews serve`: run the ingest on a schedule with Prefect.

Prefect will not schedule flows on its ephemeral API, so serving needs a real Prefect server: the one
PREFECT_API_URL names, else the local `prefect server start` that breaknews keeps (bound to 127.0.0.1),
started for the occasion and stopped on exit if it was not already running.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

KOREA = "Asia/Seoul"
DEFAULT_CRON = "*/30 * * * *"


@contextmanager
def prefect_server() -> Iterator[str]:
    """Yield the Prefect API to serve on: the configured one, else the local server that breaknews
    keeps (flows/server.py), started if needed. A server started here is stopped on exit; one that
    was already running is left as it was."""
    from flows import server

    configured = server.configured_api_url()
    if configured:
        yield configured
        return
    info, started = server.start()
    try:
        yield info.url
    finally:
        if started:
            server.stop()


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
    """Serve the scheduled ingest until Ctrl-C or SIGTERM. Runs never overlap: a run that comes due
    while the previous one is still going waits for it (limit 1, enqueued)."""
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    with prefect_server() as api_url:
        os.environ["PREFECT_API_URL"] = api_url
        from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
        from prefect.deployments.runner import EntrypointType
        from prefect.schedules import Cron, Interval

        from flows.scheduled import scheduled_ingest

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
