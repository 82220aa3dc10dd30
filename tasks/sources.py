"""Where pages come from: saved files and folders (later also the live site and WARC archives).

A work item is either a file path (read by the worker that extracts it, so bytes cross no process
boundary twice) or a Page already in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from tasks.errors import BreaknewsError, ReadError
from tasks.models import Page

HTML_SUFFIXES = frozenset({".html", ".htm", ".shtml", ".xhtml"})


class SourceError(BreaknewsError):
    """A path the user named does not exist or cannot be listed: a usage error, not a page failure."""


def check_paths(paths: Iterable[str]) -> list[str]:
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise SourceError("no such file or folder: " + ", ".join(missing))
    return list(paths)


def iter_page_files(paths: Iterable[str]) -> Iterator[str]:
    """Named files as given; folders walked recursively for .html/.htm files, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path, onerror=None):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in HTML_SUFFIXES:
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
