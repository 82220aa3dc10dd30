"""Soak: `breaknews serve` at a short interval for hundreds of runs against the loopback site imitation.

Samples, run by run, the RSS of the serve process tree (serve itself and any run process alive at that
moment), the RSS of the kept Prefect server, serve's threads and open files, its child processes between
runs, and the warehouse's size; the site publishes a new article every 10 runs, so the warehouse has a
little new data to grow with. At the end it reads each run's timings from Prefect's API and the ledger:
how late each run started after its scheduled time (the runner noticing it, the run's process starting,
Prefect's bookkeeping before our code) and how long Prefect's run lasted beyond the ledger's (bookkeeping
after). Ratios are against the same run's own early figures (run 20), so a noisy machine does not matter.

    .venv/bin/python bench/bench_soak.py [--runs 200] [--interval 2]

Goals (issue 11): RSS after the last run ≤ 1.2× after run 20, for serve and for the kept server; no
threads, open files or child processes growing run over run; the warehouse grows only with data.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb
import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from breaknews.flows.kept_server import STATE_NAME  # noqa: E402
from breaknews.flows.schedule import deployment_name  # noqa: E402
from tests.processes import EXE, kept_env  # noqa: E402
from tests.site_server import SiteServer  # noqa: E402


def _rss(proc: psutil.Process, tree: bool) -> int:
    procs = [proc, *proc.children(recursive=True)] if tree else [proc]
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _completed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return -1  # a batch is being written this instant
    try:
        return int(con.execute("SELECT count(*) FROM ingest_runs WHERE status = 'completed'").fetchone()[0])
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--early", type=int, default=20, help="the run the final figures are compared with")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    env = kept_env(work / "prefect-home")
    subprocess.run([EXE, "server", "start"], env=env, check=True, capture_output=True)
    state = json.loads((work / "prefect-home" / STATE_NAME).read_text())
    server, api = psutil.Process(state["pid"]), state["url"]

    site = SiteServer(range(5_000_000, 5_000_030), per_page=10, feed_size=10).start()
    db = work / "soak.duckdb"
    log = (work / "serve.log").open("wb")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; work folder {work}", flush=True)
    serve_args = ["--interval", str(args.interval), "--db", str(db)]
    serve = subprocess.Popen(
        [EXE, "serve", "--site", site.base_url, "--rate", "0", "--list-pages", "1", *serve_args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    me = _serving_process(psutil.Process(serve.pid))
    samples: dict[int, dict[str, float]] = {}
    published = 0
    started = time.monotonic()
    try:
        done = 0
        while done < args.runs:
            time.sleep(0.5)
            now = _completed(db)
            if now <= done:
                if serve.poll() is not None:
                    raise SystemExit(f"serve exited early; see {work / 'serve.log'}")
                continue
            done = now
            if done // 10 > published:
                published = done // 10
                site.publish(5_100_000 + published)
            try:
                samples[done] = {
                    "serve_rss": _rss(me, tree=False) / 2**20,
                    "tree_rss": _rss(me, tree=True) / 2**20,
                    "server_rss": _rss(server, tree=True) / 2**20,
                    "threads": me.num_threads(),
                    "files": len(me.open_files()) + len(me.net_connections()),
                    "children": len(me.children(recursive=True)),
                    "db_bytes": _file_bytes(db),
                    "cpu": _tree_cpu(me),
                }
            except psutil.NoSuchProcess:
                continue
            if done % 20 == 0 or done == args.early:
                s = samples[done]
                print(
                    f"run {done:>4}: serve {s['serve_rss']:.0f} MiB (tree {s['tree_rss']:.0f}), server"
                    f" {s['server_rss']:.0f} MiB, {s['threads']:.0f} threads, {s['files']:.0f} files/sockets,"
                    f" {s['children']:.0f} children, warehouse {s['db_bytes'] / 2**20:.2f} MiB"
                    f" ({time.monotonic() - started:.0f} s)",
                    flush=True,
                )
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=120)
        log.close()
        site.stop()
    timings = _run_timings(api, deployment_name(str(db)), db)
    subprocess.run([EXE, "server", "stop"], env=env, capture_output=True)
    _report(samples, args.early, done, timings, db)


def _serving_process(command: psutil.Process) -> psutil.Process:
    """The serve itself: `breaknews serve` runs it as its child, in a session of its own
    (flows/cli/serve_session.py); the command only relays signals (~30 MiB, not counted here)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = command.children()
        if children:
            return children[0]
        time.sleep(0.1)
    raise SystemExit("serve did not start its serving process")


def _tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds used by serve and every run process it has started and reaped."""
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def _file_bytes(db: Path) -> int:
    wal = Path(f"{db}.wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _run_timings(api: str, name: str, db: Path) -> dict[str, list[float]]:
    deployment = httpx.get(f"{api}/deployments/name/breaknews-scheduled-ingest/{name}", timeout=30).json()
    runs = httpx.post(
        f"{api}/flow_runs/filter",
        json={
            "deployments": {"id": {"any_": [deployment["id"]]}},
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
        },
        timeout=60,
    ).json()
    con = duckdb.connect(str(db), read_only=True)
    ledger = {
        flow_run_id: (started, ended)
        for flow_run_id, started, ended in con.execute(
            "SELECT flow_run_id, started_at, ended_at FROM ingest_runs WHERE status = 'completed'"
        ).fetchall()
    }
    con.close()
    late, before, after, work = [], [], [], []
    for run in runs:
        if not run.get("start_time") or run["id"] not in ledger:
            continue
        expected = datetime.fromisoformat(run["expected_start_time"])
        start = datetime.fromisoformat(run["start_time"])
        end = datetime.fromisoformat(run["end_time"])
        ours_start, ours_end = ledger[run["id"]]
        late.append((start - expected).total_seconds())
        before.append((ours_start - start).total_seconds())
        after.append((end - ours_end).total_seconds())
        work.append((ours_end - ours_start).total_seconds())
    return {"late": late, "before": before, "after": after, "work": work}


def _report(
    samples: dict[int, dict[str, float]], early: int, last: int, timings: dict[str, list[float]], db: Path
) -> None:
    first = samples[min(k for k in samples if k >= early)]
    final = samples[max(samples)]
    print(f"\n{last} runs; figures at run {min(k for k in samples if k >= early)} vs run {max(samples)}")
    for key, label in (
        ("serve_rss", "serve process RSS"),
        ("tree_rss", "serve tree RSS"),
        ("server_rss", "kept server RSS"),
    ):
        ratio = final[key] / first[key]
        verdict = "" if key == "tree_rss" else (" met" if ratio <= 1.2 else " MISSED")
        print(f"  {label:<20} {first[key]:7.0f} → {final[key]:7.0f} MiB  {ratio:.2f}x (goal ≤ 1.2x){verdict}")
    runs_between = max(samples) - min(k for k in samples if k >= early)
    if runs_between:
        per_run = (final["cpu"] - first["cpu"]) / runs_between
        print(f"  CPU per run          {per_run:.2f} s (serve and the run's own process: Python, Prefect, our code)")
    for key in ("threads", "files", "children"):
        late_values = [s[key] for k, s in samples.items() if k >= early]
        print(
            f"  serve {key:<14} run {early}: {first[key]:.0f}, last: {final[key]:.0f},"
            f" max after run {early}: {max(late_values):.0f}"
        )
    con = duckdb.connect(str(db), read_only=True)
    articles, pages, runs = con.execute(
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM raw_pages), (SELECT count(*) FROM ingest_runs)"
    ).fetchone()
    con.close()
    growth = (final["db_bytes"] - first["db_bytes"]) / 2**10
    print(
        f"  warehouse            {first['db_bytes'] / 2**20:.2f} → {final['db_bytes'] / 2**20:.2f} MiB"
        f" (+{growth:.0f} KiB)"
        f" holding {articles} articles, {pages} raw pages, {runs} ledger rows"
    )
    for key, label in (
        ("late", "run started after its scheduled time (runner + process start + Prefect before our code)"),
        ("before", "Prefect run start → our code started"),
        ("after", "our code ended → Prefect run ended (bookkeeping after)"),
        ("work", "the run's own work (ledger started_at → ended_at)"),
    ):
        values = timings[key]
        if values:
            p90 = statistics.quantiles(values, n=10)[-1]
            print(f"  {label}: median {statistics.median(values):.2f} s, p90 {p90:.2f} s over {len(values)} runs")


if __name__ == "__main__":
    main()
