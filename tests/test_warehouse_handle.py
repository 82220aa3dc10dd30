"""The warehouse is opened (locked, created, migrated) once, where a command starts, and handed down:
the flow run it hands it to records it as its path, and neither locks nor migrates it again."""

from __future__ import annotations

import pytest

from breaknews.flows.cli import main
from breaknews.warehouse import migrate as migrations
from breaknews.warehouse.errors import WarehouseBusyError
from breaknews.warehouse.handle import open_warehouse
from tests.conftest import SAMPLES, rows

PAGE = SAMPLES / "breaknews.187306.html"


def _recorded_parameters(db) -> dict:
    """The parameters Prefect recorded for the flow run of the warehouse's last ingest run."""
    from prefect import get_client

    [(flow_run_id,)] = rows(db, "SELECT flow_run_id FROM ingest_runs ORDER BY started_at DESC LIMIT 1")
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).parameters


@pytest.fixture
def migrate_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = migrations.migrate

    def counting(con):
        calls.append("migrate")
        return real(con)

    monkeypatch.setattr(migrations, "migrate", counting)
    return calls


@pytest.mark.usefixtures("prefect_api")
def test_a_commands_flow_run_records_its_warehouse_as_the_path(db_path, capsys):
    """The command hands the flow its opened warehouse; Prefect's UI shows the flow run's parameters as
    JSON, and the warehouse reads there as its path, not as an object Prefect could not encode."""
    assert main(["ingest", str(PAGE), "--db", str(db_path)]) == 0
    assert _recorded_parameters(db_path)["db"] == str(db_path)


@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize("flow_name", ["ingest_pages", "reextract_pages", "ingest_site"])
def test_a_flow_given_an_opened_warehouse_neither_locks_nor_migrates_it(db_path, migrate_calls, flow_name):
    """A library caller that holds the warehouse hands it to the flow as a command does: the flow runs
    inside the caller's lock (a second take would be refused: the lock is not re-entrant) and the
    caller's one migration, and its run records the path."""
    from breaknews.flows import ingest, reextract, site

    flows = {
        "ingest_pages": lambda warehouse: ingest.ingest_pages(paths=[str(PAGE)], db=warehouse),
        "reextract_pages": lambda warehouse: reextract.reextract_pages(db=warehouse),
        "ingest_site": lambda warehouse: site.ingest_site(paths=[str(PAGE)], db=warehouse),
    }
    with open_warehouse(db_path) as warehouse:
        summary = flows[flow_name](warehouse)
        with pytest.raises(WarehouseBusyError), open_warehouse(db_path):  # still held by the caller, after the run
            pass
    assert summary.status == "completed"
    assert migrate_calls == ["migrate"]
    assert _recorded_parameters(db_path)["db"] == str(db_path)
