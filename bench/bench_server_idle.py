"""What the kept Prefect server costs while nothing runs, measured the way a user has it: after a run.

Twice in the same run, each in a fresh Prefect home on a free loopback port:
1. the baseline: Prefect's stock `prefect server start` (no breaknews settings), with one
   `breaknews ingest samples` run against it (as a configured PREFECT_API_URL);
2. breaknews' kept server, started by `breaknews server start` exactly as a first run starts it
   (`flows/kept_server.py`: Prefect's CLI with `SERVER_SETTINGS`), with the same ingest run against it.
Each server is left --settle seconds after the ingest (20), then the CPU time of the server and all its
children together is sampled over --window seconds (60, psutil): CPU seconds used / wall seconds, and RSS.

    .venv/bin/python bench/bench_server_idle.py [--window 60] [--settle 20]

Goal (issues 11 and 22): breaknews' kept server idles at <= 1% of one core.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from breaknews.flows.kept_server import STATE_NAME, server_address_env, server_command  # noqa: E402
from breaknews.flows.prefect_environment import TELEMETRY_OFF  # noqa: E402
from tests.processes import EXE, free_port  # noqa: E402

SAMPLES = ROOT / "samples"


def _tree(root: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return [root, *root.children(recursive=True)]
    return []


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _clean_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(TELEMETRY_OFF, PREFECT_HOME=home)
    return env


def _ingest(env: dict[str, str], db: Path) -> float:
    started = time.monotonic()
    done = subprocess.run([EXE, "ingest", str(SAMPLES), "--db", str(db)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the ingest failed: {done.stderr}")
    return time.monotonic() - started


def _wait_healthy(url: str, server: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + 180
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline or (server is not None and server.poll() is not None):
            raise SystemExit(f"the server did not start; see {log}")
        time.sleep(0.5)


def _sample(label: str, root: psutil.Process, ingest_s: float, window: float, settle: float) -> tuple[float, float]:
    time.sleep(settle)
    procs = _tree(root)
    cpu0, t0 = _cpu_seconds(procs), time.monotonic()
    samples = []
    while time.monotonic() - t0 < window:
        time.sleep(1.0)
        samples.append(_rss(_tree(root)))
    # Children that ended inside the window are counted through their parent's children_* times.
    share = (_cpu_seconds(_tree(root)) - cpu0) / (time.monotonic() - t0)
    rss = max(samples) / 2**20
    print(
        f"{label:<32} idle CPU {share * 100:5.2f}% of a core   RSS {rss:6.0f} MiB   ({len(procs)} processes;"
        f" the ingest before took {ingest_s:.1f} s)",
        flush=True,
    )
    return share, rss


def stock(window: float, settle: float) -> tuple[float, float]:
    """Prefect's `prefect server start` as Prefect ships it, the run pointed at it by PREFECT_API_URL."""
    with tempfile.TemporaryDirectory(prefix="bench-idle-stock-") as home:
        port = free_port()
        url = f"http://127.0.0.1:{port}/api"
        log_path = Path(home) / "server.log"
        env = {**_clean_env(home), **server_address_env(port)}
        with open(log_path, "wb") as log:
            server = subprocess.Popen(server_command(port), env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            _wait_healthy(url, server, log_path)
            took = _ingest({**_clean_env(home), "PREFECT_API_URL": url}, Path(home) / "w.duckdb")
            return _sample("Prefect's stock server (baseline)", psutil.Process(server.pid), took, window, settle)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def kept(window: float, settle: float) -> tuple[float, float]:
    """breaknews' kept server, started by `breaknews server start`, the run finding it as users' runs do."""
    with tempfile.TemporaryDirectory(prefix="bench-idle-kept-") as home:
        env = {**_clean_env(home), "BREAKNEWS_PREFECT_SERVER": "keep", "BREAKNEWS_PREFECT_PORT": str(free_port())}
        started = subprocess.run([EXE, "server", "start"], env=env, capture_output=True, text=True)
        if started.returncode != 0:
            raise SystemExit(f"breaknews server start failed: {started.stderr}")
        state = json.loads((Path(home) / STATE_NAME).read_text(encoding="utf-8"))
        try:
            took = _ingest(env, Path(home) / "w.duckdb")
            return _sample("breaknews' kept server", psutil.Process(int(state["pid"])), took, window, settle)
        finally:
            subprocess.run([EXE, "server", "stop"], env=env, capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0, help="seconds sampled (default 60)")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds after the ingest first (default 20)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; window {args.window:g} s, {args.settle:g} s after a run")
    base_cpu, base_rss = stock(args.window, args.settle)
    ours_cpu, ours_rss = kept(args.window, args.settle)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"ratio breaknews/baseline: CPU {ours_cpu / max(base_cpu, 1e-9):.2f}x, RSS {ours_rss / base_rss:.2f}x")
    print(f"goal idle CPU <= 1% of a core: {'met' if ours_cpu <= 0.01 else 'MISSED'} ({ours_cpu * 100:.2f}%)")


if __name__ == "__main__":
    main()
