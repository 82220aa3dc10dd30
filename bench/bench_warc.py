"""WARC ingest vs folder ingest of the same pages, measured in the same run.

    .venv/bin/python bench/bench_warc.py [PAGES]     (default 5,000)

Writes PAGES distinct pages (tests/sitegen.py) to a folder and the same pages, as HTTP response
records, to one .warc.gz; ingests each into a fresh warehouse with in-process flow calls inside one
`prefect_test_harness` (so both pay the same Prefect API), and prints the WARC/folder wall-time ratio
(goal ≤ 1.1). Also times a bare read of the archive with breaknews' reader (`tasks/warc.py`, FastWARC
with digest and length checks) and with FastWARC alone.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.sitegen import write_corpus


def write_warc(pages: list[Path], target: Path) -> None:
    with open(target, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for page in pages:
            body = page.read_bytes()
            uid = page.name.split(".")[1]
            charset = "euc-kr" if b"euc-kr" in body[:2048].lower() else "utf-8"
            http = StatusAndHeaders(
                "200 OK",
                [("Content-Type", f"text/html; charset={charset}"), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            url = f"https://www.breaknews.com/{uid}"
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))


def read_with_reader(path: Path) -> int:
    from breaknews.tasks.warc import iter_warc

    return sum(len(getattr(item, "content", b"")) for item in iter_warc(str(path)))


def read_with_fastwarc(path: Path) -> int | None:
    try:
        from fastwarc.warc import ArchiveIterator, WarcRecordType
    except ImportError:
        return None
    total = 0
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle, record_types=WarcRecordType.response, auto_decode="all"):
            total += len(record.reader.read())
    return total


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pages = write_corpus(root / "pages", count)
        archive = root / "pages.warc.gz"
        write_warc(pages, archive)
        folder_mb = sum(p.stat().st_size for p in pages) / 1e6
        print(f"{count} pages, {folder_mb:.1f} MB as files, {archive.stat().st_size / 1e6:.1f} MB as one .warc.gz")

        t_reader, _ = timed(read_with_reader, archive)
        t_fast, n2 = timed(read_with_fastwarc, archive)
        print(f"bare read, tasks/warc.py (FastWARC, digest and length checks): {t_reader:.2f} s")
        if n2 is not None:
            print(f"bare read, fastwarc (no checks):                               {t_fast:.2f} s")

        from prefect.testing.utilities import prefect_test_harness

        from breaknews.flows.ingest import ingest_pages

        with prefect_test_harness(server_startup_timeout=120):
            t_folder, s_folder = timed(ingest_pages, paths=[str(root / "pages")], db=str(root / "folder.duckdb"))
            t_warc, s_warc = timed(ingest_pages, paths=[str(archive)], db=str(root / "warc.duckdb"))
        for name, summary in (("folder", s_folder), ("warc", s_warc)):
            c = summary.counts
            assert c.articles_new == count, (name, c)
        print(f"ingest from the folder:   {t_folder:.1f} s")
        print(f"ingest from the .warc.gz: {t_warc:.1f} s")
        print(f"WARC / folder wall time: {t_warc / t_folder:.2f}x (goal <= 1.1x)")
        print(f"bare read share of the WARC ingest: {t_reader / t_warc:.1%}")


if __name__ == "__main__":
    main()
