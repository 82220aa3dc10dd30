"""Read (stage 1) against what people really point it at: FIFOs, sockets and devices among the pages,
and pages far larger than any article."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tracemalloc

import pytest

from breaknews.flows.cli import main
from breaknews.tasks.errors import ReadError
from breaknews.tasks.read import read_page_file
from tests.conftest import SAMPLES, rows

PAGE = SAMPLES / "breaknews.187306.html"
_MEASURED = """
import resource, sys
from breaknews.flows.cli import main
code = main(sys.argv[1:])
print(f"peak-rss-mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}", file=sys.stderr)
sys.exit(code)
"""


def test_ingest_skips_and_counts_what_is_not_a_regular_file_and_refuses_huge_pages(shared_prefect_env, tmp_path):
    """A real `breaknews ingest` on a folder holding a FIFO, a socket and a device named like pages,
    plus a FIFO named on the command line: nothing blocks (a FIFO opened to read waits for a writer
    forever), the four are skipped unopened and counted. A 20 MB one-line page fails before parsing."""
    folder = tmp_path / "pages"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.html").write_bytes(PAGE.read_bytes())
    os.mkfifo(folder / "sub" / "fifo.html")
    (folder / "zero.html").symlink_to("/dev/zero")  # endless bytes: reading it would never finish
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / "socket.html"))
    named_fifo = tmp_path / "named.html"
    os.mkfifo(named_fifo)
    (folder / "huge.html").write_text("<html><body><p>" + "가" * 7_000_000 + "</p></body></html>", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "ingest", str(folder), str(named_fifo), "--db", str(db)],
        env=shared_prefect_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    listener.close()
    assert done.returncode == 0, done.stderr
    assert "not files:    4 skipped unopened" in done.stdout
    for name in ("fifo.html", "zero.html", "socket.html", "named.html"):
        assert name in done.stdout
    assert "[read]" in done.stdout and "huge.html: page too large: 21,000,033 bytes" in done.stdout
    assert rows(db, "SELECT files_not_regular, pages_seen, articles_new, failures FROM ingest_runs") == [(4, 2, 1, 1)]
    assert rows(db, "SELECT stage, page_sha256 FROM ingest_failures") == [("read", None)]  # no bytes kept
    # Before, this page alone took the run to 875 MB; now it is never read, let alone parsed.
    peak = int(done.stderr.rsplit("peak-rss-mib ", 1)[1].split()[0])
    assert peak < 500, f"peak RSS {peak} MiB"


def test_a_page_file_is_refused_unread_when_special_or_too_large(tmp_path):
    """The guard at the read itself, for a path that changed after the listing (or a library caller)."""
    big = tmp_path / "big.html"
    big.write_bytes(b"<p>" + b"x" * 20_000_000)
    tracemalloc.start()
    with pytest.raises(ReadError, match="page too large: 20,000,003 bytes, the cap is 10,485,760"):
        read_page_file(str(big), max_bytes=10 * 1024 * 1024)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000  # nothing of it was read
    fifo = tmp_path / "fifo.html"
    os.mkfifo(fifo)
    with pytest.raises(ReadError, match="is a FIFO, not a page file"):
        read_page_file(str(fifo))  # opened without blocking, refused before any read
    with pytest.raises(ReadError, match="is a character device"):
        read_page_file("/dev/zero", max_bytes=1000)
    with pytest.raises(ReadError, match="is a folder"):
        read_page_file(str(tmp_path))
    assert read_page_file(str(PAGE), max_bytes=PAGE.stat().st_size).content == PAGE.read_bytes()


@pytest.mark.usefixtures("prefect_api")
def test_max_bytes_applies_to_page_files(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(PAGE), "--db", str(db), "--max-bytes", "1000"]) == 0
    out = capsys.readouterr().out
    assert "[read]" in out and "the cap is 1,000 (--max-bytes)" in out
    assert rows(db, "SELECT count(*) FROM articles") == [(0,)]
    assert main(["ingest", str(PAGE), "--db", str(db)]) == 0  # the default cap (10 MiB) lets it in
    assert rows(db, "SELECT count(*) FROM articles") == [(1,)]


@pytest.mark.usefixtures("prefect_api")
def test_an_empty_folder_completes_and_says_it_found_no_pages(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a page")
    assert main(["ingest", str(tmp_path / "empty"), "--db", str(tmp_path / "w.duckdb")]) == 0
    captured = capsys.readouterr()
    assert "pages seen:   0" in captured.out
    assert captured.err.startswith("breaknews: no pages found in ") and ".html, .htm" in captured.err
    assert main(["ingest", str(PAGE), "--db", str(tmp_path / "w.duckdb")]) == 0
    assert "no pages found" not in capsys.readouterr().err
