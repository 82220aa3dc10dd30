"""Which Prefect API a run, or a serve, talks to.

Order of preference: an API the user configured (wherever Prefect reads its settings from: the
environment, a `.env` file, `prefect.toml` or `pyproject.toml`, the active profile) → the kept server
(`flows/kept_server.py`), when it answers `/api/health` → a new kept server.
``BREAKNEWS_PREFECT_SERVER=ephemeral`` (or `ingest --ephemeral`) gives Prefect's own temporary server
instead, leaving nothing running.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from breaknews.flows import kept_server
from breaknews.flows.kept_server import ServerError

MODE_ENV = "BREAKNEWS_PREFECT_SERVER"  # "keep" (default) or "ephemeral"


def configured_api_url() -> str | None:
    """The API the user (or a test harness) configured, as Prefect's own settings see it. Imports
    Prefect's settings (the whole of Prefect, ~2 s of CPU), which the run's flows import anyway."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


@contextmanager
def _pointed_at(url: str) -> Iterator[None]:
    """PREFECT_API_URL set to ``url`` for this process (Prefect's loaded settings) and the processes it
    starts (their environment: Dask workers, serve's runs), as it was afterwards."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


def _mode(ephemeral: bool) -> str:
    mode = "ephemeral" if ephemeral else (os.environ.get(MODE_ENV) or "keep").lower()
    if mode not in ("keep", "ephemeral"):
        raise ServerError(f"{MODE_ENV} must be 'keep' or 'ephemeral', got {mode!r}")
    return mode


@contextmanager
def prefect_api(*, ephemeral: bool = False, announce: bool = True) -> Iterator[str | None]:
    """Point this process (and the processes it starts) at the Prefect API a run should use: the
    kept server's URL, or None when the run uses a configured API or Prefect's ephemeral one."""
    if _mode(ephemeral) == "ephemeral" or configured_api_url():
        yield None
        return
    info, started = kept_server.start()
    if started and announce:
        print(
            f"breaknews: started a local Prefect server at {info.ui} (pid {info.pid}), kept for later runs;"
            " `breaknews server stop` stops it",
            file=sys.stderr,
        )
    with _pointed_at(info.url):
        yield info.url


@contextmanager
def serving_api() -> Iterator[str]:
    """The Prefect API `breaknews serve` schedules on: the configured one, else the kept server,
    started if needed. Prefect will not schedule flows on its ephemeral API. A server started here is
    stopped on exit; one already running is left as it was."""
    configured = configured_api_url()
    if configured:
        os.environ["PREFECT_API_URL"] = configured  # for serve's run processes
        yield configured
        return
    info, started = kept_server.start()
    try:
        with _pointed_at(info.url):
            yield info.url
    finally:
        if started:
            kept_server.stop()
