"""SIGINT and SIGTERM the dlt way (`dlt/common/runtime/signals.py`, `delayed_signals`): the first signal
is deferred to a safe point of breaknews' own code, a second one of the same kind stops at once.

Prefect runs much of its machinery in the main thread, some of it under `except BaseException`: a
signal's exception raised wherever the main thread happens to be can end up kept in a future nobody
reads (seen: a SIGTERM under load, and the run went on to its 3,000th page and exit status 0), or turned
into an error of Prefect's own (seen: `ValueError: Task run is not set`). So inside `delayed_signals()`
a signal only notes itself, and the run raises it at its safe points: between batches
(`Received.raise_if_signalled`) and while it waits on a task's future (`result`), as the exception
Python or Prefect would have raised for it: KeyboardInterrupt for SIGINT, Prefect's public
`TerminationSignal` for SIGTERM (how Prefect's runner cancels a run). A second signal of the same kind
goes to the handler that was in place before (Python's KeyboardInterrupt, Prefect's SIGTERM handler), or
to ``force``. Handlers can be set only in the main thread; elsewhere, and inside another
`delayed_signals()` block, the block changes nothing, as dlt's does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from prefect.exceptions import TerminationSignal

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How often a wait on a future looks whether a signal came: short against any batch, long against a tick.
_POLL_SECONDS = 0.2
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Received:
    """The first SIGINT or SIGTERM that came inside the block, if any."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.at = 0.0  # when it came (time.monotonic())
        self.counts: dict[int, int] = {}
        self.event = threading.Event()  # set by the first signal, for code that waits for one

    def exception(self) -> BaseException | None:
        """The exception the first signal stands for, once one came."""
        if self.signum is None:
            return None
        if self.signum == signal.SIGINT:
            return KeyboardInterrupt()
        return TerminationSignal(signal=self.signum)

    def raise_if_signalled(self) -> None:
        stopped = self.exception()
        if stopped is not None:
            raise stopped


_active: Received | None = None  # the block in force (signal handlers are per process)


def _pass_on(handler: Any, signum: int, frame: Any) -> None:
    """A signal to the handler that was in place before: a Python callable, or the system's default."""
    if callable(handler):
        handler(signum, frame)
    elif handler != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


@contextmanager
def delayed_signals(*, force: Callable[[int], None] | None = None, notice: str = "") -> Iterator[Received]:
    """SIGINT and SIGTERM noted instead of raised while the block runs (see the module's docstring).
    ``notice``: a line for a terminal (stderr a TTY) when the first signal comes."""
    global _active
    if threading.current_thread() is not threading.main_thread() or _active is not None:
        yield _active or Received()
        return
    received = Received()
    previous: dict[int, Any] = {signum: signal.getsignal(signum) for signum in SIGNALS}
    interactive = bool(notice) and sys.stderr.isatty()

    def receive(signum: int, frame: Any) -> None:
        received.counts[signum] = received.counts.get(signum, 0) + 1
        if received.signum is None:
            received.signum, received.at = signum, time.monotonic()
            received.event.set()
            if interactive:  # a raw write: the handler may have cut into a print to stderr
                os.write(2, f"\n{notice}\n".encode())
        elif received.counts[signum] >= 2:
            if force is not None:
                force(signum)
            else:
                _pass_on(previous[signum], signum, frame)

    _active = received
    try:
        for signum in SIGNALS:
            signal.signal(signum, receive)
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        _active = None


class _Future(Protocol[T_co]):
    def result(self) -> T_co: ...

    def add_done_callback(self, fn: Callable[[Any], None]) -> None: ...


def result(future: _Future[T]) -> T:
    """``future.result()``; inside `delayed_signals()`, a wait in short steps that raises a signal noted
    meanwhile (a wait is a safe point: the future's work goes on in its own thread or process)."""
    if _active is not None:
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        while not done.wait(_POLL_SECONDS):
            _active.raise_if_signalled()
    return future.result()
