"""Where the read side writes files for the user (exports, the report): never over the warehouse,
and whole or not at all.

A destination is refused when it is the warehouse, its write-ahead log (`.wal`), its lock file
(`.lock`) or any other database the connection has attached, compared by resolved path (symlinks
followed) and, for files that exist, by device and inode (hard links). Its bytes go first to a
partial file (or folder) next to it, `.NAME.PID.partial`, which is renamed over the destination only
when complete: an export that fails, or is interrupted, leaves the old file as it was.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from breaknews.warehouse.connect import lock_path
from breaknews.warehouse.errors import BreaknewsError, UsageError


class DestinationError(UsageError):
    """A file or folder a command was asked to write must not be written there (exit status 2)."""


class WriteError(BreaknewsError):
    """Writing the destination failed (disk full, file too large, permission): the old file is kept."""


@dataclass(frozen=True)
class Destination:
    named: Path  # as the user wrote it, for messages
    final: Path  # symlinks resolved: what is replaced
    partial: Path  # written first, in the same folder as ``final``, then renamed over it
    folder: bool  # a folder of files (a partitioned export) rather than one file


def destination(out: str | os.PathLike[str], *, folder: bool = False) -> Destination:
    """The destination ``out``, refused at once when its folder does not exist or it is of the wrong
    kind (a folder where a file goes, a FIFO or device, a folder that already holds files)."""
    named = Path(out)
    final = named.resolve()
    if not final.parent.is_dir():
        raise DestinationError(f"cannot write {named}: folder {named.parent} does not exist")
    try:
        mode: int | None = final.stat().st_mode
    except FileNotFoundError:
        mode = None
    if folder:
        if mode is not None and (not stat.S_ISDIR(mode) or any(final.iterdir())):
            raise DestinationError(f"cannot write {named}: a folder export goes to a new or empty folder")
    elif mode is not None and stat.S_ISDIR(mode):
        raise DestinationError(f"cannot write {named}: it is a folder")
    elif mode is not None and not stat.S_ISREG(mode):
        raise DestinationError(f"cannot write {named}: it is not a regular file (a FIFO, socket or device)")
    return Destination(named, final, final.parent / f".{final.name}.{os.getpid()}.partial", folder)


def refuse_warehouse_files(target: Destination, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse ``target`` if it is a file of any database ``con`` has attached (the warehouse first)."""
    for (db,) in con.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL").fetchall():
        for kind, path in (
            ("", Path(db)),
            ("the write-ahead log of ", Path(f"{db}.wal")),
            ("the lock file of ", lock_path(db)),
        ):
            if _same_file(target.final, path):
                raise DestinationError(f"cannot write {target.named}: it is {kind}the warehouse {db}")


def _same_file(a: Path, b: Path) -> bool:
    if a == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


@contextmanager
def written_whole(target: Destination) -> Iterator[Path]:
    """Yield the partial path to write; rename it over the destination if the block completes,
    remove it if not."""
    _remove(target.partial)
    try:
        if target.folder:
            target.partial.mkdir()  # there even when nothing goes into it
        yield target.partial
        os.replace(target.partial, target.final)  # a folder replaces only an empty folder
    except OSError as exc:
        _remove(target.partial)
        raise WriteError(f"cannot write {target.named}: {exc.strerror or exc}; nothing was changed") from exc
    except BaseException:
        _remove(target.partial)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
