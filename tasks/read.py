"""Read (stage 1): where pages come from. Saved files and folders here, and the lists of archive files
(`warc.paths.gz`); web archives in `warc.py` (streamed over HTTP by `remote.py`), the live site in
`discover.py` and `fetch.py`.

A work item (`WorkItem`) is a file path (read when its batch is prepared), a Page already in memory,
a PageResult an earlier step already decided (a fetch failure, a broken archive record), or the
marker of an archive file read to its end (`ArchiveRead`).

Only regular files are pages. Anything else a folder holds or the command line names (a FIFO called
`x.html`, a socket, a device) is listed as skipped and never opened: opening a FIFO waits for a
writer forever. A page file larger than the run's `max_bytes` fails here, before a byte of it is
parsed (a 20 MB one-line page cost trafilatura ~900 MB), as an oversized page from the site does.
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from breaknews.tasks.errors import ReadError
from breaknews.tasks.http import DEFAULT_MAX_BYTES, FetchConfig
from breaknews.tasks.remote import RemoteFileError, is_remote, read_remote
from breaknews.warehouse.errors import BreaknewsError, UsageError
from breaknews.warehouse.models import Page, SourceStats, WorkItem

if TYPE_CHECKING:
    from breaknews.tasks.warc import HostFilter

HTML_SUFFIXES = frozenset({".html", ".htm", ".shtml", ".xhtml"})
WARC_SUFFIXES = (".warc", ".warc.gz")


def check_paths(paths: Iterable[str]) -> list[str]:
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise UsageError("no such file or folder: " + ", ".join(missing))
    return list(paths)


LIST_LIMIT = 256 * 1024 * 1024  # a path list larger than this is not a path list


class ArchiveListError(BreaknewsError):
    """A list of archive files (``--warc-list``) cannot be read: nothing is ingested."""

    transient = True


def is_warc_path(path: str) -> bool:
    """A path, or a URL whose path, names a WARC file (``.warc``, ``.warc.gz``)."""
    if is_remote(path):
        path = urlsplit(path).path
    return path.lower().endswith(WARC_SUFFIXES)


def is_warc_url(value: str) -> bool:
    return is_remote(value) and is_warc_path(value)


def read_warc_list(location: str, base: str | None = None, fetch: FetchConfig | None = None) -> list[str]:
    """The archive files a path list names (Common Crawl's ``warc.paths.gz`` format: one path or URL a
    line, gzipped or not; blank lines and ``#`` comments ignored), in order, each once. A relative entry
    is resolved against ``base`` (a URL or a folder), else against the list's own location."""
    try:
        data = read_remote(location, fetch, limit=LIST_LIMIT) if is_remote(location) else Path(location).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, RemoteFileError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise ArchiveListError(f"cannot read the archive list {location}: {exc}") from exc
    anchor = base or location
    found: dict[str, None] = {}
    for line in text.splitlines():
        entry = line.strip()
        if entry and not entry.startswith("#"):
            found.setdefault(_resolve(entry, anchor, is_folder=base is not None), None)
    return list(found)


def _resolve(entry: str, anchor: str, *, is_folder: bool) -> str:
    if is_remote(entry) or os.path.isabs(entry):
        return entry
    if is_remote(anchor):
        return urljoin(anchor if not is_folder or anchor.endswith("/") else anchor + "/", entry)
    folder = anchor if is_folder else os.path.dirname(anchor)
    return os.path.join(folder, entry)


def iter_page_files(
    paths: Iterable[str], *, archives: bool = False, not_regular: list[str] | None = None
) -> Iterator[str]:
    """Named files as given; folders walked recursively for .html/.htm files (and, with ``archives``,
    .warc/.warc.gz files), in a stable order. Paths that are not regular files (FIFOs, sockets,
    devices; symlinks are followed) are left out, and appended to ``not_regular`` when given."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path, onerror=None):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in HTML_SUFFIXES or (archives and is_warc_path(name)):
                        yield from _regular(str(Path(root) / name), not_regular)
        else:
            yield from _regular(str(path), not_regular)


def _regular(path: str, not_regular: list[str] | None) -> Iterator[str]:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        yield path  # vanished or unreadable: reading it records why
        return
    if stat.S_ISREG(mode):
        yield path
    elif not_regular is not None:
        not_regular.append(path)


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, in words."""
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def read_page_file(path: str, max_bytes: int | None = None) -> Page:
    """The bytes of the page file ``path``. Refused unread: anything but a regular file (opened without
    blocking, so a FIFO cannot hang the run) and, with ``max_bytes``, a file larger than that."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(f"{path} is {file_kind(info.st_mode)}, not a page file; not read")
        if max_bytes is not None and info.st_size > max_bytes:
            raise ReadError(_too_large(info.st_size, max_bytes))
        with open(fd, "rb", closefd=False) as handle:
            content = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if max_bytes is not None and len(content) > max_bytes:  # it grew while we read
        raise ReadError(_too_large(len(content), max_bytes))
    mtime = datetime.fromtimestamp(info.st_mtime, UTC)
    return Page(source=path, source_kind="file", content=content, fetched_at=mtime)


def _too_large(size: int, max_bytes: int) -> str:
    return f"page too large: {size:,} bytes, the cap is {max_bytes:,} (--max-bytes); not parsed"


def iter_work_items(
    files: Iterable[str],
    hosts: HostFilter | None = None,
    stats: SourceStats | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    fetch: FetchConfig | None = None,
) -> Iterator[WorkItem]:
    """Work items for the ingest from a mix of page files and WARC files (paths as listed by
    ``iter_page_files(..., archives=True)``, or URLs): a page file passes as its path (a worker reads
    it), a WARC file is streamed here, record by record, into Pages and failures, then the marker of
    the file read to its end. ``stats`` counts skips and bytes."""
    from breaknews.tasks.warc import iter_archive  # the WARC reader loads only when archives are read

    stats = stats if stats is not None else SourceStats()
    for path in files:
        if is_warc_path(path):
            yield from iter_archive(path, hosts, stats, max_bytes=max_bytes, fetch=fetch)
        else:
            yield path
            with suppress(OSError):  # the worker that reads it records the failure
                stats.bytes_done += os.path.getsize(path)
