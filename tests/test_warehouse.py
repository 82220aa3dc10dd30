from __future__ import annotations

import pytest

from breaknews.warehouse import connect as wh
from breaknews.warehouse import migrate as migrations_module
from breaknews.warehouse.connect import STORAGE_VERSION, connect, ingest_lock, resolve_db_path
from breaknews.warehouse.errors import WarehouseBusyError, WarehouseError
from breaknews.warehouse.handle import open_warehouse
from breaknews.warehouse.migrate import migrate, migrations, open_migrated
from tests.conftest import lock_held_elsewhere, rows


def test_migrations_are_numbered_and_named():
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))


def test_migrate_is_idempotent_and_records_checksums(db_path):
    open_migrated(db_path)
    open_migrated(db_path)
    recorded = rows(db_path, "SELECT version, checksum FROM schema_migrations ORDER BY version")
    assert recorded == [(m.version, m.checksum) for m in migrations()]


def test_an_edited_migration_is_refused(db_path, monkeypatch, tmp_path):
    open_migrated(db_path)
    edited = tmp_path / "migrations"
    edited.mkdir()
    for m in migrations():
        (edited / f"{m.version:04d}_{m.name}.sql").write_text(m.sql + "\n-- edited\n")
    monkeypatch.setattr(migrations_module, "MIGRATIONS_DIR", edited)
    con = connect(db_path)
    with pytest.raises(WarehouseError, match="edited after it was applied"):
        migrate(con)
    con.close()


def test_read_only_connection_refuses_writes(db_path):
    open_migrated(db_path)
    con = connect(db_path, read_only=True)
    import duckdb

    with pytest.raises(duckdb.Error):
        con.execute("DELETE FROM articles")
    con.close()


def test_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse"):
        connect(tmp_path / "nope.duckdb", read_only=True)
    with pytest.raises(WarehouseError, match="does not exist"):
        connect(tmp_path / "no" / "such" / "dir.duckdb")


def test_not_a_database_is_a_clear_error(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(WarehouseError, match="cannot"):
        open_migrated(bogus)


def test_second_writer_is_refused_while_the_lock_is_held(db_path):
    with (
        lock_held_elsewhere(db_path),
        pytest.raises(WarehouseBusyError, match="another breaknews run"),
        ingest_lock(db_path, wait_seconds=0.1),
    ):
        pass


def test_the_lock_is_taken_once_a_second_take_in_the_same_process_is_refused(db_path):
    """A process takes a warehouse's lock once, where its writing starts, and hands the opened warehouse
    down: nothing re-enters the lock, so a second take (any thread, same process) is another writer's."""
    import threading

    from filelock import FileLock

    refused: list[BaseException] = []

    def second_writer() -> None:
        try:
            with ingest_lock(db_path):
                pass
        except WarehouseBusyError as exc:
            refused.append(exc)

    with ingest_lock(db_path):
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=10)
        assert len(refused) == 1
        with pytest.raises(WarehouseBusyError), ingest_lock(db_path):
            pass
    other = FileLock(f"{db_path}.lock")
    other.acquire(timeout=0)  # released when the block ends
    other.release()


def test_an_opened_warehouse_is_locked_created_and_migrated_for_its_block(db_path):
    with open_warehouse(db_path) as warehouse:
        assert warehouse == str(db_path) and isinstance(warehouse, str)
        assert warehouse.storage_version == STORAGE_VERSION
        assert rows(db_path, "SELECT count(*) FROM schema_migrations")[0][0] == len(migrations())
        with pytest.raises(WarehouseBusyError), open_warehouse(db_path):
            pass
    with open_warehouse(db_path):  # released with its block
        pass


def test_a_busy_warehouse_is_not_created(tmp_path):
    db = tmp_path / "w.duckdb"
    with lock_held_elsewhere(db), pytest.raises(WarehouseBusyError), open_warehouse(db, wait_seconds=0.1):
        pass
    assert not db.exists()


def test_db_path_resolution(monkeypatch):
    monkeypatch.delenv("BREAKNEWS_DB", raising=False)
    assert str(resolve_db_path(None)) == "breaknews.duckdb"
    monkeypatch.setenv("BREAKNEWS_DB", "/tmp/env.duckdb")
    assert str(resolve_db_path(None)) == "/tmp/env.duckdb"
    assert str(resolve_db_path("/tmp/flag.duckdb")) == "/tmp/flag.duckdb"


def test_timestamps_read_back_in_korea_time(db_path):
    open_migrated(db_path)
    con = connect(db_path, read_only=True)
    [(shown,)] = con.execute("SELECT strftime(TIMESTAMPTZ '2024-12-03 04:57:00+00', '%Y-%m-%d %H:%M %z')").fetchall()
    con.close()
    assert shown == "2024-12-03 13:57 +09"


def test_writers_keep_row_groups_small_across_batches(db_path):
    """Batches committed one writer at a time are merged at checkpoints only up to the writer's
    row-group size, so no checkpoint rewrites more than that many rows (memory stays flat)."""
    open_migrated(db_path)
    starts = range(0, 5 * wh.WRITE_ROW_GROUP_SIZE, 1000)
    for start in starts:
        with wh.writer(db_path) as con:
            con.execute(
                "INSERT INTO ingest_failures (run_id, source, stage, reason, failed_at)"
                " SELECT 'r', 'page-' || i, 'decode', 'x', now() FROM range(?, ? + 1000) t(i)",
                [start, start],
            )
    sizes = rows(
        db_path,
        "SELECT row_group_id, sum(count) FROM pragma_storage_info('ingest_failures')"
        " WHERE column_name = 'source' AND segment_type <> 'VALIDITY' GROUP BY row_group_id",
    )
    assert sum(n for _, n in sizes) == len(starts) * 1000
    assert len(sizes) >= 5
    assert max(n for _, n in sizes) <= wh.WRITE_ROW_GROUP_SIZE
