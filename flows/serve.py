"""`breaknews serve`: run the ingest on a schedule with Prefect.

Prefect will not schedule flows on its ephemeral API, so serving needs a real Prefect server: the one
PREFECT_API_URL names, else a `prefect server start` of our own, bound to 127.0.0.1 and stopped on exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

import httpx

from tasks.errors import BreaknewsError

KOREA = "Asia/Seoul"
DEFAULT_CRON = "*/30 * * * *"
_HEALTH_TIMEOUT = 90.0


class PrefectServerError(BreaknewsError):
    """The local Prefect server did not come up."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prefect_executable() -> list[str]:
    beside = os.path.join(os.path.dirname(sys.executable), "prefect")
    if os.path.exists(beside):
        return [beside]
    found = shutil.which("prefect")
    if not found:
        raise PrefectServerError("the `prefect` command is not installed beside breaknews")
    return [found]


@contextmanager
def prefect_server(port: int | None = None) -> Iterator[str]:
    """Yield a Prefect API URL: the configured one, or a local server we start and stop."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    port = port or _free_port()
    env = dict(os.environ, DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env["PREFECT_SERVER_API_HOST"] = "127.0.0.1"
    log = tempfile.NamedTemporaryFile(prefix="breaknews-prefect-server-", suffix=".log", delete=False)  # noqa: SIM115
    command = [*_prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, process, log.name)
        yield url
    finally:
        _stop(process)
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: str) -> None:
    deadline = time.monotonic() + _HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PrefectServerError(f"prefect server exited with {process.returncode}; see {log_path}")
        try:
            if httpx.get(f"{url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise PrefectServerError(f"prefect server not healthy after {_HEALTH_TIMEOUT:.0f} s; see {log_path}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    *,
    db: str,
    paths: list[str],
    cron: str | None,
    interval: float | None,
    name: str = "breaknews",
) -> None:
    """Serve the scheduled ingest until Ctrl-C or SIGTERM. Runs never overlap: a run that comes due
    while the previous one is still going waits for it (limit 1, enqueued)."""
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    with prefect_server() as api_url:
        os.environ["PREFECT_API_URL"] = api_url
        from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
        from prefect.deployments.runner import EntrypointType
        from prefect.schedules import Cron, Interval

        from flows.scheduled import scheduled_ingest

        schedule: Any = (
            Interval(timedelta(seconds=interval), timezone=KOREA)
            if interval
            else Cron(cron or DEFAULT_CRON, timezone=KOREA)
        )
        when = f"every {interval:g} s" if interval else f"cron '{cron or DEFAULT_CRON}' (Korea time)"
        print(f"breaknews serve: Prefect API {api_url}; {when}; warehouse {db}", flush=True)
        scheduled_ingest.serve(
            name=name,
            schedules=[schedule],
            parameters={"db": db, "paths": paths},
            limit=1,
            global_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
            pause_on_shutdown=False,
            print_starting_message=False,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
