"""Archives from Common Crawl: WARC files by URL and by path list, streamed from a loopback server,
resumed after a dropped connection, recorded when read whole, skipped by the next run, and scanned on
Dask workers. The files are small CC-NEWS-like archives (`tests/ccnews.py`): 40 responses of other
hosts, each with its request and metadata record, and 3 BreakNews articles among them."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import time

import pytest

from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.flows.runners import ingest_flow
from breaknews.tasks.http import FetchConfig
from breaknews.tasks.read import read_warc_list
from breaknews.tasks.remote import CHUNK, RemoteFile, RemoteFileError
from tests.archive_server import ArchiveServer
from tests.ccnews import write_ccnews
from tests.conftest import EXE, poll_count, rows

MONTH = "crawl-data/CC-NEWS/2024/03"
FAST = FetchConfig(rate=0, retries=1, backoff_base=0.01)  # loopback: no rate limit, quick retries
ARCHIVES = "SELECT location, size, records_read, records_kept, failures FROM archive_files ORDER BY location"


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ccnews")
    return [
        write_ccnews(
            folder / f"CC-NEWS-2024030{n}000000-0000{n}.warc.gz",
            responses=40,
            breaknews=3,
            seed=n,
            first_uid=5_000_000 + 100 * n,
            paragraphs=(3, 6),
        )
        for n in range(3)
    ]


@pytest.fixture
def server(month):
    with ArchiveServer() as served:
        _serve(served, month)
        yield served


def _serve(served: ArchiveServer, month) -> None:
    for made in month:
        served.put(f"{MONTH}/{made.path.name}", made.path.read_bytes())
    listing = "".join(f"{MONTH}/{made.path.name}\n" for made in month)
    served.put(f"{MONTH}/warc.paths.gz", gzip.compress(listing.encode()))


def _url(server: ArchiveServer, made) -> str:
    return server.url(f"{MONTH}/{made.path.name}")


def _ids(month) -> list[tuple[str]]:
    return sorted((article_id,) for made in month for article_id in made.article_ids)


def test_a_warc_url_is_streamed_and_gives_what_the_file_gives(prefect_api, server, month, tmp_path):
    url = _url(server, month[0])
    by_url = ingest_pages(paths=[url], db=str(tmp_path / "url.duckdb"), fetch=FAST)
    by_file = ingest_pages(paths=[str(month[0].path)], db=str(tmp_path / "file.duckdb"))
    assert by_url.status == by_file.status == "completed"
    query = "SELECT article_id, content_sha256, title_ko FROM articles ORDER BY article_id"
    assert rows(tmp_path / "url.duckdb", query) == rows(tmp_path / "file.duckdb", query)
    assert rows(tmp_path / "url.duckdb", "SELECT article_id FROM articles ORDER BY 1") == _ids(month[:1])
    size = month[0].path.stat().st_size
    assert rows(tmp_path / "url.duckdb", ARCHIVES) == [(url, size, 43, 3, 0)]
    [source] = rows(tmp_path / "url.duckdb", "SELECT DISTINCT split_part(source, '#', 1) FROM raw_pages")
    assert source == (url,)
    [request] = [r for r in server.requests if r.path.endswith(month[0].path.name)]
    assert request.range is None and (request.user_agent or "").startswith("breaknews/")
    assert by_url.source_counts["bytes_read"] == size and by_url.kept_by_host  # the host check kept ours only
    assert set(by_url.kept_by_host) <= {"www.breaknews.com", "m.breaknews.com"}


def test_a_remote_file_is_streamed_through_a_window_of_memory(server):
    data = os.urandom(3 * 1024 * 1024)
    server.put("big.bin", data)
    with RemoteFile(server.url("big.bin"), FAST, window=256 * 1024) as remote:
        got, peak = bytearray(), 0
        while chunk := remote.read(65536):
            got += chunk
            peak = max(peak, remote.held)
        assert bytes(got) == data and remote.size == len(data)
        assert peak <= 2 * 256 * 1024 + CHUNK  # never the whole file
        remote.seek(len(data) - 1000)  # inside the window: no new request
        assert remote.read(1000) == data[-1000:]
        requests = len(server.requests)
        remote.seek(10)  # behind the window: one range request
        assert remote.read(90) == data[10:100]
        assert len(server.requests) == requests + 1 and server.requests[-1].range == "bytes=10-"


def test_a_paths_list_is_read_gzipped_and_resolved_against_the_base(prefect_api, server, month, db_path, capsys):
    listing = server.url(f"{MONTH}/warc.paths.gz")
    args = ["ingest", "--warc-list", listing, "--warc-base", server.base_url, "--db", str(db_path), "--rate", "0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "archives:     3 read, 0 already read (left out)" in out
    assert rows(db_path, "SELECT article_id FROM articles ORDER BY 1") == _ids(month)
    [run] = rows(
        db_path,
        "SELECT archives_read, archives_skipped, records_kept, records_kept_by_host, bytes_read FROM ingest_runs",
    )
    total = sum(made.path.stat().st_size for made in month)
    assert run[:3] == (3, 0, 9) and sum(run[3].values()) == 9 and run[4] == total
    assert f"kept:         9 records: www.breaknews.com {run[3]['www.breaknews.com']}" in out
    # The same list again: every file was read whole, so none is fetched again.
    requested = len(server.requests)
    assert main(args) == 0
    assert "archives:     0 read, 3 already read (left out)" in capsys.readouterr().out
    assert [r.path for r in server.requests[requested:]] == [f"/{MONTH}/warc.paths.gz"]


def test_a_paths_list_that_cannot_be_read_ends_the_run_before_it_starts(prefect_api, server, db_path, capsys):
    assert main(["ingest", "--warc-list", server.url("no/warc.paths.gz"), "--db", str(db_path), "--rate", "0"]) == 1
    err = capsys.readouterr().err
    assert "cannot read the archive list" in err and "HTTP 404" in err
    assert rows(db_path, "SELECT count(*) FROM ingest_runs") == [(0,)]


def test_an_archive_not_downloaded_whole_exits_3_and_a_rerun_reads_only_it(prefect_api, server, month, db_path, capsys):
    late = "late/CC-NEWS-20240301000000-00009.warc.gz"
    args = ["ingest", _url(server, month[0]), server.url(late), "--db", str(db_path), "--rate", "0", "--retries", "0"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert f"1 archive not read whole (download failed: {server.url(late)})" in err
    assert rows(db_path, "SELECT count(*) FROM articles") == [(len(month[0].article_ids),)]

    server.put(late, month[1].path.read_bytes())  # the server has it now
    assert main(args) == 0
    assert "archives:     1 read, 1 already read (left out)" in capsys.readouterr().out
    assert rows(db_path, "SELECT count(*) FROM articles") == [(len(month[0].article_ids) + len(month[1].article_ids),)]


def test_a_paths_list_on_disk(tmp_path, month):
    listing = tmp_path / "lists" / "warc.paths"
    listing.parent.mkdir()
    listing.write_text(
        "# CC-NEWS, March\n\nsub/a.warc.gz\n/data/b.warc.gz\nhttps://example.org/c.warc.gz\nsub/a.warc.gz\n"
    )
    assert read_warc_list(str(listing)) == [
        str(tmp_path / "lists" / "sub" / "a.warc.gz"),  # relative to the list's folder
        "/data/b.warc.gz",
        "https://example.org/c.warc.gz",
    ]
    assert (
        read_warc_list(str(listing), "https://data.commoncrawl.org")[0] == "https://data.commoncrawl.org/sub/a.warc.gz"
    )
    assert read_warc_list(str(listing), "/mirror")[0] == "/mirror/sub/a.warc.gz"


@pytest.mark.parametrize("ranges", [True, False], ids=["range-request", "server-without-ranges"])
def test_a_dropped_connection_is_resumed_where_it_broke(prefect_api, month, tmp_path, ranges):
    with ArchiveServer(ranges=ranges) as server:
        _serve(server, month)
        name = month[1].path.name
        size = month[1].path.stat().st_size
        server.drop(f"{MONTH}/{name}", at=size // 2, times=1)
        summary = ingest_pages(paths=[_url(server, month[1])], db=str(tmp_path / "w.duckdb"), fetch=FAST)
        tries = [r for r in server.requests if r.path.endswith(name)]
    assert summary.counts.failures == 0
    assert rows(tmp_path / "w.duckdb", "SELECT article_id FROM articles ORDER BY 1") == _ids(month[1:2])
    assert len(tries) == 2 and tries[0].range is None
    resumed_at = int((tries[1].range or "bytes=0-").removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= month[1].path.stat().st_size // 2  # from where it broke (ignored without ranges)
    assert rows(tmp_path / "w.duckdb", "SELECT records_kept, failures FROM archive_files") == [(3, 0)]


def test_a_file_that_keeps_breaking_is_a_failure_and_the_next_run_reads_only_it(prefect_api, server, month, tmp_path):
    db = str(tmp_path / "w.duckdb")
    broken = month[1]
    server.drop(f"{MONTH}/{broken.path.name}", at=broken.path.stat().st_size * 2 // 3)
    listing = [server.url(f"{MONTH}/warc.paths.gz")]
    first = ingest_pages(paths=[], db=db, warc_lists=listing, warc_base=server.base_url, fetch=FAST)
    assert first.status == "completed"
    [(source, stage, reason)] = first.failures
    assert source == _url(server, broken) and stage == "fetch" and "broke off" in reason
    assert [r[0] for r in rows(db, ARCHIVES)] == [_url(server, month[0]), _url(server, month[2])]
    loaded = {r[0] for r in rows(db, "SELECT article_id FROM articles")}
    assert {*month[0].article_ids, *month[2].article_ids} <= loaded  # the files read whole
    assert loaded <= {*month[0].article_ids, *month[1].article_ids, *month[2].article_ids}

    server.clear_faults()
    requested = len(server.requests)
    second = ingest_pages(paths=[], db=db, warc_lists=listing, warc_base=server.base_url, fetch=FAST)
    assert second.source_counts["archives_skipped"] == 2 and second.source_counts["archives_read"] == 1
    fetched = {r.path for r in server.requests[requested:]}
    assert fetched == {f"/{MONTH}/warc.paths.gz", f"/{MONTH}/{broken.path.name}"}
    assert rows(db, "SELECT article_id FROM articles ORDER BY 1") == _ids(month)  # each exactly once
    assert len(rows(db, ARCHIVES)) == 3


def test_an_archive_that_cannot_be_had_is_a_failure_and_the_run_goes_on(prefect_api, server, month, tmp_path):
    server.fail(f"{MONTH}/{month[0].path.name}", 503, times=1, retry_after="0")  # once: retried
    server.put("elsewhere.warc.gz", b"")
    missing = server.url("nothing-here.warc.gz")
    summary = ingest_pages(paths=[_url(server, month[0]), missing], db=str(tmp_path / "w.duckdb"), fetch=FAST)
    assert summary.status == "completed"
    assert [(s, stage) for s, stage, _ in summary.failures] == [(missing, "fetch")]
    assert "HTTP 404" in summary.failures[0][2]
    assert rows(tmp_path / "w.duckdb", "SELECT count(*) FROM articles") == [(3,)]


def test_a_server_that_trickles_an_archive_cannot_hold_the_scan(prefect_api, server, month, tmp_path):
    """Each byte arrives well inside the read timeout, so only the throughput floor ends the stream:
    one slow window reopens it where it stood (a ranged request), the next in a row fails the file."""
    slow = FetchConfig(rate=0, retries=1, backoff_base=0.01, read_timeout=5, total_timeout=0.5, min_rate=1000)
    data = month[0].path.read_bytes()
    server.put("slow.warc.gz", data)
    # 20 bytes/s, twice; without a throughput floor each connection would last 10 s, then break, and the
    # third would deliver the rest: no failure.
    server.drip("slow.warc.gz", at=len(data) // 3, every=0.05, times=2)
    too_slow = r"too slow at byte .* \(after 2 tries\)"
    with pytest.raises(RemoteFileError, match=too_slow), RemoteFile(server.url("slow.warc.gz"), slow) as remote:
        while remote.read(CHUNK):
            pass
    asked = [r.range for r in server.requests if r.path == "/slow.warc.gz"]
    assert len(asked) == 2 and asked[0] is None and asked[1] is not None
    assert int(asked[1].removeprefix("bytes=").rstrip("-")) >= len(data) // 3

    server.drip("slow.warc.gz", at=len(data) // 3, every=0.05, times=2)
    summary = ingest_pages(
        paths=[server.url("slow.warc.gz"), _url(server, month[1])], db=str(tmp_path / "w.duckdb"), fetch=slow
    )
    assert [(source, stage) for source, stage, _ in summary.failures] == [(server.url("slow.warc.gz"), "fetch")]
    assert "too slow" in summary.failures[0][2]
    loaded = {article_id for (article_id,) in rows(tmp_path / "w.duckdb", "SELECT article_id FROM articles")}
    assert set(month[1].article_ids) <= loaded <= set(month[1].article_ids) | set(month[0].article_ids)
    read_whole = rows(tmp_path / "w.duckdb", "SELECT location FROM archive_files")
    assert read_whole == [(_url(server, month[1]),)]  # the slow file is read again by a rerun


def test_a_reader_that_pauses_is_not_taken_for_a_slow_server(server):
    """The throughput floor counts the time spent waiting for the network: a reader that stops to work
    between reads (as the flow does to extract and load) never trips it, however long it stops."""
    exacting = FetchConfig(rate=0, retries=1, backoff_base=0.01, total_timeout=0.2, min_rate=5e6)
    data = os.urandom(3 * CHUNK)
    server.put("paused.bin", data)
    got = bytearray()
    with RemoteFile(server.url("paused.bin"), exacting) as remote:
        while chunk := remote.read(CHUNK // 4):
            got += chunk
            time.sleep(0.25)  # longer than a window, every time: by wall clock, far under 5 MB/s
    assert bytes(got) == data
    assert [r.range for r in server.requests if r.path == "/paused.bin"] == [None]


def test_a_redirect_to_another_host_is_refused(server):
    with ArchiveServer() as other:
        other.put("moved.warc.gz", b"WARC")
        server.redirect("x.warc.gz", other.url("moved.warc.gz").replace("127.0.0.1", "localhost"))
        with pytest.raises(RemoteFileError, match="another host"):
            RemoteFile(server.url("x.warc.gz"), FAST)
        server.redirect("y.warc.gz", "/z.warc.gz")  # the same host: followed
        server.put("z.warc.gz", b"WARC")
        with RemoteFile(server.url("y.warc.gz"), FAST) as remote:
            assert remote.read(10) == b"WARC"
    assert other.requests == []


def test_interrupting_a_list_loses_at_most_the_file_in_progress(server, month, tmp_path, shared_prefect_env):
    db = tmp_path / "w.duckdb"
    last = month[2]
    server.stall(f"{MONTH}/{last.path.name}", at=last.path.stat().st_size // 2)
    command = [EXE, "ingest", "--warc-list", server.url(f"{MONTH}/warc.paths.gz"), "--warc-base", server.base_url]
    command += ["--db", str(db), "--rate", "0"]
    process = subprocess.Popen(command, env=shared_prefect_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if any(r.path.endswith(last.path.name) for r in server.requests) and poll_count(db, "archive_files") == 2:
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()
        assert poll_count(db, "archive_files") == 2
        process.send_signal(signal.SIGKILL)  # no chance to clean up: the file in progress is lost
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
        server.clear_faults()
    assert {r[0] for r in rows(db, "SELECT article_id FROM articles")} == {*month[0].article_ids, *month[1].article_ids}

    requested = len(server.requests)
    rerun = subprocess.run(command, env=shared_prefect_env, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    assert "archives:     1 read, 2 already read (left out)" in rerun.stdout
    assert {r.path for r in server.requests[requested:]} == {f"/{MONTH}/warc.paths.gz", f"/{MONTH}/{last.path.name}"}
    assert rows(db, "SELECT article_id FROM articles ORDER BY 1") == _ids(month)
    assert [s for (s,) in rows(db, "SELECT status FROM ingest_runs ORDER BY started_at")] == ["crashed", "completed"]


def test_archives_are_scanned_on_dask_workers(prefect_api, dask_cluster, server, month, tmp_path):
    sources = [str(month[0].path), _url(server, month[1]), _url(server, month[2])]
    flow = ingest_flow("dask", dask_address=dask_cluster.scheduler_address)
    summary = flow(paths=sources, db=str(tmp_path / "dask.duckdb"), task_runner="dask", fetch=FAST)
    local = ingest_pages(paths=sources, db=str(tmp_path / "local.duckdb"), fetch=FAST)
    assert summary.status == local.status == "completed"
    query = "SELECT article_id, content_sha256 FROM articles ORDER BY article_id"
    assert rows(tmp_path / "dask.duckdb", query) == rows(tmp_path / "local.duckdb", query)
    assert rows(tmp_path / "dask.duckdb", "SELECT article_id FROM articles ORDER BY 1") == _ids(month)
    assert rows(tmp_path / "dask.duckdb", ARCHIVES) == rows(tmp_path / "local.duckdb", ARCHIVES)
    assert summary.source_counts == local.source_counts and summary.kept_by_host == local.kept_by_host
    ran = {str(prefix) for prefix in dask_cluster.scheduler.task_prefixes}
    assert {"scan_archive_task", "extract_batch"} <= ran, ran


def test_cli_refuses_archives_mixed_with_live_ingestion(tmp_path, db_path, capsys):
    listing = tmp_path / "warc.paths"
    listing.write_text("a.warc.gz\n")
    assert main(["ingest", "https://example.org/a.warc.gz", "--site", "--db", str(db_path)]) == 2
    assert main(["ingest", str(tmp_path), "--warc-base", "https://example.org/", "--db", str(db_path)]) == 2
    assert main(["ingest", "--warc-list", str(tmp_path / "missing.paths"), "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot share a run with live ingestion" in err and "--warc-base" in err and "missing.paths" in err
