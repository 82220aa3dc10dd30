"""Any DuckDB client opens the warehouse: files are written in a storage format DuckDB 1.4 LTS and later
read, checked with the real DuckDB 1.x CLI from the package registry (`duckdb-cli`), and older files
are converted by `breaknews convert`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from breaknews.flows.cli import main
from breaknews.flows.ingest import ingest_pages
from breaknews.warehouse.connect import STORAGE_VERSION, connect, storage_version
from breaknews.warehouse.migrate import VIEWS_DIR, open_migrated
from tests.conftest import SAMPLES, rows
from tests.corpus import build_corpus

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"


def cli(db: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """The DuckDB command-line client, read-only, CSV out, as a user would run it."""
    return subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", "-noheader", str(db), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_is_a_duckdb_1x_client():
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version  # older than the DuckDB that writes the warehouse
    assert duckdb.__version__.startswith("2.")


@pytest.mark.usefixtures("prefect_api")
def test_a_freshly_ingested_warehouse_opens_in_the_duckdb_1x_cli(db_path):
    summary = ingest_pages(paths=[str(SAMPLES)], db=str(db_path))
    assert summary.counts.articles_new > 0
    with connect(db_path, read_only=True) as con:
        assert storage_version(con) == STORAGE_VERSION
    done = cli(db_path, "SELECT count(*), count(DISTINCT article_id) FROM articles")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{summary.counts.articles_new},{summary.counts.articles_new}"]
    per_day = cli(db_path, "SELECT sum(articles) FROM articles_per_day")
    assert per_day.returncode == 0, per_day.stderr
    assert int(per_day.stdout) == rows(db_path, "SELECT count(*) FROM articles WHERE published_at IS NOT NULL")[0][0]


def test_every_view_opens_in_the_duckdb_1x_cli(tmp_path):
    db = build_corpus(tmp_path / "corpus.duckdb")
    for view in sorted(f.stem for f in VIEWS_DIR.glob("*.sql")):
        done = cli(db, f"SELECT count(*) FROM {view}")
        assert done.returncode == 0, f"{view}: {done.stderr}"
        assert int(done.stdout) == rows(db, f"SELECT count(*) FROM {view}")[0][0]


def _old_format_warehouse(path: Path) -> Path:
    """A warehouse as breaknews wrote it before issue 11: DuckDB 2.0's default storage format."""
    duckdb.connect(str(path)).close()
    build_corpus(path)
    return path


def test_convert_rewrites_an_old_warehouse_for_every_client(tmp_path, capsys):
    db = _old_format_warehouse(tmp_path / "old.duckdb")
    refused = cli(db, "SELECT count(*) FROM articles")
    assert refused.returncode != 0 and "version number" in refused.stderr  # what users saw
    before = rows(db, "SELECT * FROM articles ORDER BY article_id")
    pairs = rows(db, "SELECT count(*) FROM paragraph_pairs")

    assert main(["align", "--db", str(db)]) == 0  # any command that opens it says how to fix it
    assert f"breaknews convert --db {db}" in capsys.readouterr().err

    assert main(["convert", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "v2.0.0" in out and STORAGE_VERSION in out
    assert rows(db, "SELECT * FROM articles ORDER BY article_id") == before
    assert rows(db, "SELECT count(*) FROM paragraph_pairs") == pairs
    opened = cli(db, "SELECT count(*) FROM articles; SELECT count(*) FROM articles_per_bureau")
    assert opened.returncode == 0, opened.stderr
    assert int(opened.stdout.split()[0]) == len(before)
    backup = tmp_path / "old.duckdb.v2.0.0-backup"
    assert rows(backup, "SELECT count(*) FROM articles") == [(len(before),)]  # the old file is kept whole

    assert main(["convert", "--db", str(db)]) == 0  # converting again changes nothing
    assert "nothing to do" in capsys.readouterr().out
    open_migrated(db)  # later writes keep the format
    with connect(db, read_only=True) as con:
        assert storage_version(con) == STORAGE_VERSION


def test_convert_refuses_while_a_run_writes(tmp_path, capsys):
    from filelock import FileLock

    db = _old_format_warehouse(tmp_path / "busy.duckdb")
    with FileLock(f"{db}.lock"):
        assert main(["convert", "--db", str(db)]) == 1
    assert "another breaknews run is writing" in capsys.readouterr().err
    assert not (tmp_path / "busy.duckdb.v2.0.0-backup").exists()
