"""Stopping `breaknews serve` the way a terminal stops it (issue 21), with real serve processes: Ctrl-C to
the whole foreground process group gives one line and exit 130, no traceback from any process; the
stopped serve's deployment reads paused and Not Ready in Prefect, not Ready."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from breaknews.flows.schedule import deployment_name
from tests.conftest import EXE, rows
from tests.processes import kept_env
from tests.site_server import SiteServer

pytestmark = pytest.mark.slow  # real serve processes on a kept Prefect server of their own


@pytest.fixture(scope="module")
def quick_foreman_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A kept server of its own whose foreman looks every 5 s and calls a deployment Not Ready after 15 s
    without a poll (breaknews' kept server: 30 s and Prefect's 60 s), so a test sees it within a minute;
    settings in the environment win over the kept server's own (flows/kept_server.py)."""
    env = kept_env(tmp_path_factory.mktemp("kept-prefect-home"))
    env.update(
        PREFECT_SERVER_SERVICES_FOREMAN_LOOP_SECONDS="5",
        PREFECT_SERVER_SERVICES_FOREMAN_DEPLOYMENT_LAST_POLLED_TIMEOUT_SECONDS="15",
    )
    started = subprocess.run([EXE, "server", "start"], env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        yield env
    finally:
        subprocess.run([EXE, "server", "stop"], env=env, capture_output=True, timeout=120)


def _api(env: dict[str, str]) -> str:
    import json

    from breaknews.flows.kept_server import STATE_NAME

    return str(json.loads(Path(env["PREFECT_HOME"], STATE_NAME).read_text(encoding="utf-8"))["url"])


def _serve(db: Path, site_url: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    # As a shell starts a job: a process group of its own, the terminal's foreground group.
    return subprocess.Popen(
        [EXE, "serve", "--site", site_url, "--rate", "0", "--db", str(db), *extra],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for(predicate, timeout: float, what: str, step: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def poll_count_sql(db: Path, sql: str) -> int:
    """A count from a warehouse serve's runs may be writing (0 while it is missing or busy)."""
    from breaknews.warehouse.connect import connect

    if not db.exists():
        return 0
    try:
        with connect(db, read_only=True, wait_seconds=5) as con:
            return int(con.execute(sql).fetchone()[0])
    except Exception:
        return 0


def _spawn_children(root: psutil.Process) -> list[psutil.Process]:
    """Multiprocessing spawn children under ``root`` (how Prefect's runner starts a run), while they live."""
    found = []
    with contextlib.suppress(psutil.Error):
        for process in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "--multiprocessing-fork" in process.cmdline():
                    found.append(process)
    return found


def test_ctrl_c_to_serves_process_group_gives_one_line_and_exit_130(tmp_path, quick_foreman_env):
    site = SiteServer(range(4_900_000, 4_900_030), per_page=10, feed_size=10, latency=0.5).start()
    db, log = tmp_path / "w.duckdb", tmp_path / "serve.log"
    serve = _serve(db, site.base_url, quick_foreman_env, log, "--interval", "600")
    root = psutil.Process(serve.pid)
    try:
        # The moment the issue found: the run's process has just been spawned and is still importing Prefect.
        deadline = time.monotonic() + 120
        while not (children := _spawn_children(root)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children, "no run process was started"
        time.sleep(0.5)  # into its imports (in serve's group it would print a KeyboardInterrupt traceback)
        before = log.read_bytes()
        os.killpg(serve.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: every process of the group
        code = serve.wait(timeout=60)
    finally:
        site.stop()
        if serve.poll() is None:
            serve.kill()
    output = log.read_bytes()
    assert code == 130, output.decode()
    assert output[len(before) :].decode().splitlines() == ["breaknews serve: stopped"], output.decode()
    assert b"Traceback" not in output and b"KeyboardInterrupt" not in output, output.decode()
    # The run's processes were never in the terminal's group, and end with the serve.
    assert all(os.getpgid(child.pid) != serve.pid for child in children if child.is_running())
    _wait_for(lambda: not any(child.is_running() for child in children), 30, "the run's processes to end")
    # The run had not begun: no row, or one recorded cancelled.
    assert {status for (status,) in rows(db, "SELECT status FROM ingest_runs")} <= {"cancelled"}


def test_a_stopped_serves_deployment_is_paused_and_not_ready(tmp_path, quick_foreman_env):
    site = SiteServer(range(4_910_000, 4_910_010), per_page=10, feed_size=10).start()
    db, log = tmp_path / "w.duckdb", tmp_path / "serve.log"
    serve = _serve(db, site.base_url, quick_foreman_env, log, "--interval", "600")
    api = _api(quick_foreman_env)
    path = f"{api}/deployments/name/breaknews-scheduled-ingest/{deployment_name(str(db))}"

    def deployment() -> dict:
        found = httpx.get(path, timeout=10)
        found.raise_for_status()
        return dict(found.json())

    try:
        completed = "SELECT count(*) FROM ingest_runs WHERE status = 'completed'"
        _wait_for(lambda: poll_count_sql(db, completed) == 1, 120, "the run at start")
        serving = deployment()
        assert serving["status"] == "READY" and serving["paused"] is False  # while serve polls for its runs
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, log.read_text()
    finally:
        site.stop()
        if serve.poll() is None:
            serve.kill()
    assert deployment()["paused"] is True  # greyed in the UI: its schedule makes no runs
    # What the UI's badge shows: Not Ready, once Prefect's foreman sees the runner has stopped polling.
    _wait_for(lambda: deployment()["status"] == "NOT_READY", 60, "the deployment to read Not Ready")


def test_sigterm_to_every_process_at_once_still_stops_cleanly(tmp_path, quick_foreman_env):
    """systemd's default stop (and `pkill breaknews`) sends SIGTERM to every process at once: the serve
    gets it twice (directly and relayed by the command), which is one stop, not a second one that
    exits at once: the deployment is paused as on any clean stop."""
    site = SiteServer(range(4_920_000, 4_920_010), per_page=10, feed_size=10).start()
    db, log = tmp_path / "w.duckdb", tmp_path / "serve.log"
    serve = _serve(db, site.base_url, quick_foreman_env, log, "--interval", "600")
    try:
        completed = "SELECT count(*) FROM ingest_runs WHERE status = 'completed'"
        _wait_for(lambda: poll_count_sql(db, completed) == 1, 120, "the run at start")
        for process in [psutil.Process(serve.pid), *psutil.Process(serve.pid).children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                process.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, log.read_text()
    finally:
        site.stop()
        if serve.poll() is None:
            serve.kill()
    found = httpx.get(
        f"{_api(quick_foreman_env)}/deployments/name/breaknews-scheduled-ingest/{deployment_name(str(db))}"
    )
    assert found.json()["paused"] is True, log.read_text()
    assert log.read_text().rstrip().endswith("breaknews serve: stopped")
