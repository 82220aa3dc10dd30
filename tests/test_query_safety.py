"""`breaknews query` is read-only in the full sense, and so is every read connection breaknews opens:
no file written, no other database attached, no extension fetched or loaded, no file outside the
warehouse read unless `--allow-files` says so, and no statement can switch any of that back on."""

from __future__ import annotations

import duckdb
import pytest

from breaknews.flows.cli import main
from breaknews.warehouse.read.query import read_connection
from tests.corpus import build_corpus
from tests.site_server import SiteServer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("query-safety") / "corpus.duckdb")


@pytest.fixture(scope="module")
def other_warehouse(tmp_path_factory):
    """Someone else's DuckDB file next to ours, which a query must neither attach nor overwrite."""
    path = tmp_path_factory.mktemp("other") / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE secrets AS SELECT 'mine' AS s")
    con.close()
    return path


@pytest.fixture(scope="module")
def extension_server():
    """Where a query would download an extension from (`INSTALL x FROM 'url'`): every request is logged."""
    site = SiteServer(range(1, 2)).start()
    yield site
    site.stop()


def _query(corpus, sql: str, *extra: str) -> int:
    return main(["query", sql, "--db", str(corpus), "--format", "csv", *extra])


def test_the_extension_server_would_see_an_unsealed_install(extension_server):
    """The control: a plain DuckDB connection does fetch from the server (so the checks below can fail)."""
    before = len(extension_server.paths())
    with pytest.raises(duckdb.Error):
        duckdb.connect().execute(f"INSTALL httpfs FROM '{extension_server.base_url}'")
    assert len(extension_server.paths()) == before + 1


@pytest.mark.parametrize("allow_files", [False, True])
def test_query_writes_no_file_attaches_nothing_and_installs_nothing(
    corpus, other_warehouse, extension_server, tmp_path, capsys, allow_files
):
    flag = ["--allow-files"] if allow_files else []
    original = other_warehouse.read_bytes()
    requests = len(extension_server.paths())
    refused = [
        f"COPY articles TO '{tmp_path / 'x.csv'}'",
        f"COPY (SELECT 1 AS a) TO '{other_warehouse}' (FORMAT csv)",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'",
        f"ATTACH '{other_warehouse}' AS other (READ_ONLY)",
        f"ATTACH '{tmp_path / 'new.duckdb'}' AS fresh",
        "INSTALL httpfs",
        f"INSTALL httpfs FROM '{extension_server.base_url}'",
        f"FORCE INSTALL json FROM '{extension_server.base_url}'",
        "LOAD httpfs",
        f"SELECT * FROM read_csv('{extension_server.base_url}/1')",  # would autoinstall and load httpfs
        f"SELECT 1; COPY articles TO '{tmp_path / 'y.csv'}'",  # a harmless statement first changes nothing
        "DELETE FROM articles",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET allowed_directories",
    ]
    for sql in refused:
        assert _query(corpus, sql, *flag) == 1, sql
        err = capsys.readouterr().err
        assert err.startswith("breaknews: error:") and err.count("\n") == 1 and "Traceback" not in err, sql
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, nothing created
    assert other_warehouse.read_bytes() == original
    assert len(extension_server.paths()) == requests  # not even a download attempt
    # The read-only warehouse still answers in the same way afterwards.
    assert _query(corpus, "SELECT count(*) AS n FROM articles", *flag) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 5


def test_files_outside_the_warehouse_are_read_only_with_allow_files(corpus, tmp_path, capsys):
    table = tmp_path / "mine.csv"
    table.write_text("word,n\n수소,3\n", encoding="utf-8")
    for sql in (f"SELECT * FROM read_csv('{table}')", "SELECT * FROM read_text('/etc/passwd')", "FROM glob('/etc/*')"):
        assert _query(corpus, sql) == 1
        err = capsys.readouterr().err
        assert "--allow-files" in err and "Traceback" not in err
    # A statement cannot unlock the files for the one after it: the settings are locked.
    assert _query(corpus, f"SET enable_external_access = true; SELECT * FROM read_csv('{table}')") == 1
    assert "locked" in capsys.readouterr().err

    mine = f"SELECT w.word, count(*) AS hits FROM read_csv('{table}') w GROUP BY ALL"
    assert _query(corpus, mine, "--allow-files") == 0
    assert capsys.readouterr().out.splitlines() == ["word,hits", "수소,1"]
    # Reading files is all --allow-files gives: writing one is still refused.
    assert _query(corpus, f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'", "--allow-files") == 1
    assert not (tmp_path / "out.csv").exists()


def test_every_read_connection_is_sealed(corpus, tmp_path):
    """search, report, export and runs read through the same sealed connection as query."""
    probe = tmp_path / "probe.csv"
    probe.write_text("a\n1\n")
    with read_connection(str(corpus)) as con:
        for sql in (
            f"SELECT * FROM read_csv('{probe}')",
            f"COPY articles TO '{tmp_path / 'out.csv'}'",
            "SET enable_external_access = true",
            "SET autoinstall_known_extensions = true",
            "SET TimeZone = 'UTC'",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("Asia/Seoul",)
        attached = con.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL").fetchall()
        assert attached == [(str(corpus),)]
    # An export's connection may write its one partial file, and nothing else.
    partial = tmp_path / ".pairs.jsonl.partial"
    with read_connection(str(corpus), write_paths=[partial]) as con:
        con.execute(f"COPY (SELECT 1 AS a) TO '{partial}' (FORMAT json)")
        with pytest.raises(duckdb.Error):
            con.execute(f"COPY (SELECT 1 AS a) TO '{tmp_path / 'elsewhere.json'}' (FORMAT json)")
    assert partial.exists() and not (tmp_path / "elsewhere.json").exists()


def test_runs_reads_the_ledger_through_the_sealed_connection(corpus, capsys):
    assert main(["runs", "--db", str(corpus), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("run_id,command,status")
