"""Read (stage 1), from web archives: walking a WARC file's records in order when the file may be
damaged. The records themselves are chosen and read by `tasks/warc.py`; this module finds where a
damaged record ends, resynchronises, and checks the file's end.

What FastWARC does not do for us, and this module adds:

- a corrupt stretch (a broken gzip member, bytes that are not a record) does not end the file: reading
  resumes at the next gzip member (``.warc.gz``) or the next ``WARC/1.`` line (plain ``.warc``), and the
  bytes in between are recorded as one failure (stage ``warc``);
- a record whose bytes are not what its header says (`Damaged`: its digest does not match, likely a
  wrong Content-Length that swallowed the next record) is failed by the reader, and the walk goes on
  from inside it;
- a file that ends inside a record (a copy cut short), whoever's record it is, is noticed at its end.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from fastwarc.warc import ArchiveIterator, WarcRecordType

from breaknews.tasks.remote import RemoteFile
from breaknews.warehouse.models import Page, PageResult

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")
_BLANK = re.compile(rb"[\r\n\x00 ]*")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")
_SCAN_CHUNK = 1 << 20
_TAIL_LIMIT = 64 << 20  # the end-of-file check reads at most this much again

# Reads one record (FastWARC's, at its offset): a page, a failure, or None for a record passed over.
ReadRecord = Callable[[Any, int], Page | PageResult | None]


class Damaged(Exception):
    """A record whose bytes are not what its header says: resynchronise from inside it."""

    def __init__(self, offset: int, failure: PageResult) -> None:
        self.offset = offset
        self.failure = failure


class Corrupt(Exception):
    """The record at ``offset`` cannot be read: skip to the next place a record can start."""

    def __init__(self, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason


def walk_records(
    location: str, stream: IO[bytes] | RemoteFile, record_types: WarcRecordType, read_record: ReadRecord
) -> Iterator[Page | PageResult]:
    """What ``read_record`` makes of the records of ``record_types`` (FastWARC passes over the others),
    in file order, with a failure for each corrupt stretch skipped and for a file cut short."""
    return _Walk(location, stream).records(record_types, read_record)


class _Walk:
    """One pass over one archive: records in file order, resynchronising after corrupt stretches."""

    def __init__(self, location: str, stream: IO[bytes] | RemoteFile) -> None:
        self.location, self.stream = location, stream
        self.gzipped = False
        self.any_record = False  # a record was read: the file is a WARC file, however damaged

    def records(self, record_types: WarcRecordType, read_record: ReadRecord) -> Iterator[Page | PageResult]:
        self.stream.seek(0)
        self.gzipped = _read_up_to(self.stream, 3) == _GZIP_MAGIC
        position = 0
        corrupt: tuple[int, str] | None = None  # start and cause of a corrupt stretch being skipped
        last_failed = False  # the last record looked at became a failure
        while True:
            self.stream.seek(position)
            start: int | None = None  # the last record of this attempt
            try:
                for record in ArchiveIterator(self.stream, record_types=record_types, parse_http=False):
                    start = record.stream_pos
                    self.any_record = True
                    if corrupt is not None:
                        yield self._skipped(corrupt, start)
                        corrupt = None
                    last_failed = False
                    item = read_record(record, start)
                    if item is not None:
                        last_failed = isinstance(item, PageResult)
                        yield item
            except Damaged as damaged:
                yield damaged.failure
                resume = self._next_sync_point(damaged.offset + 1)
            except Corrupt as broken:
                corrupt = corrupt or (broken.offset, broken.reason)
                resume = self._next_sync_point(broken.offset + 1)
            except OSError as exc:  # FastWARC: bad gzip data, a header that is not a WARC header
                if start is None:  # nothing readable from `position` on: a corrupt stretch starts here
                    bad = self._first_unreadable(position)
                    corrupt = corrupt or (bad, describe(exc))
                    resume = self._next_sync_point(bad + 1)
                else:
                    # It broke after `start`. Go on at the next place a record can start, which may be
                    # inside that record (a Content-Length too large swallows the records after it);
                    # bytes between the record's end and that place are a corrupt stretch.
                    resume = self._next_sync_point(start + 1)
                    end = self._record_end(start)
                    if end is not None and (resume is None or resume > end) and not self._only_padding(end, resume):
                        corrupt = corrupt or (end, describe(exc))
            else:  # the file's end
                if corrupt is None and start is not None and not last_failed:
                    yield from self._check_end(start)
                resume = None
            if resume is None:
                if corrupt is not None:
                    yield self._unfinished(corrupt)
                return
            position = resume

    # -- the failures of a damaged file -----------------------------------------------------------
    def _skipped(self, corrupt: tuple[int, str], resume: int) -> PageResult:
        begin, cause = corrupt
        reason = f"corrupt record (skipped {resume - begin:,} bytes to the next record): {cause}"
        return failure(self.location, begin, "warc", reason)

    def _unfinished(self, corrupt: tuple[int, str]) -> PageResult:
        """The failure for a corrupt stretch that runs to the end of the file."""
        begin, cause = corrupt
        if not self.any_record:
            return self._cut(0, f"not a WARC file: {cause}")
        return self._cut(begin, f"corrupt to the end of the file: {cause}")

    def _cut(self, begin: int, reason: str) -> PageResult:
        return failure(self.location, begin, "warc", reason)

    # -- where records start and end --------------------------------------------------------------
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

    # -- the end of the file ----------------------------------------------------------------------
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
            declared = declared_length(record)
            got = len(record.reader.read())
            if declared is None or got < declared:
                return offset, f"its last record has {got:,} of {declared if declared is not None else '?'} bytes"
    except OSError as exc:
        return offset, f"bytes after the last record that are not a record ({describe(exc)})"
    return 0, None


# -- reading a stream; what the record reader uses too --------------------------------------------
def _read_up_to(stream: IO[bytes] | RemoteFile, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the file (a stream may return less per read)."""
    parts = []
    while size > 0 and (chunk := stream.read(min(size, _SCAN_CHUNK))):
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def declared_length(record: Any) -> int | None:
    """The record's Content-Length, None when it has none or it is no number."""
    value = record.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def failure(location: str, offset: int | None, stage: str, reason: str, url: str | None = None) -> PageResult:
    """A failure of the archive at ``location`` (of its record at ``offset``, when given)."""
    source = location if offset is None else f"{location}#{offset}"
    return PageResult(source=source, page_sha256=None, stage=stage, reason=reason, url=url)


def describe(exc: BaseException) -> str:
    """An error of FastWARC or zlib in a few printable words."""
    text = " ".join("".join(c if c.isprintable() else "?" for c in str(exc)).split())
    text = text[:100] + ("…" if len(text) > 100 else "")
    if "gzip" in text.lower() or "deflate" in text.lower():
        return f"bad gzip data ({text})"
    return text or type(exc).__name__
