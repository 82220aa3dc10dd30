"""Read (stage 1): where pages come from. Saved files and folders here, web archives in `warc.py`,
the live site in `discover.py` and `fetch.py`.

A work item (`WorkItem`) is a file path (read when its batch is prepared), a Page already in memory,
or a PageResult an earlier step already decided (a fetch failure, a broken archive record).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from breaknews.tasks.errors import ReadError
from breaknews.warehouse.errors import UsageError
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


def is_warc_path(path: str) -> bool:
    return path.lower().endswith(WARC_SUFFIXES)


def iter_page_files(paths: Iterable[str], *, archives: bool = False) -> Iterator[str]:
    """Named files as given; folders walked recursively for .html/.htm files (and, with ``archives``,
    .warc/.warc.gz files), in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path, onerror=None):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in HTML_SUFFIXES or (archives and is_warc_path(name)):
                        yield str(Path(root) / name)
        else:
            yield str(path)


def read_page_file(path: str) -> Page:
    try:
        with open(path, "rb") as handle:
            content = handle.read()
        mtime = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return Page(source=path, source_kind="file", content=content, fetched_at=mtime)


def iter_work_items(
    files: Iterable[str], hosts: HostFilter | None = None, stats: SourceStats | None = None
) -> Iterator[WorkItem]:
    """Work items for the ingest from a mix of page files and WARC files (as listed by
    ``iter_page_files(..., archives=True)``): a page file passes as its path (a worker reads it), a WARC
    file is streamed here, record by record, into Pages and failures. ``stats`` counts skips and bytes."""
    from breaknews.tasks.warc import iter_warc  # the WARC reader loads only when archives are read

    stats = stats if stats is not None else SourceStats()
    for path in files:
        if is_warc_path(path):
            yield from iter_warc(path, hosts, stats)
        else:
            yield path
            with suppress(OSError):  # the worker that reads it records the failure
                stats.bytes_done += os.path.getsize(path)
