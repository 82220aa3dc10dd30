"""Read (stage 1), from web archives: pages out of WARC files (plain, or gzip per record), read from disk
or streamed over HTTP (`tasks/remote.py`), parsed with FastWARC (Resiliparse).

Built for archives where our pages are a small share (a CC-NEWS file mixes thousands of sites): FastWARC
passes over warcinfo, request and metadata records without handing them to Python, and a response is
judged on its WARC headers alone (type, the host of WARC-Target-URI) before any of it is parsed as HTTP,
read or content-decoded (its gzip member is still inflated, in Rust, to reach the next record: gzip
has no way to skip). Only a record of a wanted host has its HTTP headers parsed and its payload read
and decoded (chunked transfer, gzip/brotli content encoding).

What FastWARC does not do for us, and this module adds:

- a record of a wanted host cut short (fewer bytes than its Content-Length), whose block digest does
  not match, or larger than the byte cap becomes a recorded failure (stage ``warc``), never a half
  article; its payload is not parsed;
- a corrupt stretch (a broken gzip member, bytes that are not a record) does not end the file: reading
  resumes at the next gzip member (``.warc.gz``) or the next ``WARC/1.`` line (plain ``.warc``), and the
  bytes in between are recorded as one failure;
- a file that ends inside a record (a copy cut short), whoever's record it is, is noticed at its end;
- records that are not pages of the wanted hosts (other sites, revisits, images, redirects) are
  counted, not failed.

Records are streamed one at a time, so memory stays flat however large the file. warcio is not used to
read; the tests and the benchmark write their archives with it.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator, WarcRecordType

from breaknews.tasks.decode import charset_from_content_type
from breaknews.tasks.http import DEFAULT_MAX_BYTES, FetchConfig
from breaknews.tasks.identify import SITE_DOMAIN, host_family
from breaknews.tasks.remote import RemoteFile, RemoteFileError, is_remote
from breaknews.warehouse.models import ArchiveRead, Page, PageResult, SourceStats

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")
_BLANK = re.compile(rb"[\r\n\x00 ]*")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SCAN_CHUNK = 1 << 20
_TAIL_LIMIT = 64 << 20  # the end-of-file check reads at most this much again
# Records that can be pages (or say a page was seen before); the rest FastWARC passes over in Rust.
_PAGE_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.revisit
# Block digests FastWARC verifies; a record naming another algorithm is not checked (as warcio does).
_DIGESTS = ("sha1:", "sha256:", "sha512:", "md5:")


@dataclass
class HostFilter:
    """Which pages to keep. Default: the BreakNews host family. Otherwise a page is kept when its host
    is one of ``hosts`` or under one of them (``breaknews.com`` keeps every BreakNews host,
    ``honam.breaknews.com`` only that one); ``*`` keeps every host."""

    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.hosts = tuple(h.strip().lower().rstrip(".") for h in self.hosts if h.strip())
        self._every = "*" in self.hosts
        # A kept URL contains its host: most URLs are rejected by a substring test, unparsed.
        self._needles = self.hosts or (SITE_DOMAIN,)

    @property
    def key(self) -> str:
        """The filter as text, for the record of which archives were read with it."""
        return ",".join(sorted(set(self.hosts))) or "default"

    def host_of(self, url: str | None) -> str | None:
        """The URL's host when the filter keeps it, else None."""
        if not url:
            return None
        if not self._every:
            lowered = url.lower()
            if not any(needle in lowered for needle in self._needles):
                return None
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return None
        if self._every:
            return host
        if not self.hosts:
            return host if host_family(host) is not None else None
        return host if any(host == h or host.endswith("." + h) for h in self.hosts) else None


def open_archive(location: str, fetch: FetchConfig | None = None) -> IO[bytes] | RemoteFile:
    """The archive's bytes as a file object: a local file, or a URL streamed (`RemoteFile`)."""
    if is_remote(location):
        return RemoteFile(location, fetch)
    return open(location, "rb")


def iter_warc(
    location: str,
    hosts: HostFilter | None = None,
    stats: SourceStats | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    fetch: FetchConfig | None = None,
) -> Iterator[Page | PageResult]:
    """Pages (and failures) of one WARC file, a path or an http(s) URL, in file order."""
    for item in iter_archive(location, hosts, stats, max_bytes=max_bytes, fetch=fetch):
        if not isinstance(item, ArchiveRead):
            yield item


def iter_archive(
    location: str,
    hosts: HostFilter | None = None,
    stats: SourceStats | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    fetch: FetchConfig | None = None,
) -> Iterator[Page | PageResult | ArchiveRead]:
    """Pages and failures of one WARC file, a path or an http(s) URL, in file order; then, if the file
    was read to its end, its `ArchiveRead` (the marker the warehouse records with its last pages). A
    file that cannot be opened, or whose download broke for good, yields a failure instead (stage
    ``read`` or ``fetch``) and no marker: a later run reads it again. ``stats`` counts as it goes."""
    hosts = hosts or HostFilter()
    stats = stats if stats is not None else SourceStats()
    before = replace(stats, kept_by_host=dict(stats.kept_by_host))
    stats.warc_files += 1
    try:
        stream = open_archive(location, fetch)
    except OSError as exc:
        yield _failure(location, None, "read", f"cannot read {location}: {exc.strerror or exc}")
        return
    except RemoteFileError as exc:
        yield _failure(location, None, "fetch", f"cannot fetch {location}: {exc}")
        return
    failures = 0
    complete = False
    size = _size(stream)
    if isinstance(stream, RemoteFile) and size:
        stats.bytes_total += size
    try:
        for item in _Scanner(location, stream, hosts, stats, max_bytes).records():
            failures += isinstance(item, PageResult)
            yield item
        complete = True
    except RemoteFileError as exc:
        yield _failure(location, None, "fetch", f"download of {location} broke off: {exc}")
    except OSError as exc:  # the disk, not the archive: FastWARC's own errors are handled in records()
        yield _failure(location, None, "read", f"cannot read {location}: {exc.strerror or exc}")
    finally:
        stats.bytes_done = before.bytes_done + _bytes_read(stream)
        stream.close()
    if complete:
        stats.archives_read += 1
        yield ArchiveRead(
            location=location if is_remote(location) else os.path.abspath(location),
            hosts=hosts.key,
            size=size,
            bytes_read=stats.bytes_done - before.bytes_done,
            records_read=stats.records_read - before.records_read,
            records_kept=stats.records_kept - before.records_kept,
            failures=failures,
            kept_by_host={
                h: n - before.kept_by_host.get(h, 0)
                for h, n in stats.kept_by_host.items()
                if n != before.kept_by_host.get(h, 0)
            },
        )


@dataclass
class ArchiveScan:
    """One archive scanned elsewhere (a Dask worker): what `iter_archive` gave, and its counts."""

    location: str
    items: list[Page | PageResult | ArchiveRead]
    stats: SourceStats


def scan_archive(
    location: str,
    hosts: HostFilter | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    fetch: FetchConfig | None = None,
) -> ArchiveScan:
    """Scan one archive whole and return only what it keeps: its pages (a few in a CC-NEWS file), its
    failures and its marker. Memory holds the kept pages of the one file."""
    stats = SourceStats()
    items = list(iter_archive(location, hosts, stats, max_bytes=max_bytes, fetch=fetch))
    return ArchiveScan(location, items, stats)


def _size(stream: IO[bytes] | RemoteFile) -> int | None:
    if isinstance(stream, RemoteFile):
        return stream.size
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, ValueError):
        return None


def _bytes_read(stream: IO[bytes] | RemoteFile) -> int:
    if isinstance(stream, RemoteFile):
        return stream.received
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, ValueError):
        return 0


class _Damaged(Exception):
    """A record whose bytes are not what its header says: resynchronise from inside it."""

    def __init__(self, offset: int, failure: PageResult) -> None:
        self.offset = offset
        self.failure = failure


class _Corrupt(Exception):
    """The record at ``offset`` cannot be read: skip to the next place a record can start."""

    def __init__(self, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason


class _Scanner:
    """One pass over one archive: records in file order, resynchronising after corrupt stretches."""

    def __init__(
        self, location: str, stream: IO[bytes] | RemoteFile, hosts: HostFilter, stats: SourceStats, max_bytes: int
    ) -> None:
        self.location, self.stream, self.hosts, self.stats = location, stream, hosts, stats
        self.max_bytes = max_bytes
        self.base_done = stats.bytes_done
        self.gzipped = False
        self.last_failed = False  # the last record looked at became a failure
        self.any_record = False  # a record was read: the file is a WARC file, however damaged

    def records(self) -> Iterator[Page | PageResult]:
        self.stream.seek(0)
        self.gzipped = _read_up_to(self.stream, 3) == _GZIP_MAGIC
        position = 0
        corrupt: tuple[int, str] | None = None  # start and cause of a corrupt stretch being skipped
        while True:
            self.stream.seek(position)
            start: int | None = None  # the last record of this attempt
            try:
                for record in ArchiveIterator(self.stream, record_types=_PAGE_TYPES, parse_http=False):
                    start = record.stream_pos
                    self.any_record = True
                    if corrupt is not None:
                        yield self._skipped(corrupt, start)
                        corrupt = None
                    item = self._item(record, start)
                    if item is not None:
                        yield item
            except _Damaged as damaged:
                yield damaged.failure
                resume = self._next_sync_point(damaged.offset + 1)
            except _Corrupt as broken:
                corrupt = corrupt or (broken.offset, broken.reason)
                resume = self._next_sync_point(broken.offset + 1)
            except OSError as exc:  # FastWARC: bad gzip data, a header that is not a WARC header
                if start is None:  # nothing readable from `position` on: a corrupt stretch starts here
                    bad = self._first_unreadable(position)
                    corrupt = corrupt or (bad, _describe(exc))
                    resume = self._next_sync_point(bad + 1)
                else:
                    # It broke after `start`. Go on at the next place a record can start, which may be
                    # inside that record (a Content-Length too large swallows the records after it);
                    # bytes between the record's end and that place are a corrupt stretch.
                    resume = self._next_sync_point(start + 1)
                    end = self._record_end(start)
                    if end is not None and (resume is None or resume > end) and not self._only_padding(end, resume):
                        corrupt = corrupt or (end, _describe(exc))
            else:  # the file's end
                if corrupt is None and start is not None and not self.last_failed:
                    yield from self._check_end(start)
                resume = None
            if resume is None:
                if corrupt is not None:
                    yield self._unfinished(corrupt)
                return
            position = resume

    # -- one record -------------------------------------------------------------------------------
    def _item(self, record: Any, start: int) -> Page | PageResult | None:
        stats = self.stats
        stats.records_read += 1
        stats.bytes_done = self.base_done + start
        self.last_failed = False
        headers = record.headers
        url = headers.get("WARC-Target-URI")
        if url is None:
            self.last_failed = True
            return _failure(self.location, start, "warc", "corrupt record: no WARC-Target-URI (a damaged header)")
        url = url.strip().strip("<>")
        host = self.hosts.host_of(url)
        if host is None:
            stats.records_other_host += 1
            return None
        kind = record.record_type
        if kind == WarcRecordType.revisit:
            stats.records_revisit += 1
            return None
        item = self._page(record, start, url, kind == WarcRecordType.response)
        if isinstance(item, Page):
            stats.kept_by_host[host] = stats.kept_by_host.get(host, 0) + 1
        elif isinstance(item, PageResult):
            self.last_failed = True
        return item

    def _page(self, record: Any, start: int, url: str, is_http: bool) -> Page | PageResult | None:
        declared = _declared_length(record)
        if declared is None:
            return self._fail(start, "corrupt record: no valid Content-Length", url)
        if declared > self.max_bytes:
            # Decide on the HTTP headers alone (a big image is not a failure); the payload stays unread.
            if self._skip_by_http_headers(record, start, is_http):
                return None
            return self._fail(start, f"record too large: {declared:,} bytes, the cap is {self.max_bytes:,}", url)
        try:
            record.freeze()  # the block into memory (at most the cap), so it can be checked, then parsed
            block = record.reader.read()
        except OSError as exc:
            raise _Corrupt(start, _describe(exc)) from exc
        if len(block) < declared:
            return self._fail(start, f"record cut short: {len(block):,} of {declared:,} bytes", url)
        digest = record.headers.get("WARC-Block-Digest")
        if digest and digest.strip().lower().startswith(_DIGESTS):
            record.reader.seek(0)
            if not record.verify_block_digest():
                # Likely a wrong Content-Length that swallowed the next record: look for records inside it.
                reason = "record damaged: its block digest does not match its bytes"
                raise _Damaged(start, _failure(self.location, start, "warc", reason, url))
        record.reader.seek(0)
        http = None
        if is_http:
            try:
                record.parse_http(auto_decode="all")
            except OSError as exc:
                return self._fail(start, _why_unparsed(block, exc), url)
            http = record.http_headers
        if self._skip_by_http_headers(record, start, is_http, parsed=True):
            return None
        try:
            content = record.reader.read(self.max_bytes + 1)  # chunked and gzip/brotli undone
        except OSError as exc:
            return self._fail(start, f"payload does not decode: {_describe(exc)}", url)
        if len(content) > self.max_bytes:
            return self._fail(start, f"record too large: more than {self.max_bytes:,} bytes once decoded", url)
        content_type = _content_type(record, http)
        return Page(
            source=f"{self.location}#{start}",
            source_kind="warc",
            content=content,
            url=url,
            header_charset=charset_from_content_type(content_type),
            fetched_at=_warc_date(record.headers.get("WARC-Date")),
            http_status=http.status_code if http is not None else None,
            etag=http.get("ETag") if http is not None else None,
            last_modified=http.get("Last-Modified") if http is not None else None,
            content_type=content_type,
        )

    def _skip_by_http_headers(self, record: Any, start: int, is_http: bool, *, parsed: bool = False) -> bool:
        """Count (and say True for) a record that is not a page: a non-2xx answer, a non-HTML payload."""
        http = None
        if is_http:
            if not parsed:
                try:
                    record.parse_http()  # the headers only: the payload stays unread
                except OSError:
                    return False  # left for the caller to fail
            http = record.http_headers
        status = http.status_code if http is not None else None
        if status is not None and not 200 <= status < 300:
            self.stats.records_not_ok += 1
            return True
        content_type = _content_type(record, http)
        if content_type and not any(t in content_type.lower() for t in _HTML_TYPES):
            self.stats.records_not_html += 1
            return True
        return False

    def _fail(self, start: int, reason: str, url: str | None) -> PageResult:
        return _failure(self.location, start, "warc", reason, url)

    # -- corrupt stretches and the end of the file ------------------------------------------------
    def _skipped(self, corrupt: tuple[int, str], resume: int) -> PageResult:
        begin, cause = corrupt
        reason = f"corrupt record (skipped {resume - begin:,} bytes to the next record): {cause}"
        return _failure(self.location, begin, "warc", reason)

    def _unfinished(self, corrupt: tuple[int, str]) -> PageResult:
        """The failure for a corrupt stretch that runs to the end of the file."""
        begin, cause = corrupt
        if not self.any_record:
            return self._cut(0, f"not a WARC file: {cause}")
        return self._cut(begin, f"corrupt to the end of the file: {cause}")

    def _cut(self, begin: int, reason: str) -> PageResult:
        return _failure(self.location, begin, "warc", reason)

    def _first_unreadable(self, position: int) -> int:
        """Where, from ``position`` on, the first record that cannot be read starts (the records
        FastWARC passes over are read here too, so the stretch is reported from its true start)."""
        last = None
        self.stream.seek(position)
        try:
            for record in ArchiveIterator(self.stream, parse_http=False):
                last = record.stream_pos
        except OSError:
            pass
        if last is None:
            return position
        return self._record_end(last) or self._next_sync_point(last + 1) or position

    def _only_padding(self, start: int, stop: int | None) -> bool:
        """True when nothing but blank lines lies between ``start`` and ``stop`` (or the file's end)."""
        self.stream.seek(start)
        left = _TAIL_LIMIT if stop is None else stop - start
        while left > 0 and (chunk := self.stream.read(min(_SCAN_CHUNK, left))):
            if chunk.strip(b"\r\n"):
                return False
            left -= len(chunk)
        return True

    def _record_end(self, start: int) -> int | None:
        """Where the record starting at ``start`` ends: the end of its gzip member, or of its block
        (header, a blank line, Content-Length bytes). None when that cannot be told."""
        self.stream.seek(start)
        if self.gzipped:
            inflater = zlib.decompressobj(31)
            consumed = 0
            while not inflater.eof:
                chunk = _read_up_to(self.stream, _SCAN_CHUNK)
                if not chunk:
                    return None
                try:
                    inflater.decompress(chunk)
                except zlib.error:
                    return None
                consumed += len(chunk) - len(inflater.unused_data)
            return start + consumed
        head = _read_up_to(self.stream, _SCAN_CHUNK)
        blank = head.find(b"\r\n\r\n")
        length = _CONTENT_LENGTH.search(head, 0, max(blank, 0))
        if blank < 0 or length is None:
            return None
        end = start + blank + 4 + int(length.group(1))
        self.stream.seek(end)
        after = _read_up_to(self.stream, 4)  # the blank line that closes a record
        return end + len(after) - len(after.lstrip(b"\r\n"))

    def _next_sync_point(self, start: int) -> int | None:
        """Offset of the next place a record can start: a gzip member header, or a ``WARC/1.x`` line.
        A false match (the magic bytes inside compressed data) just fails again and moves on."""
        position = start
        overlap = 16
        while True:
            self.stream.seek(position)
            chunk = _read_up_to(self.stream, _SCAN_CHUNK)
            if self.gzipped:
                found = chunk.find(_GZIP_MAGIC)
                if found >= 0:
                    return position + found
            else:
                match = _WARC_LINE.search(chunk)
                if match:
                    return position + match.start() + (1 if chunk[match.start() : match.start() + 1] == b"\n" else 0)
            if len(chunk) < _SCAN_CHUNK:
                return None
            position += len(chunk) - overlap

    def _check_end(self, start: int) -> Iterator[PageResult]:
        """Did the file end where its last record does? FastWARC stops quietly at a file cut inside a
        record it passes over; read the last record (and whatever follows it) again and check."""
        self.stream.seek(start)
        tail = _read_up_to(self.stream, _TAIL_LIMIT + 1)
        if len(tail) > _TAIL_LIMIT:
            return  # a last record this large was checked while it was read, if it was ours
        where, problem = _gzip_tail_problem(tail) if self.gzipped else _plain_tail_problem(tail)
        if problem:
            yield self._cut(start + where, f"file cut short: {problem}")


def _read_up_to(stream: IO[bytes] | RemoteFile, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the file (a stream may return less per read)."""
    parts = []
    while size > 0 and (chunk := stream.read(min(size, _SCAN_CHUNK))):
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _gzip_tail_problem(tail: bytes) -> tuple[int, str | None]:
    """(offset in ``tail``, what is wrong) for gzip members that do not end whole. Fed in slices, so
    a tail of many small members costs its length, not its length times its members."""
    view = memoryview(tail)
    offset = 0  # where the current member starts
    while not _BLANK.fullmatch(view[offset:]):
        inflater = zlib.decompressobj(31)
        position = offset
        while not inflater.eof:
            piece = view[position : position + _SCAN_CHUNK]
            if not piece:
                return offset, "its last gzip member ends early"
            try:
                inflater.decompress(piece)
            except zlib.error as exc:
                return offset, f"bytes after the last record that are not a gzip member ({exc})"
            position += len(piece)
        offset = position - len(inflater.unused_data)
    return 0, None


def _plain_tail_problem(tail: bytes) -> tuple[int, str | None]:
    """(offset in ``tail``, what is wrong) for records that do not end whole."""
    offset = 0
    try:
        for record in ArchiveIterator(io.BytesIO(tail), parse_http=False):
            offset = record.stream_pos
            declared = _declared_length(record)
            got = len(record.reader.read())
            if declared is None or got < declared:
                return offset, f"its last record has {got:,} of {declared if declared is not None else '?'} bytes"
    except OSError as exc:
        return offset, f"bytes after the last record that are not a record ({_describe(exc)})"
    return 0, None


def _why_unparsed(block: bytes, exc: OSError) -> str:
    """FastWARC starts decoding as it parses the HTTP headers: say which of the two failed."""
    head, blank, _ = block.partition(b"\r\n\r\n")
    if blank and head.startswith(b"HTTP/"):
        return f"payload does not decode: {_describe(exc)}"
    return f"unreadable HTTP headers: {_describe(exc)}"


def _declared_length(record: Any) -> int | None:
    value = record.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _content_type(record: Any, http: Any) -> str | None:
    value = http.get("Content-Type") if http is not None else record.headers.get("Content-Type")
    return str(value) if value is not None else None


def _failure(location: str, offset: int | None, stage: str, reason: str, url: str | None = None) -> PageResult:
    source = location if offset is None else f"{location}#{offset}"
    return PageResult(source=source, page_sha256=None, stage=stage, reason=reason, url=url)


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    text = " ".join("".join(c if c.isprintable() else "?" for c in str(exc)).split())
    text = text[:100] + ("…" if len(text) > 100 else "")
    if "gzip" in text.lower() or "deflate" in text.lower():
        return f"bad gzip data ({text})"
    return text or type(exc).__name__
