"""The two generated references: docs/cli.md from the parser's help, docs/schema.md from the comments in
a freshly migrated warehouse's catalog. Both are written whole; tests/test_docs.py fails when a checked-in
file differs from what this renders now. Regenerate both, from the repository's root, with:

    .venv/bin/python -m breaknews.flows.cli.reference

A small renderer of our own rather than cog (sqlite-utils' way): cog keeps generated blocks inside
hand-written files, and these files are generated whole, the narrative living in the other docs pages.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from breaknews.flows.cli.parser import COMMANDS, DESCRIPTION, EPILOG, PROG, command_parsers
from breaknews.warehouse.connect import connect
from breaknews.warehouse.migrate import open_migrated
from breaknews.warehouse.read.catalog import Relation, relations

REGENERATE = ".venv/bin/python -m breaknews.flows.cli.reference"


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """A command's own arguments, in the order they were added: neither -h nor a group's subcommands.

    argparse has no public way to list a parser's arguments (python/cpython#144932 asks for one for
    subparsers, gh-101503 for public names of their types): `_actions` is read here and nowhere else."""
    return [
        action
        for action in parser._actions
        if "-h" not in action.option_strings and not isinstance(action.choices, dict)
    ]


def render_cli() -> str:
    parsers = command_parsers()
    root = parsers[""]
    out = [
        "# Command reference",
        "",
        f"<!-- Generated from flows/cli/parser.py by `{REGENERATE}`: edit the parser's help, not this file. -->",
        "",
        f"Every command and option of `{PROG}`, with the help its `--help` prints (each option is written",
        "once, in the parser; every command also takes `-h`/`--help`). The guides are in the",
        "[docs index](README.md).",
        "",
        DESCRIPTION,
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{PROG} {c.name}`](#{slug(f'{PROG} {c.name}')}) | {_cell(c.summary)} |" for c in COMMANDS),
        "",
        *_arguments_table(options(root)),
        _markdown(EPILOG),
    ]
    for command in COMMANDS:
        parser = parsers[command.name]
        out += ["", f"## `{PROG} {command.name}`", "", _markdown(command.description), ""]
        if command.add_arguments is None:
            leaves = [c for c in COMMANDS if c.name.startswith(f"{command.name} ")]
            out += [f"- [`{PROG} {c.name}`](#{slug(f'{PROG} {c.name}')}): {_markdown(c.summary)}" for c in leaves]
            out.append("")
        else:
            out += ["```text", _synopsis(f"{PROG} {command.name}", options(parser)), "```", ""]
            out += _arguments_table(options(parser))
        out += ["Examples:", "", "```sh", *command.examples, "```"]
    return "\n".join(out).rstrip() + "\n"


def _arguments_table(actions: Sequence[argparse.Action]) -> list[str]:
    rows = [f"| {invocation(a)} | {_cell(_help(a))} |" for a in actions]
    return ["| argument | meaning |", "|---|---|", *rows, ""] if rows else []


def invocation(action: argparse.Action) -> str:
    """How the argument is written (`--db FILE`, `-v`, `--verbose`, `PATH ...`), as `--help` shows it."""
    value = _metavar(action)
    if not action.option_strings:
        return f"`{_with_nargs(value, action.nargs)}`"
    written = [f"`{flag}`" for flag in action.option_strings]
    if action.nargs != 0:
        written[-1] = f"`{action.option_strings[-1]} {_with_nargs(value, action.nargs)}`"
    return ", ".join(written)


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return action.metavar
    if action.choices:
        return "{" + ",".join(str(choice) for choice in action.choices) + "}"
    return action.dest if not action.option_strings else action.dest.upper()


def _with_nargs(value: str, nargs: object) -> str:
    return {"?": f"[{value}]", "*": f"[{value} ...]", "+": f"{value} [{value} ...]"}.get(str(nargs), value)


def _synopsis(prog: str, actions: Sequence[argparse.Action]) -> str:
    """`breaknews export pairs --format {jsonl,parquet,tmx} --out PATH [options]`: positionals, the
    required options, then the rest as `[options]` (the table lists them)."""
    parts = [prog]
    parts += [_with_nargs(_metavar(a), a.nargs) for a in actions if not a.option_strings]
    parts += [f"{a.option_strings[-1]} {_metavar(a)}" for a in actions if a.option_strings and a.required]
    if any(a.option_strings and not a.required for a in actions):
        parts.append("[options]")
    return " ".join(parts)


def _help(action: argparse.Action) -> str:
    """The help as `--help` prints it (argparse expands `%(default)s` and the like, and `%%`)."""
    text = action.help or ""
    return text % {**vars(action), "prog": PROG} if "%" in text else text


def _markdown(text: str) -> str:
    """Plain help text in Markdown: what it quotes ('*/30 * * * *') as code; outside code, what Markdown
    would take for emphasis or a tag escaped, and the guides it names as links."""
    pieces = re.split(r"(`[^`]*`)", _QUOTED.sub(r"`\1`", text))
    return "".join(p if p.startswith("`") else _DOCS_PAGE.sub(r"[\1](\1)", _escape(p)) for p in pieces)


def _escape(text: str) -> str:
    return re.sub(r"([*<])", r"\\\1", text)


# A quotation, not an apostrophe: 'x' with no letter or digit just outside its quotes.
_QUOTED = re.compile(r"(?<!\w)'([^'\s][^']*?)'(?!\w)")
# A guide named in help text (`docs/serve.md`) is a link in the reference, which lives beside it.
_DOCS_PAGE = re.compile(r"\bdocs/([\w-]+\.md)\b")


def _cell(text: str) -> str:
    return _markdown(text).replace("|", "\\|")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def fresh_catalog(folder: Path | None = None) -> list[Relation]:
    """The tables and views of a new warehouse, migrated in ``folder`` (else a temporary one)."""
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="breaknews-schema-") as temporary:
            return fresh_catalog(Path(temporary))
    path = folder / "schema.duckdb"
    open_migrated(path)
    with connect(path, read_only=True) as con:
        return relations(con)


def render_schema(folder: Path | None = None) -> str:
    found = fresh_catalog(folder)
    out = [
        "# Schema reference",
        "",
        "<!-- Generated from the warehouse's catalog (COMMENT ON in warehouse/migrations/ and warehouse/views/)",
        f"     by `{REGENERATE}`: edit those comments, not this file. -->",
        "",
        "The tables and views of a warehouse, and what each column means. The same words are comments in",
        "the warehouse's own catalog, so any DuckDB client shows them too:",
        "",
        "```sql",
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = 'articles';",
        "```",
        "",
        "How the warehouse is kept (identity, migrations, storage format) is in [warehouse.md](warehouse.md);",
        "example queries of the views are in [querying.md](querying.md#analysis-views).",
    ]
    for kind, title in (("table", "Tables"), ("view", "Views")):
        mine = [r for r in found if r.kind == kind]
        out += ["", f"## {title}", "", f"| {kind} | what it holds |", "|---|---|"]
        out += [f"| [`{r.name}`](#{slug(r.name)}) | {_cell(_first_sentence(r.comment or ''))} |" for r in mine]
        out += [line for r in mine for line in _relation(r)]
    return "\n".join(out).rstrip() + "\n"


def _relation(relation: Relation) -> Iterable[str]:
    yield from ["", f"### `{relation.name}`", "", _markdown(relation.comment or ""), ""]
    yield from ["| column | type | meaning |", "|---|---|---|"]
    for column in relation.columns:
        yield f"| `{column.name}` | `{column.data_type}` | {_cell(column.comment or '')} |"


def _first_sentence(text: str) -> str:
    match = re.match(r"(.*?\.)(\s|$)", text, re.S)
    return match.group(1) if match else text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breaknews.flows.cli.reference", description=__doc__)
    parser.add_argument("docs", nargs="?", default="docs", help="the docs folder to write into (default docs)")
    folder = Path(parser.parse_args(argv).docs)
    if not folder.is_dir():
        parser.error(f"no folder {folder}: run this from the repository's root, or name the docs folder")
    for name, text in (("cli.md", render_cli()), ("schema.md", render_schema())):
        target = folder / name
        changed = not target.exists() or target.read_text(encoding="utf-8") != text
        if changed:
            target.write_text(text, encoding="utf-8")
        print(f"{target}: {'written' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
