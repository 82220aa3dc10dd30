"""Docs are part of the product. Every command and option has help in the parser, and the command
reference (docs/cli.md) is what that help renders now; every table, view and column has a comment in the
warehouse's catalog, and the schema reference (docs/schema.md) is what those comments render now. The
hand-written pages (README.md, docs/*.md) name only commands and options that exist, their command lines
parse, and their links resolve."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from breaknews.flows.cli import main
from breaknews.flows.cli.parser import COMMANDS, build_parser, command_parsers
from breaknews.flows.cli.reference import (
    REGENERATE,
    fresh_catalog,
    invocation,
    options,
    render_cli,
    render_schema,
    slug,
)
from breaknews.warehouse.connect import STORAGE_VERSION, connect, storage_version
from breaknews.warehouse.migrate import open_migrated
from breaknews.warehouse.read.catalog import relations
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
GENERATED = {DOCS / "cli.md", DOCS / "schema.md"}
WRITTEN = [README, *sorted(p for p in DOCS.glob("*.md") if p not in GENERATED)]
PARSERS = command_parsers()
LEAVES = [c.name for c in COMMANDS if c.add_arguments is not None]
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
# Options of other tools that the pages mention in passing (`prefect deploy ... --param`).
FOREIGN_OPTIONS = {"--param"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ---- the command reference ------------------------------------------------------------------------


def test_the_command_reference_is_current():
    assert _text(DOCS / "cli.md") == render_cli(), f"docs/cli.md is stale: run `{REGENERATE}`"


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_command_and_option_is_in_the_reference(name):
    reference = _text(DOCS / "cli.md")
    assert f"\n## `breaknews {name}`\n" in reference, f"docs/cli.md has no section for `breaknews {name}`"
    section = reference.split(f"\n## `breaknews {name}`\n", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split(" | ")[0][2:] for line in section.splitlines() if line.startswith("| `")]
    for action in options(PARSERS[name]):
        assert invocation(action) in first_cells, f"`breaknews {name}`: {invocation(action)} is not in docs/cli.md"


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_command_has_help_a_description_and_examples_that_parse(name):
    command = next(c for c in COMMANDS if c.name == name)
    assert command.summary and command.description and command.examples
    for action in options(PARSERS[name]):
        assert action.help, f"`breaknews {name}`: {action.option_strings or action.dest} has no help"
    assert "examples:\n" in PARSERS[name].format_help()  # the examples end its --help
    lines = _command_lines("```sh\n" + "\n".join(command.examples) + "\n```")
    assert lines, f"`breaknews {name}` has no example of itself"
    for line in lines:
        if "--help" not in line:
            _parses(line, f"an example of `breaknews {name}`")


def test_the_top_level_help_lists_every_command_and_the_version():
    helped = build_parser().format_help()
    for command in COMMANDS:
        assert command.name.split()[0] in helped
    assert "--version" in helped


def _parses(line: str, where: str) -> None:
    """The arguments after `breaknews` on a command line, parsed as the command would."""
    words = shlex.split(line, comments=True)
    arguments = words[next(i for i, w in enumerate(words) if _is_breaknews(w)) + 1 :]
    try:
        build_parser().parse_args(arguments)
    except SystemExit as exc:
        raise AssertionError(f"{where} does not parse: {line}") from exc
    # argparse takes a prefix of an option for the option (`--min-scor`): a page writes it whole.
    name, rest = _command_of(arguments)
    written = {w.split("=")[0] for w in rest if w.startswith("--")}
    assert name is not None and written <= _flags(PARSERS[name]), f"{where}: {line} abbreviates an option"


def _is_breaknews(word: str) -> bool:
    return word == "breaknews" or word.endswith("/bin/breaknews")


# ---- the hand-written pages -----------------------------------------------------------------------


def _command_lines(text: str) -> list[str]:
    """Every `breaknews` command line in a page's shell blocks: continuations joined, comments, other
    commands of the same line (`cd … &&`) and redirections (`>> log 2>&1`) left out."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            segments: list[list[str]] = [[]]
            for word in words:
                if word in ("&&", "||", "|", ";"):
                    segments.append([])
                else:
                    segments[-1].append(word)
            for segment in segments:
                while segment and re.match(r"[A-Z_][A-Z0-9_]*=", segment[0]):
                    segment = segment[1:]  # the environment of the command (`PREFECT_API_URL=… breaknews`)
                cut = next((i for i, w in enumerate(segment) if re.match(r"\d*>", w)), len(segment))
                if segment and _is_breaknews(segment[0]):
                    found.append(shlex.join(segment[:cut]))
    return found


@pytest.mark.parametrize("page", WRITTEN, ids=lambda p: str(p.relative_to(ROOT)))
def test_command_lines_in_the_pages_parse(page):
    for line in _command_lines(_text(page)):
        _parses(line, page.name)


@pytest.mark.parametrize("page", WRITTEN, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_pages_name_no_command_or_option_that_is_gone(page):
    """Inline `breaknews CMD --opt …` names a command and its options; an inline `--opt` an option of
    some command. A command or option removed or renamed in the parser cannot live on in a page."""
    every_option = {flag for parser in PARSERS.values() for flag in _flags(parser)}
    for span in re.findall(r"`([^`\n]+)`", _text(page)):
        words = span.split()
        if _is_breaknews(words[0]):
            name, rest = _command_of(words[1:])
            assert name is not None, f"{page.name}: `{span}` names no breaknews command"
            known = _flags(PARSERS[name])
            unknown = {w.split("=")[0] for w in rest if w.startswith("-")} - known
            assert not unknown, f"{page.name}: `{span}`: `breaknews {name}` has no {sorted(unknown)}"
        elif words[0].startswith("--"):
            unknown = {w for w in words if w.startswith("--")} - every_option - FOREIGN_OPTIONS
            assert not unknown, f"{page.name}: `{span}` names options no command has: {sorted(unknown)}"


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in options(parser) for flag in action.option_strings} | {"-h", "--help"}


def _command_of(words: list[str]) -> tuple[str | None, list[str]]:
    """The longest command name the words start with (`export pairs` before `export`); `""` (the
    top level) for none, when the first word is an option or a placeholder such as COMMAND."""
    for length in (2, 1):
        name = " ".join(words[:length])
        if len(words) >= length and name in PARSERS:
            return name, words[length:]
    if not words or words[0].startswith("-") or words[0].isupper():
        return "", words
    return None, words


@pytest.mark.parametrize("name", LEAVES)
def test_every_command_is_in_a_written_page(name):
    """Beyond the reference, each command is shown at work in the README or a guide."""
    assert any(f"breaknews {name}" in _text(page) for page in WRITTEN), f"no page but docs/cli.md shows {name}"


@pytest.mark.parametrize("page", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: str(p.relative_to(ROOT)))
def test_links_between_the_pages_resolve(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", _text(page)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not ours to check here
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", _text(linked), re.M)
            assert anchor in {slug(h) for h in headings}, f"{page.name} links to {target}: no such heading"


def test_quick_start_is_two_commands_that_the_ci_runs():
    blocks = re.findall(r"```sh\n(.*?)```", _text(README).split("## Quick start", 1)[1], re.S)
    assert "breaknews ingest samples" in blocks[0]
    assert blocks[1].strip() == ".venv/bin/python -m pytest"
    assert blocks[1].strip() in (ROOT / ".ci" / "run").read_text()
    install = blocks[0].split("&& .venv/bin/breaknews")[0].strip()
    for step in install.split(" && "):  # the same install as CI's, step by step
        assert step.strip() in (ROOT / ".ci" / "run").read_text(), step


def test_the_readme_is_a_front_door():
    """Read in five minutes: what it is, the two commands, ten things people do, where to read more."""
    text = _text(README)
    assert len(text.splitlines()) <= 120
    things = text.split("## Ten things people do", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\d+\. \*\*", things, re.M) == [f"{n}. **" for n in range(1, 11)]
    assert len(_command_lines(things)) == 10
    assert "docs/README.md" in text and "docs/cli.md" in text and "docs/schema.md" in text


# ---- the schema reference and the catalog's comments ----------------------------------------------


def test_the_schema_reference_is_current(tmp_path):
    assert _text(DOCS / "schema.md") == render_schema(tmp_path), f"docs/schema.md is stale: run `{REGENERATE}`"


def test_every_table_view_and_column_has_a_comment(tmp_path):
    found = fresh_catalog(tmp_path)
    assert {r.kind for r in found} == {"table", "view"} and len(found) > 10
    for relation in found:
        assert relation.comment, f"{relation.kind} {relation.name} has no COMMENT ON"
        for column in relation.columns:
            assert column.comment, f"{relation.name}.{column.name} has no COMMENT ON COLUMN"


def _comments(db: Path) -> list[tuple[str, str | None, tuple[tuple[str, str | None], ...]]]:
    with connect(db, read_only=True) as con:
        return [(r.name, r.comment, tuple((c.name, c.comment) for c in r.columns)) for r in relations(con)]


def test_comments_survive_migrating_again_and_convert(tmp_path, capsys):
    """Views are re-created on every migrate (CREATE OR REPLACE drops a view's comments: each view's
    file comments it again), and `convert` copies the catalog's comments with everything else."""
    db = tmp_path / "old.duckdb"
    duckdb.connect(str(db)).close()  # DuckDB 2.0's own default format, as before issue 11
    open_migrated(db)
    before = _comments(db)
    assert all(comment for _, comment, _ in before)
    open_migrated(db)  # outside a command every call migrates: the views are re-created
    assert _comments(db) == before
    with connect(db, read_only=True) as con:
        assert storage_version(con) != STORAGE_VERSION
    assert main(["convert", "--db", str(db)]) == 0
    capsys.readouterr()
    with connect(db, read_only=True) as con:
        assert storage_version(con) == STORAGE_VERSION  # the file was rewritten
    assert _comments(db) == before


def test_a_duckdb_1x_client_reads_the_comments(tmp_path):
    """The docs are in the file: the DuckDB 1.x CLI shows a table's, a column's and a view column's."""
    db = tmp_path / "w.duckdb"
    open_migrated(db)
    expected = {(name, column): comment for name, _, columns in _comments(db) for column, comment in columns}
    done = subprocess.run(
        [
            str(DUCKDB_CLI),
            "-readonly",
            "-json",
            str(db),
            "-c",
            "SELECT table_name, column_name, comment FROM duckdb_columns()"
            " WHERE (table_name, column_name) IN (('articles', 'article_id'), ('pair_quality_by_month', 'unpaired_ko'))"
            " ORDER BY ALL",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["table_name"], r["column_name"]) for r in rows] == [
        ("articles", "article_id"),
        ("pair_quality_by_month", "unpaired_ko"),
    ]
    for row in rows:
        assert row["comment"] == expected[(row["table_name"], row["column_name"])]


def test_the_parser_knows_every_command_it_lists():
    """command_parsers() and the parser agree: every command in COMMANDS parses to its handler."""
    for name in LEAVES:
        assert PARSERS[name].get_default("handler") is not None, name
