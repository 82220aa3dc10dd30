"""Docs are part of the product: every command, option, table and column is in the README."""

from __future__ import annotations

import argparse
import re

import pytest

from breaknews.flows.cli.parser import build_parser
from breaknews.warehouse.connect import connect
from breaknews.warehouse.migrate import open_migrated
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every command, nested ones (`export pairs`) by their full name; a group itself has no section."""
    parser = parser or build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[str, argparse.ArgumentParser] = {}
    for name, child in sub.choices.items():
        if any(isinstance(a, argparse._SubParsersAction) for a in child._actions):
            found.update(_commands(child, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = child
    return found


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_and_option_is_documented(name):
    assert f"### `breaknews {name}" in README, f"README has no section for `breaknews {name}`"
    section = _section(name)
    for action in _commands()[name]._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert f"`{option}" in section, f"`breaknews {name} {option}` is not documented"


def _section(name: str) -> str:
    return README.split(f"### `breaknews {name}", 1)[1].split("\n### ", 1)[0]


@pytest.mark.parametrize("name", sorted(_commands()))
def test_the_readme_documents_no_option_the_command_lacks(name):
    """The other direction: an option removed or renamed in the parser cannot live on in the README's
    option table of the command."""
    known = {o for action in _commands()[name]._actions for o in action.option_strings}
    first_cells = [line.split("|")[1] for line in _section(name).splitlines() if line.startswith("| `")]
    mentioned = {o for cell in first_cells for o in re.findall(r"`(--[a-z][a-z-]*)", cell)}
    assert mentioned <= known, f"README documents {sorted(mentioned - known)} for `breaknews {name}`"


def test_every_readme_command_section_is_a_command():
    sections = set(re.findall(r"^### `breaknews ([a-z]+(?: [a-z]+)?)", README, re.M))
    commands = set(_commands())
    # A section is named by its command and the start of its usage line (`server start|stop|status`).
    assert {s for s in sections if s not in commands and s.split()[0] not in commands} == set()


def test_help_lists_every_command_with_a_section():
    helped = build_parser().format_help()
    for name in _commands():
        assert name.split()[0] in helped
        assert f"### `breaknews {name}" in README


def _schema(tmp_path) -> dict[str, list[str]]:
    db = tmp_path / "docs.duckdb"
    open_migrated(db)
    con = connect(db, read_only=True)
    found: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns ORDER BY table_name, ordinal_position"
    ).fetchall():
        found.setdefault(table, []).append(column)
    con.close()
    return found


def test_every_table_and_column_is_documented(tmp_path):
    for table, columns in _schema(tmp_path).items():
        assert f"### `{table}`" in README, f"table {table} is not documented"
        section = README.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        for column in columns:
            assert re.search(rf"`{re.escape(column)}`", section), f"{table}.{column} is not documented"


def test_quick_start_is_two_commands_that_the_ci_runs():
    blocks = re.findall(r"```sh\n(.*?)```", README.split("## Quick start", 1)[1], re.S)
    assert "breaknews ingest samples" in blocks[0]
    assert blocks[1].strip() == ".venv/bin/python -m pytest"
    assert blocks[1].strip() in (ROOT / ".ci" / "run").read_text()
