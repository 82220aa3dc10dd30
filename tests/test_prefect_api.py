"""Which Prefect API a command uses: one configured wherever Prefect reads its settings is used as it is
(flows/prefect_api.py asks Prefect's settings), and no kept server is started."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from breaknews.flows.kept_server import STATE_NAME
from tests.conftest import EXE, SAMPLES, rows
from tests.processes import free_port


@pytest.mark.parametrize("where", ["prefect.toml", "profile"])
def test_an_api_configured_in_prefect_toml_or_a_profile_is_used(prefect_api, tmp_path, where):
    from prefect.settings import PREFECT_API_URL

    url = str(PREFECT_API_URL.value())  # the test session's Prefect server
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), BREAKNEWS_PREFECT_SERVER="keep", BREAKNEWS_PREFECT_PORT=str(free_port()))
    if where == "prefect.toml":  # in the directory the command runs in
        (project / "prefect.toml").write_text(f'[api]\nurl = "{url}"\n', encoding="utf-8")
    else:  # the active profile in the Prefect home
        (home / "profiles.toml").write_text(
            f'active = "work"\n\n[profiles.work]\nPREFECT_API_URL = "{url}"\n', encoding="utf-8"
        )
    db = tmp_path / "w.duckdb"
    done = subprocess.run(
        [EXE, "ingest", str(SAMPLES / "breaknews.187306.html"), "--db", str(db)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "started a local Prefect server" not in done.stderr and not (home / STATE_NAME).exists()
    [(flow_run_id,)] = rows(db, "SELECT flow_run_id FROM ingest_runs")
    assert httpx.get(f"{url}/flow_runs/{flow_run_id}", timeout=10).status_code == 200  # the run is there
