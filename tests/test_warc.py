"""Pages from WARC files: archives written here with warcio's own writer, plain and gzip per record."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.tasks.warc import HostFilter, iter_warc
from breaknews.warehouse.models import Page, PageResult, SourceStats
from tests.conftest import fixture_page, rows

EUCKR = fixture_page("old-euckr").read_bytes()  # www:223140, an EUC-KR page of the old skin
MODERN = fixture_page("modern-nomarker").read_bytes()  # www:1063590
HONAM = fixture_page("other-host").read_bytes()  # honam:48217
MARKER = fixture_page("modern-marker1").read_bytes()
WWW = "https://www.breaknews.com"


def _response(writer: WARCWriter, url: str, body: bytes, content_type: str, status: str = "200 OK", extra=()) -> int:
    headers = [("Content-Type", content_type), *extra]
    if not any(name == "Transfer-Encoding" for name, _ in extra):
        headers.append(("Content-Length", str(len(body))))
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    request = writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), http_headers=StatusAndHeaders(f"GET {url} HTTP/1.1", [])
    )
    writer.write_record(request)
    offset = writer.out.tell()
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return offset


def _chunked_gzip(body: bytes) -> bytes:
    packed = gzip.compress(body)
    half = len(packed) // 2
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (packed[:half], packed[half:])) + b"0\r\n\r\n"


def write_archive(path: Path, *, gzipped: bool) -> dict[str, int]:
    """An archive with every kind of record; returns the offsets of the records the tests break."""
    offsets: dict[str, int] = {}
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzipped)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "breaknews tests"}))
        _response(writer, f"{WWW}/223140", EUCKR, "text/html; charset=euc-kr")
        _response(writer, "https://www.example.com/news/1", MODERN, "text/html; charset=utf-8")
        _response(writer, f"{WWW}/data/photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
        _response(writer, f"{WWW}/404404", b"<html>gone</html>", "text/html", status="404 Not Found")
        revisit = writer.create_revisit_record(
            f"{WWW}/223140",
            digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            refers_to_uri=f"{WWW}/223140",
            refers_to_date="2024-01-01T00:00:00Z",
        )
        writer.write_record(revisit)
        offsets["corrupt"] = _response(
            writer, f"{WWW}/1063590", MODERN, "text/html; charset=utf-8"
        )  # broken by the tests
        resource = writer.create_warc_record(
            "https://honam.breaknews.com/48217",
            "resource",
            payload=io.BytesIO(HONAM),
            warc_content_type="text/html; charset=utf-8",
        )
        writer.write_record(resource)
        _response(
            writer,
            f"{WWW}/1063522",
            _chunked_gzip(MARKER),
            "text/html; charset=utf-8",
            extra=(("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip"), ("ETag", '"v1"')),
        )
        offsets["last"] = _response(
            writer, f"{WWW}/1063591", MODERN.replace(b"1063590", b"1063591"), "text/html; charset=utf-8"
        )
    return offsets


def break_archive(path: Path, offsets: dict[str, int]) -> None:
    """Corrupt a record in the middle and cut the last record short, as a failed copy would."""
    data = bytearray(path.read_bytes())
    start = offsets["corrupt"] + 40
    data[start : start + 64] = b"\x00" * 64
    cut = offsets["last"] + (len(data) - offsets["last"]) * 2 // 3
    path.write_bytes(bytes(data[:cut]))


def read_all(path: Path, hosts: HostFilter | None = None) -> tuple[list[Page], list[PageResult], SourceStats]:
    stats = SourceStats()
    items = list(iter_warc(str(path), hosts, stats))
    pages = [i for i in items if isinstance(i, Page)]
    failures = [i for i in items if isinstance(i, PageResult)]
    assert len(pages) + len(failures) == len(items)
    return pages, failures, stats


@pytest.mark.parametrize("gzipped", [True, False], ids=["warc.gz", "warc"])
def test_a_whole_archive_yields_its_breaknews_pages_and_counts_the_rest(tmp_path, gzipped):
    path = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    write_archive(path, gzipped=gzipped)
    pages, failures, stats = read_all(path)
    assert failures == []
    assert [p.url for p in pages] == [
        f"{WWW}/223140",
        f"{WWW}/1063590",
        "https://honam.breaknews.com/48217",
        f"{WWW}/1063522",
        f"{WWW}/1063591",
    ]
    euckr, _, honam, chunked, _ = pages
    assert euckr.content == EUCKR and euckr.header_charset == "euc-kr" and euckr.http_status == 200
    assert euckr.source_kind == "warc" and euckr.source.startswith(f"{path}#")
    assert euckr.fetched_at is not None and euckr.fetched_at.tzinfo is not None
    assert honam.content == HONAM and honam.http_status is None  # a resource record: no HTTP
    assert chunked.content == MARKER and chunked.etag == '"v1"'  # chunked and gzip undone
    assert stats.counts() == {
        "records_read": 9,
        "records_other_host": 1,
        "records_revisit": 1,
        "records_not_html": 1,
        "records_not_ok": 1,
    }
    assert stats.bytes_done == path.stat().st_size


def test_host_option_narrows_and_widens(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    write_archive(path, gzipped=True)
    pages, _, stats = read_all(path, HostFilter(("honam.breaknews.com",)))
    assert [p.url for p in pages] == ["https://honam.breaknews.com/48217"]
    assert stats.records_other_host == 8  # the revisit is of another host now, so counted as such
    pages, _, stats = read_all(path, HostFilter(("example.com", "breaknews.com")))
    assert "https://www.example.com/news/1" in [p.url for p in pages]
    assert stats.records_other_host == 0
    assert len(read_all(path, HostFilter(("*",)))[0]) == 6


@pytest.mark.parametrize("gzipped", [True, False], ids=["warc.gz", "warc"])
def test_a_corrupt_record_and_a_cut_last_record_fail_alone(tmp_path, gzipped):
    path = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    break_archive(path, write_archive(path, gzipped=gzipped))
    pages, failures, _ = read_all(path)
    # Records after the corrupt one are still read; the cut one never becomes a page.
    assert [p.url for p in pages] == [f"{WWW}/223140", "https://honam.breaknews.com/48217", f"{WWW}/1063522"]
    assert len(failures) == 2, failures
    corrupt, cut = failures
    assert all(f.stage == "warc" and f.page_sha256 is None for f in failures)
    assert corrupt.source.startswith(f"{path}#") and "corrupt" in (corrupt.reason or "")
    assert "cut short" in (cut.reason or "")


def test_an_unreadable_file_is_a_read_failure(tmp_path):
    missing = tmp_path / "gone.warc.gz"
    [failure] = list(iter_warc(str(missing)))
    assert failure.stage == "read" and "cannot read" in (failure.reason or "")


@pytest.mark.usefixtures("prefect_api")
def test_ingest_of_a_broken_archive_loads_whole_articles_and_records_the_rest(db_path, tmp_path):
    folder = tmp_path / "crawls"
    folder.mkdir()
    path = folder / "crawl.warc.gz"
    break_archive(path, write_archive(path, gzipped=True))
    (folder / "saved.html").write_bytes(fixture_page("modern-marker2").read_bytes())  # folders mix both
    summary = ingest_pages(paths=[str(folder)], db=str(db_path), workers=1)
    assert summary.status == "completed"
    articles = rows(db_path, "SELECT article_id FROM articles ORDER BY article_id")
    assert ("www:223140",) in articles and ("honam:48217",) in articles and ("www:1063522",) in articles
    assert ("www:1063590",) not in articles and ("www:1063591",) not in articles  # no half articles
    assert len(articles) == 4
    assert rows(db_path, "SELECT title_ko FROM articles WHERE article_id = 'www:223140'") == [
        ('폭염 속 전력수요 사상 최고치…정부 "절전 동참" 호소',)
    ]
    [euckr] = rows(
        db_path,
        "SELECT source_kind, url, charset, charset_source, http_status FROM raw_pages"
        " WHERE url = 'https://www.breaknews.com/223140'",
    )
    assert euckr == ("warc", f"{WWW}/223140", "cp949", "header", 200)
    failures = rows(db_path, "SELECT source, stage, reason FROM ingest_failures ORDER BY source")
    assert [(s.split("#")[0], stage) for s, stage, _ in failures] == [(str(path), "warc")] * 2
    [run] = rows(
        db_path,
        "SELECT failures, records_read, records_other_host, records_revisit, records_not_html, records_not_ok"
        " FROM ingest_runs",
    )
    assert run == (2, 8, 1, 1, 1, 1)
    assert summary.source_counts["records_revisit"] == 1


@pytest.mark.usefixtures("prefect_api")
def test_cli_reads_archives_with_a_host_filter_and_prints_skip_counts(db_path, tmp_path, capsys):
    path = tmp_path / "crawl.warc"
    write_archive(path, gzipped=False)
    assert main(["ingest", str(path), "--db", str(db_path), "--host", "honam.breaknews.com", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "warc records: 9 read; skipped 8 of other hosts, 0 revisits, 0 not HTML, 0 not HTTP 2xx" in out
    assert rows(db_path, "SELECT article_id FROM articles") == [("honam:48217",)]


def _record_offsets(path: Path) -> list[tuple[int, str | None]]:
    from fastwarc.warc import ArchiveIterator

    with open(path, "rb") as handle:
        return [(r.stream_pos, r.headers.get("WARC-Target-URI")) for r in ArchiveIterator(handle, parse_http=False)]


def _damage(data: bytes, offsets: dict[str, int], how: str, path: Path) -> bytes:
    starts = [start for start, _ in _record_offsets(path)]
    corrupt = offsets["corrupt"]
    end = min(s for s in starts if s > corrupt)
    if how == "digest":  # one byte of the page changed: the record still parses
        spot = end - 200
        return data[:spot] + bytes([data[spot] ^ 0x20]) + data[spot + 1 :]
    if how == "version-line":  # the record's first line destroyed
        return data[:corrupt] + b"XXXX" + data[corrupt + 4 :]
    # how == "member": the record's gzip member ends early, and the next member follows
    return data[: corrupt + (end - corrupt) // 2] + data[end:]


@pytest.mark.parametrize(
    ("how", "gzipped", "reason"),
    [
        ("digest", False, "block digest does not match"),
        ("version-line", False, "corrupt record"),
        ("member", True, "corrupt record"),
    ],
)
def test_a_damaged_record_fails_alone_and_reading_goes_on(tmp_path, how, gzipped, reason):
    path = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    offsets = write_archive(path, gzipped=gzipped)
    path.write_bytes(_damage(path.read_bytes(), offsets, how, path))
    pages, failures, stats = read_all(path)
    assert [p.url for p in pages] == [
        f"{WWW}/223140",
        "https://honam.breaknews.com/48217",
        f"{WWW}/1063522",
        f"{WWW}/1063591",
    ]
    [failure] = failures
    assert failure.stage == "warc" and reason in (failure.reason or "")
    assert failure.source == f"{path}#{offsets['corrupt']}"  # where the damaged record starts
    assert stats.archives_read == 1  # read to its end


@pytest.mark.parametrize("gzipped", [True, False], ids=["warc.gz", "warc"])
def test_a_file_cut_inside_another_hosts_record_is_noticed(tmp_path, gzipped):
    path = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    write_archive(path, gzipped=gzipped)
    records = _record_offsets(path)
    other = next(i for i, (_, url) in enumerate(records) if url and "example.com" in url)
    cut = records[other][0] + (records[other + 1][0] - records[other][0]) // 2
    path.write_bytes(path.read_bytes()[:cut])
    pages, failures, stats = read_all(path)
    assert [p.url for p in pages] == [f"{WWW}/223140"]
    [failure] = failures
    assert failure.stage == "warc" and "cut short" in (failure.reason or ""), failure
    assert failure.source == f"{path}#{records[other][0]}"  # the record the file ends in
    assert stats.archives_read == 1


def _capped_archive(path: Path) -> None:
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        undecodable = b"\x1f\x8b\x08\x00" + bytes(range(256)) * 80  # says gzip, is not: 20 KB
        _response(writer, f"{WWW}/1063522", undecodable, "text/html", extra=(("Content-Encoding", "gzip"),))
        _response(writer, f"{WWW}/data/big.jpg", b"\xff\xd8" * 10_000, "image/jpeg")
        _response(writer, f"{WWW}/1063590", MODERN, "text/html; charset=utf-8")  # 14 KB


def test_a_record_over_the_byte_cap_fails_before_its_payload_is_parsed(tmp_path):
    path = tmp_path / "big.warc.gz"
    _capped_archive(path)
    cap = len(MODERN) + 400
    stats = SourceStats()
    too_large, page = iter_warc(str(path), None, stats, max_bytes=cap)
    assert too_large.stage == "warc" and too_large.url == f"{WWW}/1063522"
    assert too_large.reason.startswith("record too large: 20,") and f"the cap is {cap:,}" in too_large.reason
    assert isinstance(page, Page) and page.url == f"{WWW}/1063590"
    assert stats.records_not_html == 1  # an image over the cap is no failure: it is no page
    # Under the default cap the same record is parsed, and its payload fails to decode: the cap came first.
    undecodable, _ = iter_warc(str(path))
    assert "does not decode" in undecodable.reason


@pytest.mark.usefixtures("prefect_api")
def test_cli_max_bytes_applies_to_archive_records(db_path, tmp_path, capsys):
    path = tmp_path / "big.warc.gz"
    _capped_archive(path)
    assert main(["ingest", str(path), "--db", str(db_path), "--max-bytes", "2000", "--workers", "1"]) == 0
    failures = rows(db_path, "SELECT stage, reason FROM ingest_failures ORDER BY source")
    assert [stage for stage, _ in failures] == ["warc", "warc"]
    assert all("the cap is 2,000" in reason for _, reason in failures)
    assert rows(db_path, "SELECT count(*) FROM articles") == [(0,)]


def test_a_file_that_is_no_warc_is_one_failure(tmp_path):
    path = tmp_path / "page.warc.gz"
    path.write_bytes(fixture_page("modern-marker1").read_bytes())  # an HTML page, misnamed
    pages, failures, stats = read_all(path)
    assert pages == [] and len(failures) == 1 and stats.archives_read == 1  # read to its end: nothing more in it
    assert failures[0].stage == "warc" and failures[0].reason.startswith("not a WARC file")
