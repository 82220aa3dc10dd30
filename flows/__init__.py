"""Prefect flows and the `breaknews` command.

Prefect sends telemetry to outside hosts unless told not to. Importing this package turns that off
before any Prefect module loads, so no run contacts anything but the site it ingests.
"""

import os

os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# Prefect's embedded API gives up after 20 s by default; a first-ever Prefect home takes ~19 s to
# set up here, longer on a busy machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
