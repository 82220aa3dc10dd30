"""CC-NEWS scans: breaknews against a bare FastWARC loop, and archives spread over a Dask cluster.

    .venv/bin/python bench/bench_ccnews.py               # both parts
    .venv/bin/python bench/bench_ccnews.py --part scan   # 1. one CC-NEWS-like file, ingest vs bare loop
    .venv/bin/python bench/bench_ccnews.py --part dask   # 2. N files on 2 Dask workers vs 1

Run it from a file (not `python -c`): Dask's worker processes are spawned and import this module.

1. One CC-NEWS-like file (`tests/ccnews.py`: 12,000 responses of 42 other hosts, each with its request
   and metadata record, gzip per record, ~94 MB, 30 BreakNews articles among them). The baseline is a
   bare FastWARC loop over it: response records only, a host check on WARC-Target-URI, the matching
   payloads read. Against it, an `ingest-pages` flow run into a fresh (migrated) warehouse, in this
   process under `prefect_test_harness`, without heartbeats as the command runs it: the run's own
   time (the summary's seconds: lock, ledger, scan, extraction, loading) and the whole flow call
   (Prefect's flow-run bookkeeping and the summary artifact added). Bare
   loop and ingest alternate, ROUNDS times; each round's ratio is printed, and the median judged
   (goal: run ≤ 2× bare loop), with the same 30 records found by both.
2. FILES files of CC-NEWS size (~375 MB: six distinct CC-NEWS-like files of 4,000 responses,
   concatenated twice) scanned on a local Dask cluster (worker processes, one thread each) of 2 workers
   and of 1, each warmed by a small run first: the bare scan (`scan_archive` mapped over the files with
   Dask's own client) and the whole ingest flow with `--task-runner dask` on the same cluster. Prints
   the speed-up of 2 workers over 1 (goal ≥ 1.7× on 2 cores) and MB/s per core, and, as the ceiling
   the machine allows at that moment, the speed-up of 2 bare processes over 1 inflating the same files.

Generated files are cached in $TMPDIR/breaknews-bench (delete it to make them again).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")  # workers closing at each cluster's end
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402

from tests.ccnews import write_ccnews  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "breaknews-bench"


def ccnews_file(name: str, **kwargs: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}.warc.gz"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".part")
        write_ccnews(partial, **kwargs)
        partial.rename(path)
        print(f"  (wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.0f} s)")
    return path


def bare_loop(path: Path) -> tuple[int, int]:
    """The baseline: response records only, host check on WARC-Target-URI, matching payloads read."""
    kept = size = 0
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle, record_types=WarcRecordType.response, parse_http=False):
            host = urlsplit(record.headers.get("WARC-Target-URI")).hostname or ""
            if host == "breaknews.com" or host.endswith(".breaknews.com"):
                record.parse_http()
                size += len(record.reader.read())
                kept += 1
    return kept, size


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def fresh_db(folder: Path, name: str) -> str:
    from breaknews.warehouse.migrate import open_migrated

    db = folder / f"{name}.duckdb"
    for leftover in folder.glob(f"{name}.duckdb*"):
        leftover.unlink()
    open_migrated(db)  # the command migrates before its flow starts: not part of the run
    return str(db)


def part_scan(rounds: int) -> bool:
    from breaknews.flows.ingest import ingest_pages

    print("1. one CC-NEWS-like file: ingest vs a bare FastWARC loop")
    path = ccnews_file("ccnews-12000", responses=12_000, breaknews=30)
    mb = path.stat().st_size / 1e6
    print(f"   {path.name}: {mb:.1f} MB, load average {os.getloadavg()[0]:.2f}")
    ratios, flow_ratios, bares, runs = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            t_bare, (kept, _) = timed(bare_loop, path)
            db = fresh_db(Path(tmp), f"scan{i}")
            t_flow, summary = timed(ingest_pages, paths=[str(path)], db=db)
            assert summary.counts.articles_new == kept == 30, (summary.counts, kept)
            assert summary.source_counts["records_kept"] == kept
            bares.append(t_bare)
            runs.append(summary.seconds)
            ratios.append(summary.seconds / t_bare)
            flow_ratios.append(t_flow / t_bare)
            print(
                f"   round {i + 1}: bare loop {t_bare:.2f} s ({kept} kept); ingest run {summary.seconds:.2f} s"
                f" = {ratios[-1]:.2f}x, flow call {t_flow:.2f} s = {flow_ratios[-1]:.2f}x"
                f" (load {os.getloadavg()[0]:.2f})"
            )
    ratio = statistics.median(ratios)
    print(
        f"   median: bare {statistics.median(bares):.2f} s ({mb / statistics.median(bares):.0f} MB/s),"
        f" run {statistics.median(runs):.2f} s; run / bare loop {ratio:.2f}x (goal <= 2x)"
        f" {'ok' if ratio <= 2 else 'MISS'}; flow call / bare loop {statistics.median(flow_ratios):.2f}x"
    )
    return ratio <= 2


def big_files(count: int, repeat: int) -> list[Path]:
    """``count`` files of CC-NEWS size: six distinct CC-NEWS-like files of 4,000 responses (8 BreakNews
    articles each) concatenated, rotated per file, ``repeat`` times (gzip members concatenate into a valid
    WARC file). The same records recur, which costs the scan just as new ones would."""
    parts = [
        ccnews_file(f"ccnews-4000-{n}", responses=4000, breaknews=8, seed=100 + n, first_uid=4_000_000 + n * 100)
        for n in range(6)
    ]
    paths = []
    for n in range(count):
        path = CACHE / f"ccnews-big-{repeat}-{n}.warc.gz"
        if not path.exists():
            partial = path.with_suffix(".part")
            with open(partial, "wb") as out:
                for _ in range(repeat):
                    for part in parts[n % 6 :] + parts[: n % 6]:
                        out.write(part.read_bytes())
            partial.rename(path)
        paths.append(path)
    return paths


def _inflate(path: str) -> int:
    """Inflate a .warc.gz member by member, as a WARC reader does (gzip's reader, streaming)."""
    size = 0
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
    return size


def machine_speedup(paths: list[Path]) -> float:
    """What 2 processes get over 1 on this machine right now, for CPU work of the same kind (inflating
    the same files with gzip, no Dask, no breaknews): the ceiling for the Dask speed-up in this run."""
    context = multiprocessing.get_context("spawn")
    times = {}
    for workers in (1, 2):
        with context.Pool(workers) as pool:
            pool.map(_inflate, [str(paths[0])] * workers)  # started and warm
            times[workers], _ = timed(pool.map, _inflate, [str(p) for p in paths], 1)
    return times[1] / times[2]


def part_dask(files: int, repeat: int, rounds: int) -> bool:
    from distributed import Client, LocalCluster

    from breaknews.flows.runners import LOCAL_CLUSTER, ingest_flow
    from breaknews.tasks.warc import scan_archive

    print(f"2. {files} CC-NEWS-sized files on a local Dask cluster: 2 workers vs 1")
    paths = big_files(files, repeat)
    sources = [str(p) for p in paths]
    kept = 8 * 6 * repeat * files
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"   {files} files of {mb / files:.0f} MB, {mb:.0f} MB in all; load average {os.getloadavg()[0]:.2f}")
    scan: dict[int, list[float]] = {1: [], 2: []}
    ingest: dict[int, list[float]] = {1: [], 2: []}
    ceiling: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            for workers in (1, 2):
                with (
                    LocalCluster(n_workers=workers, **LOCAL_CLUSTER) as cluster,
                    Client(cluster) as client,
                ):
                    flow = ingest_flow("dask", dask_address=cluster.scheduler_address)
                    # A warm cluster, as a long-lived one is: imports and Prefect's client set up.
                    flow(
                        paths=[str(CACHE / "ccnews-4000-0.warc.gz")], db=fresh_db(Path(tmp), "warm"), task_runner="dask"
                    )
                    t_scan, results = timed(lambda: client.gather(client.map(scan_archive, sources)))
                    assert sum(r.stats.records_kept for r in results) == kept
                    summary = flow(paths=sources, db=fresh_db(Path(tmp), f"dask{i}-{workers}"), task_runner="dask")
                    assert summary.source_counts["records_kept"] == kept, summary.source_counts
                scan[workers].append(t_scan)
                if workers == 2:
                    ceiling.append(machine_speedup(paths[:2] * 2))
                ingest[workers].append(summary.seconds)
                print(
                    f"   round {i + 1}, {workers} worker(s): scan {t_scan:.2f} s ({mb / t_scan / workers:.0f} MB/s per"
                    f" core), ingest run {summary.seconds:.2f} s (load {os.getloadavg()[0]:.2f})"
                    + (f"; 2 bare processes get {ceiling[-1]:.2f}x over 1 now" if workers == 2 else "")
                )
    s1, s2 = statistics.median(scan[1]), statistics.median(scan[2])
    i1, i2 = statistics.median(ingest[1]), statistics.median(ingest[2])
    verdict = "ok" if s1 / s2 >= 1.7 else "MISS"
    print(
        f"   median scan: 1 worker {s1:.2f} s ({mb / s1:.0f} MB/s per core), 2 workers {s2:.2f} s"
        f" ({mb / s2 / 2:.0f} MB/s per core): speed-up {s1 / s2:.2f}x (goal >= 1.7x) {verdict}"
    )
    print(
        f"   median ingest run with --task-runner dask: 1 worker {i1:.2f} s, 2 workers {i2:.2f} s:"
        f" speed-up {i1 / i2:.2f}x ({mb / i2 / 2:.0f} MB/s per core)"
    )
    print(
        f"   the machine's own ceiling (2 bare processes inflating the files vs 1): {statistics.median(ceiling):.2f}x"
    )
    return s1 / s2 >= 1.7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("scan", "dask", "all"), default="all")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=4, help="files for the Dask part (default 4)")
    parser.add_argument("--repeat", type=int, default=2, help="each Dask file is 6 x REPEAT x ~31 MB (default 2)")
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from breaknews.flows.heartbeats import without_heartbeats

    ok = True
    # As `breaknews ingest` runs its flow: no heartbeat thread to wait out at the end of each run.
    with prefect_test_harness(server_startup_timeout=120), without_heartbeats():
        if args.part in ("scan", "all"):
            ok &= part_scan(args.rounds)
        if args.part in ("dask", "all"):
            ok &= part_dask(args.files, args.repeat, max(1, args.rounds // 2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
