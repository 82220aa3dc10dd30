"""Where extraction runs: the choice behind `breaknews ingest --task-runner`.

``processes`` (default) and ``threads`` keep Prefect's default thread-pool task runner for the flow
(``processes`` adds the run's own process pool inside each extract task, see flows/engine.py);
``dask`` gives the flow Prefect's ``DaskTaskRunner`` (the optional ``prefect-dask`` package), so each
extract batch is a task run on a Dask worker: on an existing cluster (``--dask-address``) or on a
``LocalCluster`` of worker processes started for the run. Loading stays in the flow's process.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from breaknews.warehouse.errors import BreaknewsError


class TaskRunnerError(BreaknewsError):
    """The task runner asked for is not available."""


def dask_task_runner(address: str | None, workers: int | None) -> Any:
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise TaskRunnerError(
            "--task-runner dask needs the prefect-dask package: pip install 'breaknews[dask]'"
        ) from exc
    if address:
        return DaskTaskRunner(address=address)
    # One thread per worker process: extraction holds the GIL, so processes are what scale.
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers or os.cpu_count() or 1, **LOCAL_CLUSTER})


# A local cluster's settings. No dashboard (nothing here needs it); the scheduler still serves a few HTTP
# routes (health, metrics), and without an address it takes port 8787, warning on the terminal when another
# cluster has it: on a free loopback port instead.
LOCAL_CLUSTER: dict[str, Any] = {
    "threads_per_worker": 1,
    "processes": True,
    "dashboard_address": None,
    "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"},
}


def cluster_workers(address: str) -> int:
    """How many workers the Dask cluster at ``address`` has now (Dask's public client API)."""
    from distributed import Client

    with Client(address, set_as_default=False, timeout="30s") as client:
        return len(client.nthreads())


def ingest_flow(task_runner: str, *, dask_address: str | None = None, workers: int | None = None) -> Any:
    """The ingest-pages flow, with the Prefect task runner that ``task_runner`` names; on Dask, told
    how many workers its cluster has (how many archive files it scans at once follows from it)."""
    from breaknews.flows.engine import TASK_RUNNERS
    from breaknews.flows.ingest import ingest_pages

    if task_runner not in TASK_RUNNERS:
        raise TaskRunnerError(f"unknown task runner {task_runner!r}: choose one of {', '.join(TASK_RUNNERS)}")
    if task_runner != "dask":
        return ingest_pages
    runner = dask_task_runner(dask_address, workers)  # checks that prefect-dask is installed, first
    count = cluster_workers(dask_address) if dask_address else workers or os.cpu_count() or 1
    return functools.partial(ingest_pages.with_options(task_runner=runner), dask_workers=count)
