from __future__ import annotations

import pytest

from breaknews.warehouse import connect as wh
from breaknews.warehouse import migrate as migrations_module
from breaknews.warehouse.connect import connect, ingest_lock, resolve_db_path
from breaknews.warehouse.errors import WarehouseBusyError, WarehouseError
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


def test_the_lock_is_reentrant_within_a_process_and_released_by_the_outermost(db_path):
    """The command takes the lock before its flow starts; the flow takes it again, in any thread."""
    import threading

    from filelock import FileLock, Timeout

    entered = []

    def flow_thread() -> None:
        with ingest_lock(db_path):
            entered.append(True)

    with ingest_lock(db_path):
        thread = threading.Thread(target=flow_thread)
        thread.start()
        thread.join(timeout=10)
        assert entered == [True]
        with pytest.raises(Timeout):
            FileLock(f"{db_path}.lock").acquire(timeout=0)  # still held: the outermost block is open
    other = FileLock(f"{db_path}.lock")
    other.acquire(timeout=0)  # released with the outermost block
    other.release()


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
