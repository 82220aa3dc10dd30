"""`breaknews serve`: the ingest on a schedule, as a Prefect deployment served by this process.

`scheduled_ingest` is the flow each scheduled run executes (one ingest of the configured sources);
`serve` registers it with a schedule and runs its runs until SIGTERM or SIGINT. Prefect will not
schedule flows on its ephemeral API, so serving needs a real Prefect server: the one configured, else
the local `prefect server start` that breaknews keeps (`flows/kept_server.py`), chosen by the command
(`flows/prefect_api.py: serving_api`) before this module is imported.

What a serve guarantees (issues 11 and 21):
- Its runs are its own. The deployment is named after the warehouse it writes
  (`warehouse-<name>-<hash of the full path>`), so two serves of two warehouses never share runs; a
  lock file (`FILE.serve.lock`) keeps two serves off one warehouse. On start and on stop it deletes
  the scheduled, late and pending runs its deployment left behind: they may carry other settings.
- Catch-up after downtime: exactly one run, at start. The schedule is paused while no serve runs (no
  runs pile up), leftover runs are deleted, and a run starts right away; then the schedule goes on.
- It stops cleanly on SIGTERM or SIGINT (Ctrl-C): the run in progress is cancelled and its ledger row
  (`ingest_runs`) marked `cancelled` by the serve itself, within seconds; the deployment is paused
  (and Prefect's server marks it Not Ready once its runner has stopped polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psutil
from filelock import FileLock, Timeout
from prefect import flow, get_run_logger

from breaknews.flows import signals
from breaknews.flows.engine import IngestSummary, quiet_failure
from breaknews.flows.ingest import ingest_pages_into
from breaknews.warehouse import runs as ledger
from breaknews.warehouse.connect import ingest_lock, writer
from breaknews.warehouse.errors import WarehouseBusyError, WarehouseError
from breaknews.warehouse.handle import open_warehouse

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
    as a Prefect deployment stores them. The run is a process of its own, so it opens the warehouse
    itself; if another process holds it past the wait, the run is skipped."""
    from breaknews.tasks.http import FetchConfig

    config = FetchConfig(**(fetch or {}))
    try:
        with open_warehouse(db, lock_wait_seconds) as warehouse:
            if site or feeds:
                from breaknews.flows.site import ingest_site_into
                from breaknews.tasks.identify import DEFAULT_LIST_PAGES

                # The plain functions, not the flows: one flow run per scheduled run, no subflows.
                return ingest_site_into(
                    warehouse,
                    site=site,
                    feeds=feeds or [],
                    paths=paths or [],
                    list_pages_limit=DEFAULT_LIST_PAGES if list_pages is None else list_pages,
                    refresh=refresh,
                    config=config,
                )
            return ingest_pages_into(warehouse, paths or [], max_bytes=config.max_bytes)
    except WarehouseBusyError as exc:
        get_run_logger().warning("skipped: %s", exc)
        return None


class ServeBusyError(WarehouseError):
    """Another `breaknews serve` is already serving this warehouse."""


@dataclass(frozen=True)
class ServePlan:
    """What a serve runs: its deployment's name and parameters, and when."""

    db: str
    name: str
    parameters: dict[str, Any]
    interval: float | None
    cron: str

    @property
    def when(self) -> str:
        return f"every {self.interval:g} s" if self.interval else f"cron '{self.cron}' (Korea time)"


def deployment_name(db: str) -> str:
    """The deployment of the serve that writes ``db``: its file name, readable in Prefect's UI, and a
    hash of its full path, so two warehouses of one name in two folders are two deployments."""
    path = os.path.realpath(db)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem).strip("-")[:40] or "warehouse"
    return f"warehouse-{stem}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"


def plan(*, db: str, paths: list[str], cron: str | None, interval: float | None, live: dict[str, Any]) -> ServePlan:
    parameters = json.loads(json.dumps({"db": db, "paths": paths, **live}))  # as the API will store them
    return ServePlan(db, deployment_name(db), parameters, interval, cron or DEFAULT_CRON)


def _poll_seconds(interval: float | None) -> float:
    """How often the runner asks for due runs: quick enough that a run starts within a second or two
    of its time on a short interval, and at most every 5 s on a long one."""
    return min(5.0, max(0.5, (interval or 60.0) / 4))


def serve(the_plan: ServePlan) -> int | None:
    """Serve the scheduled ingest until SIGTERM or SIGINT, on the Prefect API that PREFECT_API_URL
    names (`prefect_api.serving_api`, entered before). Runs never overlap: a run that comes due while
    the previous one is still going is turned away (limit 1). Returns the signal that stopped it."""
    lock = FileLock(f"{the_plan.db}.serve.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise ServeBusyError(
            f"another `breaknews serve` is already serving {the_plan.db} (lock file {lock.lock_file}); stop it first"
        ) from exc
    try:
        return _serve_until_stopped(the_plan)
    finally:
        lock.release()


class _Stopper:
    """How the main thread asks the runner's event loop (a thread of its own) to stop, at any moment:
    a stop asked before the loop is attached takes effect when it is."""

    def __init__(self) -> None:
        self.wanted = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.requested: asyncio.Event | None = None
        self.error: BaseException | None = None

    def attach(self) -> asyncio.Event:
        """In the runner's loop: the event that says stop."""
        self.requested = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        if self.wanted:
            self.requested.set()
        return self.requested

    def stop(self) -> None:
        self.wanted = True
        if self.loop is not None and self.requested is not None:
            self.loop.call_soon_threadsafe(self.requested.set)


_STRAGGLER_SECONDS = 5.0
_SAME_STOP_SECONDS = 1.0


def _serve_until_stopped(the_plan: ServePlan) -> int | None:
    """The runner's event loop runs in a thread of its own, so it sets no signal handler (Python lets only
    the main thread set them) and this thread keeps SIGTERM and SIGINT, the dlt way (flows/signals.py):
    the first one stops the runner cleanly (Prefect's graceful stop: runs in flight cancelled, the
    schedule paused), a second one exits at once. Also stops when the process that started this one
    is gone (`breaknews serve` runs this in a session of its own: flows/cli/serve_session.py)."""
    stopper = _Stopper()

    def run() -> None:
        try:
            asyncio.run(_serve(the_plan, stopper))
        except BaseException as exc:  # handed to the main thread
            stopper.error = exc

    # The runner's thread sees this thread's Prefect settings (the API URL) through a copy of its context.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="breaknews-serve")
    parent = os.getppid()

    def exit_now(signum: int) -> None:
        # Unless it is not a second stop but the first one twice: the command's relay and a kill of
        # every process (systemd's default, `pkill`) arrive together.
        if time.monotonic() - received.at > _SAME_STOP_SECONDS:
            os._exit(128 + signum)

    with signals.delayed_signals(force=exit_now) as received:
        thread.start()
        stopping_since: float | None = None
        while thread.is_alive():
            thread.join(0.25)
            if stopping_since is None and (received.signum is not None or os.getppid() != parent):
                stopper.stop()
                stopping_since = time.monotonic()
            elif stopping_since is not None and time.monotonic() - stopping_since > _STRAGGLER_SECONDS:
                _terminate_children()
                stopping_since = float("inf")
    if stopper.error is not None:
        raise stopper.error
    return received.signum


def _terminate_children() -> None:
    """Prefect's runner cancels the runs it has registered; a run whose process was starting at that
    moment is not registered yet, and the runner would wait for it to finish. After a grace period,
    serve's child processes get SIGTERM too (a run then records itself cancelled)."""
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            child.terminate()


async def _serve(the_plan: ServePlan, stopper: _Stopper) -> None:
    from prefect import get_client
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.runner import Runner
    from prefect.schedules import Cron, Interval
    from prefect.states import Scheduled

    stop_requested = stopper.attach()
    schedule: Any = (
        Interval(timedelta(seconds=the_plan.interval), timezone=KOREA)
        if the_plan.interval
        else Cron(the_plan.cron, timezone=KOREA)
    )
    # No limit on the runner itself: a run that comes due while another is running is turned away by
    # the deployment's concurrency limit (cancelled, CANCEL_NEW) instead of waiting in line, so a run
    # longer than the interval never leaves a backlog of late runs behind it.
    # The runner starts a run's process up to `prefetch_seconds` before it is due (hiding Python's and
    # Prefect's start-up); never more than half an interval ahead, or short intervals would have
    # several processes starting at once only for all but one to be turned away.
    runner = Runner(
        name=the_plan.name,
        pause_on_shutdown=True,
        query_seconds=_poll_seconds(the_plan.interval),
        prefetch_seconds=min(10.0, (the_plan.interval or 60.0) / 2),
    )
    started = datetime.now(UTC)
    deployment_id = await runner.aadd_flow(
        scheduled_ingest,
        name=the_plan.name,
        schedules=[schedule],
        paused=False,
        parameters=the_plan.parameters,
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        description=f"breaknews serve of the warehouse {os.path.realpath(the_plan.db)}",
        tags=["breaknews"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    async with get_client() as client:
        removed = await clear_leftover_runs(client, deployment_id)
        # The run at start stands for the slots of its first interval (a minute, on a cron schedule).
        await _schedule_runs(client, deployment_id, datetime.now(UTC) + timedelta(seconds=the_plan.interval or 60))
        await client.create_flow_run_from_deployment(
            deployment_id, parameters=the_plan.parameters, state=Scheduled(scheduled_time=datetime.now(UTC))
        )
    api = os.environ.get("PREFECT_API_URL", "")
    note = f"; removed {removed} leftover runs" if removed else ""
    print(
        f"breaknews serve: deployment {the_plan.name} on Prefect API {api}; a run now, then {the_plan.when};"
        f" warehouse {the_plan.db}{note}",
        flush=True,
    )
    keeper = asyncio.create_task(_keep_scheduled(deployment_id))
    running = asyncio.create_task(runner.start())
    asked = asyncio.create_task(stop_requested.wait())
    try:
        await asyncio.wait({running, asked}, return_when=asyncio.FIRST_COMPLETED)
        for _ in range(100):
            if running.done():
                break
            try:
                await runner.astop()  # Prefect's graceful stop: runs in flight cancelled, then start() returns
                break
            except RuntimeError:  # asked before the runner had started: again in a moment
                await asyncio.sleep(0.1)
        else:  # it never started in 10 s: cancelled like any task (its context exits, pausing the schedule)
            running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    finally:
        keeper.cancel()
        asked.cancel()
        async with get_client() as client:
            await clear_leftover_runs(client, deployment_id)
            ours = await _runs_since(client, deployment_id, started)
        cancel_unfinished_runs(the_plan.db, ours)


_SCHEDULE_AHEAD_SECONDS = 600.0
_RESCHEDULE_EVERY_SECONDS = 30.0


async def _schedule_runs(client: Any, deployment_id: UUID, not_before: datetime | None = None) -> None:
    """Have the server create the schedule's next runs now, through Prefect's REST route for it (Schedule
    Deployment, idempotent: slots already scheduled are not created twice). Prefect's scheduler service
    does the same on its own loop, but on a server that just started it may not run for a minute or
    more, and a server breaknews does not control has its own timing: a serve's schedule must not wait
    for it. ``not_before``: no slot before then (at start: the run at start covers the first interval)."""
    body: dict[str, Any] = {"min_runs": 3, "min_time": _SCHEDULE_AHEAD_SECONDS}
    if not_before is not None:
        body["start_time"] = not_before.isoformat()
    response = await client.request("POST", "/deployments/{id}/schedule", path_params={"id": deployment_id}, json=body)
    response.raise_for_status()


async def _keep_scheduled(deployment_id: UUID) -> None:
    from prefect import get_client

    while True:
        await asyncio.sleep(_RESCHEDULE_EVERY_SECONDS)
        try:
            async with get_client() as client:
                await _schedule_runs(client, deployment_id)
        except Exception as exc:  # the server is briefly away: its own scheduler, or the next try, covers it
            print(f"breaknews serve: could not schedule ahead ({type(exc).__name__}: {exc})", file=sys.stderr)


async def clear_leftover_runs(client: Any, deployment_id: UUID) -> int:
    """Delete the deployment's runs that have not started: scheduled, late and pending ones. All of them,
    not only those with other parameters: the deployment is this warehouse's, and serve makes its own run
    at start, so a leftover is at best a duplicate of it."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    waiting = await client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED, StateType.PENDING]))
        ),
    )
    for run in waiting:
        await client.delete_flow_run(run.id)
    return len(waiting)


async def _runs_since(client: Any, deployment_id: UUID, since: datetime) -> list[str]:
    """This serve's runs: the deployment's runs that started after it did (newest first, at most 200)."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    found = await client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        sort=FlowRunSort.START_TIME_DESC,
        limit=200,
    )
    return [str(run.id) for run in found if run.start_time is not None and run.start_time >= since]


def cancel_unfinished_runs(db: str, flow_run_ids: list[str], wait_seconds: float = 8.0) -> int:
    """Mark this serve's runs that did not finish (cancelled in flight) as `cancelled` in the ledger.
    Waits for the cancelled run's process to let go of the warehouse first."""
    if not flow_run_ids:
        return 0
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with ingest_lock(db, wait_seconds=0.5), writer(db, wait_seconds=2.0) as con:
                return ledger.cancel_runs(con, flow_run_ids, "stopped by breaknews serve (SIGTERM or Ctrl-C)")
        except WarehouseError as exc:
            if time.monotonic() > deadline:
                print(f"breaknews serve: could not mark the interrupted run cancelled: {exc}", file=sys.stderr)
                return 0
