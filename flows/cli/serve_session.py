"""`breaknews serve` in a session of its own, so a terminal's Ctrl-C reaches only the command.

A terminal sends SIGINT to every process of its foreground process group. Serve's runs are processes
Prefect's runner starts (multiprocessing spawn children, Python and Prefect still importing for the
first seconds of each): in serve's group, each would get the Ctrl-C itself and print a
KeyboardInterrupt traceback from wherever it was, instead of being cancelled by the runner (issue 21).
So the command in the terminal starts the serve itself as a child in a new session (its runs with it),
and relays each SIGINT or SIGTERM to it as a SIGTERM, serve's clean stop (flows/schedule.py; a second
one stops it at once). The child is the same command again, marked by ``BREAKNEWS_SERVE_SESSION=1``,
and it stops by itself if this process dies. This process imports no Prefect: it costs ~0.3 s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

SESSION_ENV = "BREAKNEWS_SERVE_SESSION"


def in_own_session() -> bool:
    """Whether this process is the serve that `run_in_own_session` started."""
    return os.environ.get(SESSION_ENV) == "1"


@dataclass(frozen=True)
class Ended:
    code: int  # the serve's exit status
    signum: int | None  # the first signal this process relayed to it, if any


def run_in_own_session(argv: Sequence[str]) -> Ended:
    """Run `breaknews ARGV` (a serve) in a new session until it ends, relaying SIGINT and SIGTERM."""
    relayed: list[int] = []
    children: list[subprocess.Popen[bytes]] = []

    def relay(signum: int, _frame: object) -> None:
        relayed.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)

    previous = {signum: signal.signal(signum, relay) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "breaknews.flows.cli", *argv],
                env={**os.environ, SESSION_ENV: "1"},
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        if relayed:  # a signal came while the child was being started
            os.kill(children[0].pid, signal.SIGTERM)
        code = children[0].wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return Ended(code, relayed[0] if relayed else None)
