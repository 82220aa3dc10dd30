"""A local Prefect server kept alive between `breaknews` runs.

Without a configured API, Prefect starts a temporary server for every process (8–20 s before the first
task) and stops it at exit. `breaknews` instead starts `prefect server start` once, detached, bound to
127.0.0.1 with telemetry off, records it in ``$PREFECT_HOME/breaknews-server.json`` and reuses it,
so later runs start in about the time Python takes to import Prefect.

Order of preference for a run: an API the user configured (``PREFECT_API_URL`` or a Prefect profile)
→ the kept server, when it answers ``/api/health`` → a new kept server. ``BREAKNEWS_PREFECT_SERVER=ephemeral``
(or ``ingest --ephemeral``) gives Prefect's own temporary server instead, leaving nothing running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from filelock import FileLock

from breaknews.warehouse.errors import BreaknewsError

MODE_ENV = "BREAKNEWS_PREFECT_SERVER"  # "keep" (default) or "ephemeral"
PORT_ENV = "BREAKNEWS_PREFECT_PORT"
DEFAULT_PORT = 4200  # Prefect's own default, so `prefect` commands and the UI find it too
HOST = "127.0.0.1"  # never reachable from another machine
STATE_NAME = "breaknews-server.json"
START_TIMEOUT = 120.0


class ServerError(BreaknewsError):
    """The kept Prefect server could not be started or stopped."""


# Prefect sends telemetry to outside hosts unless told not to; breaknews contacts nothing but the site
# it ingests. Set in a command's own environment before Prefect is imported, and in the environment of
# every Prefect server breaknews starts.
TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


# What the kept server runs, and why. Prefect's server runs a set of background services, each waking
# on its own loop; breaknews uses schedules (serve), deployment concurrency limits and the UI, nothing
# else. Measured idle cost in bench/bench_server_idle.py.
SERVER_SETTINGS = {
    # Workers and work pools going offline: breaknews runs no workers (serve runs its own runs).
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    # Runs marked Late: serve clears leftover runs itself and never starts a late one (issue 11).
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    # Paused flow runs timing out: breaknews never pauses a run.
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    # Sub-runs of cancelled parents: breaknews has no subflows; serve cancels its own runs.
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    # Automations (reactive and proactive triggers): breaknews defines none.
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # Leases of log-cleanup messages: kept, but looked at every minute instead of every 5 s.
    "PREFECT_SERVER_SERVICES_CLEANUP_RECONCILER_LOOP_SECONDS": "60",
    # Kept as Prefect ships them: the scheduler (serve's schedules), the repossessor (leases of the
    # deployment concurrency limit serve uses), the event persister and task-run recorder (the UI).
}


def command_environment() -> None:
    """What a `breaknews` command needs of the process environment, set before Prefect loads: no
    telemetry, and time for Prefect's embedded API to start (a first-ever Prefect home takes ~19 s
    to set up here, longer on a busy machine; Prefect gives up after 20 s by default)."""
    os.environ.update(TELEMETRY_OFF)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    url: str  # the API URL, ending in /api
    log: str

    @property
    def ui(self) -> str:
        return self.url.removesuffix("/api")


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def _state_file() -> Path:
    return prefect_home() / STATE_NAME


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{api_url}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text.strip() == "true"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status() -> ServerInfo | None:
    """The kept server, when its process is alive and its API answers."""
    try:
        data = json.loads(_state_file().read_text(encoding="utf-8"))
        info = ServerInfo(pid=int(data["pid"]), url=str(data["url"]), log=str(data.get("log", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if _alive(info.pid) and healthy(info.url):
        return info
    return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _choose_port() -> int:
    wanted = int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
    if _port_free(wanted):
        return wanted
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_address_env(port: int) -> dict[str, str]:
    """The kept server's own address, in its environment. `prefect server start --port` only binds the
    port: the UI asks /ui-settings for its API, which Prefect derives from PREFECT_SERVER_API_PORT
    (default 4200) unless PREFECT_UI_API_URL says otherwise. On another port than 4200, the UI would
    show whatever server holds 4200 (its runs, not ours; our flow-run pages 404)."""
    url = f"http://{HOST}:{port}/api"
    return {
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": url,
        "PREFECT_UI_URL": url.removesuffix("/api"),
    }


def start(timeout: float = START_TIMEOUT) -> tuple[ServerInfo, bool]:
    """The running kept server, or a new one: (info, True when this call started it)."""
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    with FileLock(str(home / (STATE_NAME + ".lock")), timeout=timeout):  # two runs must not start two servers
        running = status()
        if running:
            return running, False
        port = _choose_port()
        url = f"http://{HOST}:{port}/api"
        log = home / "breaknews-server.log"
        env = dict(os.environ)
        # The server is a separate process: telemetry must be switched off in its own environment.
        env.update(TELEMETRY_OFF, PREFECT_HOME=str(home), **server_address_env(port))
        env.pop("PREFECT_API_URL", None)
        env.update(SERVER_SETTINGS)
        # Prefect's own `prefect server start`, through a thin entry point that tunes its task queue's
        # polling first (`_quiet_task_queue`).
        command = [sys.executable, "-m", "breaknews.flows.prefect_server", "--host", HOST, "--port", str(port)]
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
            )
        info = ServerInfo(pid=process.pid, url=url, log=str(log))
        deadline = time.monotonic() + timeout
        while not healthy(url, timeout=1.0):
            if process.poll() is not None:
                raise ServerError(f"the Prefect server exited at start (code {process.returncode}); see {log}")
            if time.monotonic() > deadline:
                _terminate(process.pid)
                raise ServerError(f"the Prefect server did not answer within {timeout:.0f} s; see {log}")
            time.sleep(0.25)
        _state_file().write_text(json.dumps({"pid": info.pid, "url": url, "log": str(log)}), encoding="utf-8")
        return info, True


def stop(timeout: float = 20.0) -> ServerInfo | None:
    """Stop the kept server; the info of the server stopped, or None when none was running."""
    state = _state_file()
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    info = ServerInfo(pid=pid, url=str(data.get("url", "")), log=str(data.get("log", "")))
    stopped = _alive(pid) and _is_prefect_server(pid) and _terminate(pid, timeout)
    state.unlink(missing_ok=True)
    return info if stopped else None


def _is_prefect_server(pid: int) -> bool:
    """Guard against a recycled pid: only signal a process that is a Prefect server."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return True  # no /proc (macOS): trust the state file, as `prefect server stop` does
    return b"prefect" in cmdline and b"server" in cmdline


def _terminate(pid: int, timeout: float = 20.0) -> bool:
    try:
        os.killpg(pid, signal.SIGTERM)  # the server and its uvicorn children share one session
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = 0 if _alive(pid) else pid
        if finished or not _alive(pid):
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True


def configured_api_url() -> str | None:
    """An API the user (or a test harness) configured: environment, Prefect profile, settings context.
    Read without importing Prefect when it is not loaded yet (the import alone takes seconds), so the
    URL can go into the environment before Prefect reads its settings."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    if "prefect.settings" in sys.modules:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        return str(url) if url else None
    return _profile_api_url()


def _profile_api_url() -> str | None:
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or prefect_home() / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    url = data.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return str(url) if url else None


@contextmanager
def prefect_api(*, ephemeral: bool = False, announce: bool = True) -> Iterator[str | None]:
    """Point this process (and the processes it starts) at the Prefect API a run should use.
    Best entered before Prefect is imported: then the environment alone carries the URL."""
    mode = "ephemeral" if ephemeral else (os.environ.get(MODE_ENV) or "keep").lower()
    if mode not in ("keep", "ephemeral"):
        raise ServerError(f"{MODE_ENV} must be 'keep' or 'ephemeral', got {mode!r}")
    if mode == "ephemeral" or configured_api_url():
        yield None
        return
    info, started = start()
    if started and announce:
        print(
            f"breaknews: started a local Prefect server at {info.ui} (pid {info.pid}), kept for later runs;"
            " `breaknews server stop` stops it",
            file=sys.stderr,
        )
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = info.url  # read by Prefect at import, and by worker processes (Dask)
    try:
        if "prefect.settings" in sys.modules:  # already loaded (a test, an embedding program)
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: info.url}):
                yield info.url
        else:
            yield info.url
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


@contextmanager
def serving_api() -> Iterator[str]:
    """The Prefect API `breaknews serve` schedules on, in PREFECT_API_URL before Prefect loads: the
    configured one, else the kept server, started if needed. Prefect will not schedule flows on its
    ephemeral API. A server started here is stopped on exit; one already running is left as it was."""
    configured = configured_api_url()
    if configured:
        os.environ["PREFECT_API_URL"] = configured
        yield configured
        return
    info, started = start()
    os.environ["PREFECT_API_URL"] = info.url
    try:
        yield info.url
    finally:
        if started:
            stop()


@contextmanager
def without_heartbeats() -> Iterator[None]:
    """For a flow run that lives and ends inside this command. Prefect's flow-run heartbeat is a
    thread that tells the server the run is alive (for crash-detection automations); at the end of
    every run Prefect joins it and waits out its one-second sleep, 0.5–1 s added to every command.
    A command's run ends with its process, and breaknews marks runs that died as `crashed` itself.
    `breaknews serve` keeps the heartbeats: its runs are Prefect's to watch."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


# Prefect's server runs its background services on a docket task queue whose worker wakes every
# 250 ms to look for work and due tasks, whether or not there is any: most of an idle server's CPU.
# The kept server checks every 5 s instead: its services run every 5 s or more and serve creates its
# own first run, so nothing waits on it that a user would notice.
QUEUE_POLL_SECONDS = 5.0


def _quiet_task_queue() -> None:
    """Make docket's Worker poll every QUEUE_POLL_SECONDS unless told otherwise. Only the kept server's
    own process does this; a docket release without these parameters is left as it is."""
    import inspect
    from datetime import timedelta

    try:
        from docket import worker
    except ImportError:
        return
    original = worker.Worker.__init__
    parameters = inspect.signature(original).parameters
    tuning = {
        name: timedelta(seconds=QUEUE_POLL_SECONDS)
        for name in ("minimum_check_interval", "scheduling_resolution")
        if name in parameters
    }

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        bound = inspect.signature(original).bind_partial(self, *args, **kwargs).arguments
        original(self, *args, **{**{k: v for k, v in tuning.items() if k not in bound}, **kwargs})  # type: ignore[arg-type]

    worker.Worker.__init__ = __init__  # type: ignore[method-assign]


def _main(argv: list[str]) -> int:
    """The kept server's process: `prefect server start --host H --port P`, telemetry off, quieter."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m breaknews.flows.prefect_server")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    os.environ.update(TELEMETRY_OFF)
    _quiet_task_queue()
    from prefect.cli import app

    sys.argv = ["prefect", "server", "start", "--host", args.host, "--port", str(args.port), "--analytics-off"]
    app()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
