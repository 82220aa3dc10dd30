"""The one exception root, at the bottom of the import graph with the shared models.

Every error breaknews raises on purpose is a `BreaknewsError`. Whether trying again can help is a
property of the type (`transient`), never read from a message: a busy warehouse or an unreachable
site is transient, a broken page or a bad argument is not. The command line turns these into one
clean line and an exit code (`exit_code`); nothing else needs to catch them by message.
"""

from __future__ import annotations

from typing import ClassVar


class BreaknewsError(Exception):
    """Base class of every error this package raises on purpose."""

    transient: ClassVar[bool] = False  # True when the same call may succeed later, unchanged
    exit_code: ClassVar[int] = 1  # what the command exits with when this error ends it


class UsageError(BreaknewsError):
    """The user asked for something that cannot be done as asked (a missing path, a bad value)."""

    exit_code = 2


class WarehouseError(BreaknewsError):
    """The warehouse cannot be opened, migrated, read or written."""


class WarehouseBusyError(WarehouseError):
    """Another breaknews process holds the warehouse's write lock."""

    transient = True
