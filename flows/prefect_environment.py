"""The Prefect settings every `breaknews` process sets for itself before Prefect loads.

Prefect sends telemetry to outside hosts unless told not to; breaknews contacts nothing but the site it
ingests. The switches go into a command's own environment before Prefect is first imported
(`command_environment`), and into the environment of every Prefect server breaknews starts
(`flows/kept_server.py`).
"""

from __future__ import annotations

import os

TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def command_environment() -> None:
    """What a `breaknews` command needs of the process environment, set before Prefect loads: no
    telemetry, and time for Prefect's embedded API to start (a first-ever Prefect home takes ~19 s
    to set up here, longer on a busy machine; Prefect gives up after 20 s by default)."""
    os.environ.update(TELEMETRY_OFF)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
