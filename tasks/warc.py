"""Read (stage 1), from web archives: pages out of WARC files (plain, or gzip per record).

warcio parses records and undoes the HTTP transfer and content encodings (chunked, gzip, brotli).
What no WARC library does for us, and this module adds:

- a record cut short (fewer bytes than its Content-Length, a gzip member that ends early, a block
  digest that does not match) becomes a recorded failure, never a half article;
- a corrupt record does not end the file: reading resumes at the next gzip member (``.warc.gz``) or the
  next ``WARC/1.`` line (plain ``.warc``), and the bytes in between are recorded as one failure;
- records that are not pages of the wanted hosts (other sites, revisits, images, redirects) are counted,
  not failed.

Records are streamed one at a time, so memory stays flat however large the file.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from breaknews.tasks.decode import charset_from_content_type
from breaknews.tasks.identify import host_family
from breaknews.warehouse.models import Page, PageResult, SourceStats

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SCAN_CHUNK = 1 << 20
# What a broken archive throws from inside warcio: bad gzip, bad headers, a header line cut off.
_RECORD_ERRORS = (
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
    zlib.error,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
)


@dataclass
class HostFilter:
    """Which pages to keep. Default: the BreakNews host family. Otherwise a page is kept when its host
    is one of ``hosts`` or under one of them (``breaknews.com`` keeps every BreakNews host,
    ``honam.breaknews.com`` only that one); ``*`` keeps every host."""

    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.hosts = tuple(h.strip().lower().rstrip(".") for h in self.hosts if h.strip())

    def keeps(self, url: str | None) -> bool:
        try:
            host = (urlsplit(url).hostname or "") if url else ""
        except ValueError:
            return False
        if not self.hosts:
            return host_family(host) is not None
        if "*" in self.hosts:
            return True
        return any(host == h or host.endswith("." + h) for h in self.hosts)


def iter_warc(
    path: str, hosts: HostFilter | None = None, stats: SourceStats | None = None
) -> Iterator[Page | PageResult]:
    """Pages (and failures) of one WARC file, in file order."""
    hosts = hosts or HostFilter()
    stats = stats if stats is not None else SourceStats()
    base_done = stats.bytes_done
    stats.warc_files += 1
    try:
        handle = open(path, "rb")  # noqa: SIM115  (held open across yields; closed in finally)
    except OSError as exc:
        yield _failure(path, None, "read", f"cannot read {path}: {exc.strerror or exc}")
        return
    try:
        size = os.fstat(handle.fileno()).st_size
        gzipped = _is_gzip(handle)
        position = 0
        while position < size:
            end, error = yield from _read_run(path, handle, position, hosts, stats, base_done)
            if error is None and _only_padding(handle, end, size):
                break
            resume = _next_sync_point(handle, end + 1, gzipped)
            if error is _RESYNC:
                if resume is None:
                    break
                position = resume
                continue
            if resume is not None and _only_padding(handle, end, resume):
                position = resume  # only the blank lines between records: try again from the next one
                continue
            what = error or "bytes that are not a complete WARC record"
            if resume is None:
                yield _failure(path, end, "warc", f"record cut short at the end of the file: {what}")
                break
            yield _failure(
                path, end, "warc", f"corrupt record (skipped {resume - end} bytes to the next record): {what}"
            )
            position = resume
    except OSError as exc:
        yield _failure(path, None, "read", f"cannot read {path}: {exc.strerror or exc}")
    finally:
        stats.bytes_done = base_done + _file_size(handle)
        handle.close()


def _read_run(
    path: str, handle: IO[bytes], start: int, hosts: HostFilter, stats: SourceStats, base_done: int
) -> Generator[Page | PageResult, None, tuple[int, str | None]]:
    """Read records from ``start`` until the file ends or a record breaks. Returns (offset after the
    last good record, error text or None)."""
    handle.seek(start)
    records = ArchiveIterator(handle, check_digests=True)
    good_end = start
    try:
        for record in records:
            item = _item(path, record, records, hosts, stats)
            good_end = records.get_record_offset() + records.get_record_length()
            stats.bytes_done = base_done + good_end
            if item is not None:
                yield item
    except _DamagedRecord as damaged:
        yield damaged.failure
        return damaged.offset, _RESYNC
    except _RECORD_ERRORS as exc:
        return good_end, _describe(exc)
    finally:
        records.close()
    return max(good_end, records.offset), None


def _item(
    path: str, record: Any, records: ArchiveIterator, hosts: HostFilter, stats: SourceStats
) -> Page | PageResult | None:
    kind = record.rec_type
    if kind not in ("response", "resource", "revisit"):
        return None  # warcinfo, request, metadata: not pages, not counted
    stats.records_read += 1
    url = _target_uri(record)
    if not hosts.keeps(url):
        stats.records_other_host += 1
        return None
    if kind == "revisit":
        stats.records_revisit += 1
        return None
    http = record.http_headers if kind == "response" else None
    status = _status(http)
    content_type = http.get_header("Content-Type") if http else record.rec_headers.get_header("Content-Type")
    if status is not None and not 200 <= status < 300:
        stats.records_not_ok += 1
        return None
    if content_type and not any(t in content_type.lower() for t in _HTML_TYPES):
        stats.records_not_html += 1
        return None
    content = record.content_stream().read()  # chunked and gzip/brotli undone
    offset = records.get_record_offset()  # reads the rest of the record, completing its digest
    source = f"{path}#{offset}"
    declared = record.length
    missing = record.raw_stream.limit
    if missing:
        return _failure(path, offset, "warc", f"record cut short: {declared - missing} of {declared} bytes", url)
    checker = record.digest_checker
    if checker is not None and checker.passed is False:
        # Likely a wrong Content-Length that swallowed the next record: look for records inside it.
        raise _DamagedRecord(
            offset, _failure(path, offset, "warc", "record damaged: its block digest does not match its bytes", url)
        )
    return Page(
        source=source,
        source_kind="warc",
        content=content,
        url=url,
        header_charset=charset_from_content_type(content_type),
        fetched_at=_warc_date(record.rec_headers.get_header("WARC-Date")),
        http_status=status,
        etag=http.get_header("ETag") if http else None,
        last_modified=http.get_header("Last-Modified") if http else None,
        content_type=content_type,
    )


class _DamagedRecord(Exception):
    def __init__(self, offset: int, failure: PageResult) -> None:
        self.offset = offset
        self.failure = failure


_RESYNC = "resync"


def _failure(path: str, offset: int | None, stage: str, reason: str, url: str | None = None) -> PageResult:
    source = path if offset is None else f"{path}#{offset}"
    return PageResult(source=source, page_sha256=None, stage=stage, reason=reason, url=url)


def _target_uri(record: Any) -> str | None:
    uri = record.rec_headers.get_header("WARC-Target-URI")
    return uri.strip().strip("<>") if uri else None


def _status(http: Any) -> int | None:
    if http is None:
        return None
    try:
        return int(http.get_statuscode())
    except (TypeError, ValueError):
        return None


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, zlib.error):
        return f"bad gzip data ({_short(exc)})"
    if isinstance(exc, ArchiveLoadFailed | StatusAndHeadersParserException):
        return _short(exc)
    return f"unreadable record header ({type(exc).__name__})"


def _short(exc: BaseException) -> str:
    text = " ".join("".join(c if c.isprintable() else "?" for c in str(exc)).split())
    return text[:100] + ("…" if len(text) > 100 else "")


def _is_gzip(handle: IO[bytes]) -> bool:
    handle.seek(0)
    return handle.read(3) == _GZIP_MAGIC


def _file_size(handle: IO[bytes]) -> int:
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, ValueError):
        return 0


def _only_padding(handle: IO[bytes], start: int, stop: int) -> bool:
    """True when nothing but blank lines (or nothing) lies between ``start`` and ``stop``."""
    handle.seek(start)
    while start < stop and (chunk := handle.read(min(_SCAN_CHUNK, stop - start))):
        if chunk.strip(b"\r\n"):
            return False
        start += len(chunk)
    return True


def _next_sync_point(handle: IO[bytes], start: int, gzipped: bool) -> int | None:
    """Offset of the next place a record can start: a gzip member header, or a ``WARC/1.x`` line.
    A false match (the magic bytes inside compressed data) just fails again and moves on."""
    marker = _GZIP_MAGIC if gzipped else None
    position = start
    overlap = 16
    while True:
        handle.seek(position)
        chunk = handle.read(_SCAN_CHUNK)
        if not chunk:
            return None
        if marker is not None:
            found = chunk.find(marker)
            if found >= 0:
                return position + found
        else:
            match = _WARC_LINE.search(chunk)
            if match:
                return position + match.start() + (1 if chunk[match.start() : match.start() + 1] == b"\n" else 0)
        if len(chunk) < _SCAN_CHUNK:
            return None
        position += len(chunk) - overlap


def iter_warcs(
    paths: Iterable[str], hosts: HostFilter | None = None, stats: SourceStats | None = None
) -> Iterator[Page | PageResult]:
    for path in paths:
        yield from iter_warc(path, hosts, stats)
