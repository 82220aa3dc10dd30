"""Commands that write files (`export pairs`, `export articles`, `report`) never write over the
warehouse or its files, and write whole or not at all."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from breaknews.flows.cli import main
from breaknews.warehouse.read.destination import DestinationError, destination, refuse_warehouse_files
from tests.corpus import build_corpus

WRITERS = [
    ["export", "pairs", "--format", "tmx"],
    ["export", "pairs", "--format", "jsonl"],
    ["export", "pairs", "--format", "parquet"],
    ["export", "articles", "--format", "jsonl"],
    ["report"],
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("outputs") / "built.duckdb")


@pytest.fixture
def home(built, tmp_path, monkeypatch):
    """A folder holding the default warehouse `breaknews.duckdb` (and its lock file), as the cwd."""
    shutil.copy(built, tmp_path / "breaknews.duckdb")
    (tmp_path / "breaknews.duckdb.lock").touch()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BREAKNEWS_DB", raising=False)
    return tmp_path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_writer_writes_over_the_warehouse_or_its_files(home, capsys):
    warehouse = home / "breaknews.duckdb"
    before = _digest(warehouse)
    (home / "link.tmx").symlink_to(warehouse)  # a symlink to the warehouse
    os.link(warehouse, home / "hard.tmx")  # another name for the same inode
    (home / "sub").mkdir()
    targets = [
        "breaknews.duckdb",
        "./sub/../breaknews.duckdb",
        str(warehouse),
        "breaknews.duckdb.wal",  # absent now; written, the next open would replay it as a log
        "breaknews.duckdb.lock",
        "link.tmx",
        "hard.tmx",
    ]
    for writer in WRITERS:
        for target in targets:
            assert main([*writer, "--out", target]) == 2, (writer, target)
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err, err
            assert "warehouse" in err
    # The articles' Parquet folder cannot be the warehouse's folder (it holds files) either.
    assert main(["export", "articles", "--format", "parquet", "--out", "."]) == 2
    capsys.readouterr()
    assert _digest(warehouse) == before
    assert not (home / "breaknews.duckdb.wal").exists() and (home / "breaknews.duckdb.lock").read_bytes() == b""
    assert not [p for p in home.iterdir() if p.name.endswith(".partial")]
    # And the warehouse still opens and answers.
    assert main(["query", "SELECT count(*) AS n FROM articles", "--format", "csv"]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 5


def test_an_explicit_db_is_protected_too(home, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    db = elsewhere / "mine.duckdb"
    shutil.copy(home / "breaknews.duckdb", db)
    before = _digest(db)
    assert main(["report", "--out", str(db), "--db", str(db)]) == 2  # the issue's `report --out X --db X`
    assert "it is the warehouse" in capsys.readouterr().err
    assert _digest(db) == before


def test_any_attached_database_is_refused(tmp_path):
    """`refuse_warehouse_files` checks every database the connection has attached, not only the first."""
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    con = duckdb.connect()
    con.execute(f"ATTACH '{first}' AS a")
    con.execute(f"ATTACH '{second}' AS b")
    for target in (second, Path(f"{second}.wal"), Path(f"{second}.lock"), first):
        with pytest.raises(DestinationError, match="cannot write"):
            refuse_warehouse_files(destination(target), con)
    refuse_warehouse_files(destination(tmp_path / "fine.tmx"), con)
    con.close()


def test_folders_fifos_and_missing_folders_are_the_same_clear_error_for_every_writer(home, capsys):
    (home / "afolder").mkdir()
    os.mkfifo(home / "pipe.tmx")
    for writer in WRITERS:
        assert main([*writer, "--out", "afolder"]) == 2
        assert capsys.readouterr().err == "breaknews: error: cannot write afolder: it is a folder\n"
        assert main([*writer, "--out", "pipe.tmx"]) == 2  # opening a FIFO to write would hang
        assert "not a regular file" in capsys.readouterr().err
        assert main([*writer, "--out", "missing/x.out"]) == 2
        err = capsys.readouterr().err
        assert err == "breaknews: error: cannot write missing/x.out: folder missing does not exist\n"


def test_writing_through_a_symlink_replaces_its_target(home, capsys):
    real = home / "sub" / "real.html"
    real.parent.mkdir()
    real.write_text("old report")
    (home / "latest.html").symlink_to(real)
    assert main(["report", "--out", "latest.html"]) == 0
    assert (home / "latest.html").is_symlink() and "BreakNews archive" in real.read_text(encoding="utf-8")


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from breaknews.flows.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    "writer",
    [*WRITERS, ["export", "articles", "--format", "parquet"]],
    ids=lambda w: "-".join(w[1:4:2]) or w[0],
)
def test_a_failed_write_leaves_the_old_file_whole(home, writer):
    """A real failure mid-write: the process may write no file larger than 4 KiB (as on a full disk)."""
    old = home / ("old" if writer[-1] == "parquet" and writer[1] == "articles" else "old.out")
    if old.name == "old":
        old.mkdir()  # an empty folder, as the Parquet articles export accepts
    else:
        old.write_text("the previous export\n")
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED, *writer, "--out", old.name],
        cwd=home,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("breaknews: error:") and done.stderr.count("\n") == 1, done.stderr
    if old.is_dir():
        assert list(old.iterdir()) == []
    else:
        assert old.read_text() == "the previous export\n"
    assert not [p for p in home.iterdir() if p.name.endswith(".partial")]
