"""What tests and benchmarks need to run `breaknews` as a user does: the command, a free loopback port,
the environment of a kept Prefect server of their own. Importing it changes nothing (unlike conftest)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

EXE = str(Path(sys.executable).parent / "breaknews")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kept_env(home: str | os.PathLike[str]) -> dict[str, str]:
    """This process's environment without its Prefect settings, for `breaknews` processes that share a
    kept Prefect server of their own: in Prefect home ``home``, on a free loopback port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), BREAKNEWS_PREFECT_SERVER="keep", BREAKNEWS_PREFECT_PORT=str(free_port()))
    return env
