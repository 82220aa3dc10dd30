"""`breaknews` as a user runs it: arguments, exit codes, output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from breaknews.flows.cli import main
from tests.conftest import EXE, FIXTURES, ROOT, SAMPLES, rows


@pytest.fixture
def loaded(prefect_api, db_path):
    assert main(["ingest", str(FIXTURES), "--db", str(db_path)]) == 0
    return db_path


def test_ingest_prints_a_summary_naming_failures(prefect_api, db_path, capsys):
    assert main(["ingest", str(FIXTURES), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "articles:" in out and "new" in out and "updated" in out and "unchanged" in out
    assert "translation:" in out and "with" in out and "without" in out
    assert "breaknews.garbage.html" in out and "[decode]" in out
    assert "breaknews.deleted.html" in out and "[extract]" in out


def test_query_json_shows_korean_and_english_side_by_side(loaded, capsys):
    capsys.readouterr()
    sql = "SELECT article_id, title_ko, title_en FROM articles WHERE has_translation ORDER BY article_id"
    assert main(["query", sql, "--db", str(loaded), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and all(r["title_ko"] and r["title_en"] for r in records)
    assert any(r["article_id"] == "www:1063522" for r in records)


def test_query_csv_and_table(loaded, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "query",
                "SELECT lang, count(*) AS n FROM paragraphs GROUP BY lang ORDER BY lang",
                "--db",
                str(loaded),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    parsed = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert parsed[0] == ["lang", "n"] and [r[0] for r in parsed[1:]] == ["en", "ko"]
    assert main(["query", "SELECT title_ko FROM articles LIMIT 1", "--db", str(loaded)]) == 0
    assert "title_ko" in capsys.readouterr().out


def test_query_is_read_only(loaded, capsys):
    before = rows(loaded, "SELECT count(*) FROM articles")
    assert main(["query", "DELETE FROM articles", "--db", str(loaded)]) == 1
    assert "read-only" in capsys.readouterr().err
    assert rows(loaded, "SELECT count(*) FROM articles") == before


def test_query_errors_are_one_clean_line(loaded, capsys):
    assert main(["query", "SELECT nope FROM articles", "--db", str(loaded)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("breaknews: error: query failed") and "Traceback" not in err


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "missing"), "--db", str(tmp_path / "w.duckdb")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["ingest"])
    assert info.value.code == 2


def test_unwritable_warehouse_exits_1(prefect_api, tmp_path, capsys):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_bytes(b"not a database" * 500)
    assert main(["ingest", str(SAMPLES), "--db", str(bogus)]) == 1
    assert "breaknews: error:" in capsys.readouterr().err
    assert main(["ingest", str(SAMPLES), "--db", str(tmp_path / "no" / "dir.duckdb")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["ingest", str(SAMPLES), "--db", str(tmp_path)]) == 1  # a folder, not a file
    assert "Traceback" not in capsys.readouterr().err


def test_query_without_a_warehouse_exits_1(tmp_path, capsys):
    assert main(["query", "SELECT 1", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "no warehouse" in capsys.readouterr().err


def test_env_var_names_the_warehouse(loaded, monkeypatch, capsys):
    monkeypatch.setenv("BREAKNEWS_DB", str(loaded))
    capsys.readouterr()
    assert main(["query", "SELECT count(*) AS n FROM articles", "--format", "csv"]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 5


def breaknews_modules() -> list[str]:
    """Every module of the three packages, by its installed name (`flows/cli/parser.py` →
    `breaknews.flows.cli.parser`)."""
    names = []
    for package in ("flows", "tasks", "warehouse"):
        for file in sorted((ROOT / package).rglob("*.py")):
            parts = file.relative_to(ROOT).with_suffix("").parts
            if parts[-1] != "__main__":
                names.append(".".join(("breaknews", *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return names


def test_importing_breaknews_changes_nothing_in_the_environment():
    code = (
        "import os, sys, importlib; before = dict(os.environ)\n"
        f"for name in {breaknews_modules()!r}: importlib.import_module(name)\n"
        "print(dict(os.environ) == before, 'prefect' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED")}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]  # every module imported, Prefect among them


def test_the_parser_loads_neither_prefect_nor_the_parsing_libraries():
    """`--help` and usage errors stay quick: building the parser imports no Prefect, lxml, feedparser or
    trafilatura (the list-pages default once pulled in discovery, and with it lxml and feedparser)."""
    code = (
        "import sys\nfrom breaknews.flows.cli.parser import build_parser\nbuild_parser()\n"
        "print(sorted(m for m in ('prefect', 'lxml', 'feedparser', 'trafilatura') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_turns_prefect_telemetry_off_before_prefect_loads(tmp_path):
    """What Prefect sees when it is first imported by a command: telemetry off."""
    code = (
        "import os, sys\n"
        "def hook(event, args):\n"
        "    if event == 'import' and args[0] == 'prefect':\n"
        "        e = os.environ\n"
        "        print(e.get('DO_NOT_TRACK'), e.get('PREFECT_SERVER_ANALYTICS_ENABLED'), flush=True)\n"
        "        os._exit(0)\n"
        "sys.addaudithook(hook)\n"
        "from breaknews.flows.cli import main\n"
        f"main(['ingest', {str(SAMPLES / 'breaknews.187306.html')!r}, '--db', {str(tmp_path / 'w.duckdb')!r}])\n"
        "print('prefect never imported')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["1", "false"], out.stderr


@pytest.mark.slow
def test_the_real_command_in_a_pipe_is_quiet(tmp_path):
    """The installed console script, in a new process on Prefect's embedded API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    db = tmp_path / "w.duckdb"
    done = subprocess.run(
        [EXE, "ingest", str(SAMPLES), "--db", str(db)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ingest run ")
    assert "\x1b[" not in done.stdout + done.stderr  # no progress bar or colours in a pipe
    assert "INFO" not in done.stdout + done.stderr
    query = subprocess.run(
        [EXE, "query", "SELECT count(*) FROM articles", "--db", str(db), "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert query.returncode == 0 and int(query.stdout.splitlines()[1]) >= 10


@pytest.fixture
def migrate_calls(monkeypatch) -> list[str]:
    """Each migration of a warehouse from now on, in order."""
    from breaknews.warehouse import migrate as migrations

    calls: list[str] = []
    real = migrations.migrate

    def counting(con):
        calls.append("migrate")
        return real(con)

    monkeypatch.setattr(migrations, "migrate", counting)
    return calls


def test_a_command_migrates_its_warehouse_once(prefect_api, db_path, migrate_calls, capsys):
    """The command opens its warehouse (locked, migrated) and hands it to the flow and the engine, which
    neither lock nor migrate it again: one migration per command."""
    calls = migrate_calls
    assert main(["ingest", str(SAMPLES), "--db", str(db_path)]) == 0
    assert calls == ["migrate"]
    assert main(["ingest", str(SAMPLES), "--db", str(db_path)]) == 0  # a new command migrates (once) again
    assert calls == ["migrate", "migrate"]


@pytest.mark.parametrize("flow_name", ["ingest_pages", "reextract_pages", "ingest_site"])
def test_a_flow_run_outside_a_command_migrates_its_warehouse_once(prefect_api, db_path, migrate_calls, flow_name):
    """As `serve` starts its runs (a process of their own, no command around them) or a library calls a flow
    with a path: the flow opens the warehouse itself, once, and what it runs shares that migration."""
    from breaknews.flows import ingest, reextract, site

    flows = {
        "ingest_pages": lambda: ingest.ingest_pages(paths=[str(SAMPLES)], db=str(db_path)),
        "reextract_pages": lambda: reextract.reextract_pages(db=str(db_path)),
        "ingest_site": lambda: site.ingest_site(paths=[str(SAMPLES)], db=str(db_path)),
    }
    flows[flow_name]()
    assert migrate_calls == ["migrate"]
