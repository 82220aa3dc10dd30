"""What the kept Prefect server costs while nothing runs: CPU share of one core and RSS over a window.

Starts `prefect server start` twice in fresh Prefect homes on loopback ports: once as Prefect ships it
(the baseline, measured in the same run), once with the settings `breaknews` gives the server it keeps
(`flows/prefect_server.py: SERVER_SETTINGS`). Each is left to settle, then its whole process tree is
sampled from /proc (psutil) over the window: CPU seconds used / wall seconds, and RSS.

    .venv/bin/python bench/bench_server_idle.py [--window 60] [--settle 20]

Goal (issue 11): breaknews' kept server idles at ≤ 1% of a core.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from breaknews.flows.prefect_server import SERVER_SETTINGS, TELEMETRY_OFF  # noqa: E402
from tests.processes import free_port  # noqa: E402


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def measure(label: str, extra_env: dict[str, str], window: float, settle: float, ours: bool) -> tuple[float, float]:
    home = tempfile.mkdtemp(prefix="bench-prefect-home-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(TELEMETRY_OFF, PREFECT_HOME=home, **extra_env)
    if ours:  # exactly as flows/prefect_server.py starts the kept server
        command = [sys.executable, "-m", "breaknews.flows.prefect_server", "--host", "127.0.0.1", "--port", str(port)]
    else:
        exe = Path(sys.executable).parent / "prefect"
        command = [str(exe), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"]
    log = open(Path(home) / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"{label}: the server did not start; see {home}/server.log")
            time.sleep(0.5)
        time.sleep(settle)
        procs = _tree(server.pid)
        cpu0, t0 = _cpu_seconds(procs), time.monotonic()
        samples = []
        while time.monotonic() - t0 < window:
            time.sleep(1.0)
            samples.append(_rss(_tree(server.pid)))
        share = (_cpu_seconds(_tree(server.pid)) - cpu0) / (time.monotonic() - t0)
        rss = max(samples) / 2**20
        print(f"{label:<32} idle CPU {share * 100:5.2f}% of a core   RSS {rss:6.0f} MiB   ({len(procs)} processes)")
        return share, rss
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0, help="seconds sampled (default 60)")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds left to settle first (default 20)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; window {args.window:g} s after {args.settle:g} s")
    base_cpu, base_rss = measure("Prefect's defaults (baseline)", {}, args.window, args.settle, ours=False)
    ours_cpu, ours_rss = measure("breaknews' kept server", dict(SERVER_SETTINGS), args.window, args.settle, ours=True)
    print(f"ratio breaknews/baseline: CPU {ours_cpu / max(base_cpu, 1e-9):.2f}x, RSS {ours_rss / base_rss:.2f}x")
    print(f"goal idle CPU <= 1% of a core: {'met' if ours_cpu <= 0.01 else 'MISSED'} ({ours_cpu * 100:.2f}%)")


if __name__ == "__main__":
    main()
