"""Whether the log lines of the libraries extraction uses are shown, here and in every process started
from here. Not a stage: the command's edge decides (``-v``), extraction obeys in whatever process it
runs (an extraction worker, a local Dask cluster's worker, a flow-run process of `serve`).

The libraries' own lines (trafilatura's `discarding data: None` on a page it cannot read) say nothing a
user can act on: such a page is recorded as a failure with its stage and reason anyway.
"""

from __future__ import annotations

import functools
import logging
import os

LIBRARY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")
QUIET_LIBRARIES_ENV = "BREAKNEWS_QUIET_LIBRARIES"
_SILENT = logging.CRITICAL + 1


def show_library_logs(shown: bool) -> None:
    """Show or silence the libraries' loggers here and in every process started from here (extraction
    worker processes, a local Dask cluster, the flow-run processes of `serve`): they inherit the
    environment, and extraction reads it once per process."""
    os.environ[QUIET_LIBRARIES_ENV] = "" if shown else "1"
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if shown else _SILENT)
    quiet_if_asked.cache_clear()


@functools.cache
def quiet_if_asked() -> None:
    """Silence the libraries' loggers if the environment says so; called before each extraction, it
    reads the environment once per process."""
    if os.environ.get(QUIET_LIBRARIES_ENV) == "1":
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(_SILENT)
