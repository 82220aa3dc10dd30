"""The local Prefect server kept between `breaknews` runs: started once, reused, stopped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest

from breaknews.flows import kept_server as server
from breaknews.flows import prefect_api as api_choice
from breaknews.flows.heartbeats import without_heartbeats
from tests.conftest import EXE, SAMPLES, rows
from tests.processes import kept_env


@pytest.fixture
def kept_home(tmp_path, monkeypatch):
    home = tmp_path / "prefect-home"
    env = kept_env(home)
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    monkeypatch.setenv("PREFECT_HOME", str(home))
    try:
        yield env
    finally:
        server.stop()  # never leave a server behind, whatever the test did


def _ingest(env: dict[str, str], page: Path, db: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [EXE, "ingest", str(page), "--db", str(db)], env=env, capture_output=True, text=True, timeout=400
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_first_run_starts_a_kept_server_later_runs_reuse_it(kept_home, tmp_path):
    # Another Prefect server (the test session's) already holds the port breaknews is configured to
    # use, as a user's own `prefect server start` holds 4200: ours must start elsewhere and its UI must
    # still talk to its own API, not to the other server.
    from prefect.settings import PREFECT_API_URL

    other_api = str(PREFECT_API_URL.value())
    other_port = int(other_api.rsplit(":", 1)[1].split("/")[0])
    kept_home["BREAKNEWS_PREFECT_PORT"] = str(other_port)
    db = tmp_path / "w.duckdb"
    first = _ingest(kept_home, SAMPLES / "breaknews.187306.html", db)
    assert "started a local Prefect server" in first.stderr and "breaknews server stop" in first.stderr
    info = server.status()
    assert info is not None and info.url.startswith("http://127.0.0.1:")
    # Prefect's own documented command, bound to loopback only, and telemetry off in its own environment.
    process = psutil.Process(info.pid)
    assert process.cmdline()[1:5] == ["-m", "prefect", "server", "start"] and "127.0.0.1" in process.cmdline()
    environ = process.environ()
    assert environ["DO_NOT_TRACK"] == "1" and environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert os.getpgid(info.pid) == info.pid  # a session of its own: a terminal's Ctrl-C never reaches it
    # Its UI points at its own API, and our run is on it.
    assert info.url != other_api and f":{other_port}/" not in info.url
    ui_settings = httpx.get(f"{info.ui}/ui-settings", timeout=10).json()
    assert ui_settings["api_url"] == info.url
    [(flow_run_id,)] = rows(db, "SELECT flow_run_id FROM ingest_runs")
    assert httpx.get(f"{info.url}/flow_runs/{flow_run_id}", timeout=10).status_code == 200
    assert httpx.get(f"{other_api}/flow_runs/{flow_run_id}", timeout=10).status_code == 404

    second = _ingest(kept_home, SAMPLES / "breaknews.799512.html", db)
    assert "started" not in second.stderr
    assert server.status() == info  # the same server, not a new one
    assert rows(db, "SELECT count(*) FROM ingest_runs WHERE status = 'completed'") == [(2,)]

    assert server.stop() == info
    assert server.status() is None
    assert not psutil.pid_exists(info.pid) or psutil.Process(info.pid).status() == psutil.STATUS_ZOMBIE


def test_a_configured_api_is_used_as_it_is(prefect_api, tmp_path, monkeypatch):
    """Under an API already configured (here the test harness), no server is started."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(api_choice.MODE_ENV, "keep")
    with api_choice.prefect_api() as url:
        assert url is None
    assert not (tmp_path / "home" / server.STATE_NAME).exists()


def test_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv(api_choice.MODE_ENV, "sometimes")
    with pytest.raises(server.ServerError, match="keep"), api_choice.prefect_api():
        pass


def test_command_runs_start_no_heartbeat_thread(prefect_api):
    """A command's flow run sends no heartbeats: Prefect's engine reads the interval inside the run
    and starts no heartbeat thread (joining it cost every command up to a second)."""
    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    @flow
    def interval() -> int | None:
        return get_current_settings().flows.heartbeat_frequency

    # (the suite's own Prefect runs without heartbeats, as commands do: restore Prefect's default here)
    with temporary_settings(restore_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY}):
        assert interval() is not None  # Prefect's default: a heartbeat thread per flow run
        with without_heartbeats():
            assert interval() is None


def test_the_kept_servers_settings_are_prefect_settings():
    """The kept server is tuned through Prefect's settings alone: a Prefect release that renamed one would
    leave it untuned without a word, so every name must be one Prefect knows."""
    from prefect.settings import get_current_settings

    known = set(get_current_settings().to_environment_variables(exclude_unset=False))
    assert set(server.SERVER_SETTINGS) <= known, set(server.SERVER_SETTINGS) - known


def test_prefect_has_no_setting_for_its_task_queues_polling_yet():
    """An upstream hook that is missing (bench/README.md, the kept server idle): Prefect's server polls its
    docket task queue every 250 ms, most of an idle server's CPU, and offers no setting for it (docket's
    own worker takes `minimum_check_interval` and `scheduling_resolution`). When this fails, Prefect has
    one: put it in SERVER_SETTINGS, and measure again with bench/bench_server_idle.py."""
    from prefect.settings import get_current_settings

    known = get_current_settings().to_environment_variables(exclude_unset=False)
    assert {name for name in known if name.startswith("PREFECT_SERVER_DOCKET_")} == {
        "PREFECT_SERVER_DOCKET_NAME",
        "PREFECT_SERVER_DOCKET_URL",
    }
