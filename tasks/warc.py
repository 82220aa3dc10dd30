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
- records that are not pages of the wanted hosts (other sites, revisits, images, redirects) are
  counted, not failed.

A damaged file (corrupt stretches, a record longer than its file, a copy cut short) is walked by
`tasks/warc_recovery.py`, which resynchronises on the next record and checks the file's end.

Records are streamed one at a time, so memory stays flat however large the file. warcio is not used to
read; the tests and the benchmark write their archives with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlsplit

from fastwarc.warc import WarcRecordType

from breaknews.tasks.decode import charset_from_content_type
from breaknews.tasks.http import DEFAULT_MAX_BYTES, FetchConfig
from breaknews.tasks.identify import SITE_DOMAIN, host_family
from breaknews.tasks.remote import RemoteFile, RemoteFileError, is_remote
from breaknews.tasks.warc_recovery import Corrupt, Damaged, declared_length, describe, failure, walk_records
from breaknews.warehouse.models import ArchiveRead, Page, PageResult, SourceStats

_HTML_TYPES = ("text/html", "application/xhtml+xml")
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
        yield failure(location, None, "read", f"cannot read {location}: {exc.strerror or exc}")
        return
    except RemoteFileError as exc:
        yield failure(location, None, "fetch", f"cannot fetch {location}: {exc}")
        return
    failures = 0
    complete = False
    size = _size(stream)
    if isinstance(stream, RemoteFile) and size:
        stats.bytes_total += size
    try:
        reader = _RecordReader(location, hosts, stats, max_bytes)
        for item in walk_records(location, stream, _PAGE_TYPES, reader.read):
            failures += isinstance(item, PageResult)
            yield item
        complete = True
    except RemoteFileError as exc:
        yield failure(location, None, "fetch", f"download of {location} broke off: {exc}")
    except OSError as exc:  # the disk, not the archive: FastWARC's own errors are handled by the walk
        yield failure(location, None, "read", f"cannot read {location}: {exc.strerror or exc}")
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


class _RecordReader:
    """One record of an archive: which records are pages of the wanted hosts, and each read into a
    Page (or a failure), counted in ``stats`` as it goes."""

    def __init__(self, location: str, hosts: HostFilter, stats: SourceStats, max_bytes: int) -> None:
        self.location, self.hosts, self.stats = location, hosts, stats
        self.max_bytes = max_bytes
        self.base_done = stats.bytes_done

    def read(self, record: Any, start: int) -> Page | PageResult | None:
        """The record at ``start`` as a page, a failure, or None (passed over, and counted)."""
        stats = self.stats
        stats.records_read += 1
        stats.bytes_done = self.base_done + start
        headers = record.headers
        url = headers.get("WARC-Target-URI")
        if url is None:
            return failure(self.location, start, "warc", "corrupt record: no WARC-Target-URI (a damaged header)")
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
        return item

    def _page(self, record: Any, start: int, url: str, is_http: bool) -> Page | PageResult | None:
        declared = declared_length(record)
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
            raise Corrupt(start, describe(exc)) from exc
        if len(block) < declared:
            return self._fail(start, f"record cut short: {len(block):,} of {declared:,} bytes", url)
        digest = record.headers.get("WARC-Block-Digest")
        if digest and digest.strip().lower().startswith(_DIGESTS):
            record.reader.seek(0)
            if not record.verify_block_digest():
                # Likely a wrong Content-Length that swallowed the next record: look for records inside it.
                reason = "record damaged: its block digest does not match its bytes"
                raise Damaged(start, failure(self.location, start, "warc", reason, url))
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
            return self._fail(start, f"payload does not decode: {describe(exc)}", url)
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
        return failure(self.location, start, "warc", reason, url)


def _why_unparsed(block: bytes, exc: OSError) -> str:
    """FastWARC starts decoding as it parses the HTTP headers: say which of the two failed."""
    head, blank, _ = block.partition(b"\r\n\r\n")
    if blank and head.startswith(b"HTTP/"):
        return f"payload does not decode: {describe(exc)}"
    return f"unreadable HTTP headers: {describe(exc)}"


def _content_type(record: Any, http: Any) -> str | None:
    value = http.get("Content-Type") if http is not None else record.headers.get("Content-Type")
    return str(value) if value is not None else None


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None
