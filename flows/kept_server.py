"""A local Prefect server kept alive between `breaknews` runs: started once, found again, stopped.

Without a configured API, Prefect starts a temporary server for every process (8–20 s before the first
task) and stops it at exit. `breaknews` instead starts Prefect's own `prefect server start` once, as a
plain subprocess of Prefect's documented CLI, bound to 127.0.0.1, telemetry off, tuned through
Prefect's own settings only (`SERVER_SETTINGS`), records it in ``$PREFECT_HOME/breaknews-server.json``
and reuses it, so later runs start in about the time Python takes to import Prefect.

Why not `prefect server start --background` and `prefect server stop`: the background mode starts
uvicorn with its output on pipes nobody reads once the CLI has exited (the server's log is lost), in the
caller's process group (a Ctrl-C in the terminal of the command that started it would stop the kept
server too), and records it in ``$PREFECT_HOME/server.pid``, which a user's own background server in the
same home uses; `prefect server stop` only knows that file. So the server runs in the foreground mode,
as a child in a session of its own with its output in ``breaknews-server.log``, and `stop` sends SIGTERM
to its process group after checking (pid and start time, through psutil) that it is still that process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from filelock import FileLock

from breaknews.flows.prefect_environment import TELEMETRY_OFF
from breaknews.warehouse.errors import BreaknewsError

PORT_ENV = "BREAKNEWS_PREFECT_PORT"
DEFAULT_PORT = 4200  # Prefect's own default, so `prefect` commands and the UI find it too
HOST = "127.0.0.1"  # never reachable from another machine
STATE_NAME = "breaknews-server.json"
START_TIMEOUT = 120.0


class ServerError(BreaknewsError):
    """The kept Prefect server could not be started or stopped."""


# What the kept server runs, and why: Prefect's server runs a set of background services, each waking on
# its own loop; breaknews uses schedules (serve), deployment concurrency limits, deployment status and
# the UI, nothing else. Each is a documented Prefect setting (`prefect config view --show-defaults`); a
# value set in the environment wins over these. Measured idle cost in bench/bench_server_idle.py.
SERVER_SETTINGS = {
    # Runs marked Late: serve clears leftover runs itself and never starts a late one (issue 11).
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    # Paused flow runs timing out: breaknews never pauses a run.
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    # Sub-runs of cancelled parents: breaknews has no subflows; serve cancels its own runs.
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    # Automations (reactive and proactive triggers): breaknews defines none.
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # The foreman marks a deployment Not Ready once its runner stopped polling (60 s), so a stopped
    # serve's deployment does not read Ready in the UI (issue 21); it looks every 30 s instead of 15 s.
    "PREFECT_SERVER_SERVICES_FOREMAN_LOOP_SECONDS": "30",
    # Schedules of deployments updated in the last seconds: serve asks for its runs itself when it starts
    # (flows/schedule.py), so the quick loop for new deployments runs every 30 s instead of every 5 s.
    "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "30",
    # Expired leases of serve's concurrency limit (a run that died holding its slot): every 60 s, not 15 s.
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "60",
    # Leases of log-cleanup messages: looked at every minute instead of every 5 s.
    "PREFECT_SERVER_SERVICES_CLEANUP_RECONCILER_LOOP_SECONDS": "60",
    # Kept as Prefect ships them: the scheduler's main loop (60 s), the event persister and the task-run
    # recorder (the UI), the database vacuum (hourly).
}


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    url: str  # the API URL, ending in /api
    log: str
    started: float = 0.0  # the process's start time (psutil), so a recycled pid is never taken for it

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


def _recorded() -> ServerInfo | None:
    try:
        data = json.loads(_state_file().read_text(encoding="utf-8"))
        return ServerInfo(
            pid=int(data["pid"]),
            url=str(data.get("url", "")),
            log=str(data.get("log", "")),
            started=float(data.get("started", 0.0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _process(info: ServerInfo) -> psutil.Process | None:
    """The recorded server's process, if it is still that process (not a new one under a recycled pid)."""
    try:
        process = psutil.Process(info.pid)
        if info.started:
            same = abs(process.create_time() - info.started) < 1.0
        else:  # recorded by an older breaknews: the command line says whether it is a Prefect server
            same = any("prefect" in part for part in process.cmdline())
        return process if same and process.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def status() -> ServerInfo | None:
    """The kept server, when its process is alive and its API answers."""
    info = _recorded()
    if info is not None and _process(info) is not None and healthy(info.url):
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


def server_command(port: int) -> list[str]:
    """Prefect's documented `prefect server start`, as this Python runs it."""
    return [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port), "--analytics-off"]


def server_environment(home: Path, port: int) -> dict[str, str]:
    """The kept server's environment: this one, with telemetry off, its home and address, and
    SERVER_SETTINGS where the environment does not set them already."""
    # Its log file keeps warnings and errors (a command's own quieter console setting is not for it).
    env = {**SERVER_SETTINGS, "PREFECT_LOGGING_LEVEL": "WARNING", **os.environ}
    env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
    # The server is a separate process: telemetry must be switched off in its own environment.
    env.update(TELEMETRY_OFF, PREFECT_HOME=str(home), **server_address_env(port))
    env.pop("PREFECT_API_URL", None)
    return env


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
        with open(log, "ab") as out:
            # A session of its own: a terminal's Ctrl-C to the command that started it never reaches it.
            process = subprocess.Popen(
                server_command(port),
                env=server_environment(home, port),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        info = ServerInfo(pid=process.pid, url=url, log=str(log), started=psutil.Process(process.pid).create_time())
        deadline = time.monotonic() + timeout
        while not healthy(url, timeout=1.0):
            if process.poll() is not None:
                raise ServerError(f"the Prefect server exited at start (code {process.returncode}); see {log}")
            if time.monotonic() > deadline:
                _terminate(psutil.Process(process.pid))
                raise ServerError(f"the Prefect server did not answer within {timeout:.0f} s; see {log}")
            time.sleep(0.25)
        _state_file().write_text(
            json.dumps({"pid": info.pid, "url": url, "log": str(log), "started": info.started}), encoding="utf-8"
        )
        return info, True


def stop(timeout: float = 20.0) -> ServerInfo | None:
    """Stop the kept server; the info of the server stopped, or None when none was running."""
    info = _recorded()
    if info is None:
        return None
    process = _process(info)
    if process is not None:
        _terminate(process, timeout)
    _state_file().unlink(missing_ok=True)
    return info if process is not None else None


def _terminate(process: psutil.Process, timeout: float = 20.0) -> None:
    """SIGTERM to the server's process group (it leads its own session), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs([process], timeout=timeout)
    if alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
