"""Prefect's flow-run heartbeats, off for a run that lives and ends inside one command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """For a flow run that lives and ends inside this command. Prefect's flow-run heartbeat is a
    thread that tells the server the run is alive (for crash-detection automations); at the end of
    every run Prefect joins it and waits out its one-second sleep, 0.5–1 s added to every command.
    A command's run ends with its process, and breaknews marks runs that died as `crashed` itself.
    `breaknews serve` keeps the heartbeats: its runs are Prefect's to watch."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
