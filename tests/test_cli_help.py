"""`breaknews --version` and every command's `--help`: what they print, and that they stay quick (no
Prefect, no parsing libraries loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import duckdb

from breaknews.flows.cli.parser import COMMANDS
from breaknews.tasks.versions import ALIGNER_VERSION, EXTRACTOR_VERSION
from tests.conftest import ROOT
from tests.processes import EXE


def test_version_names_breaknews_its_extractor_and_what_it_runs_on():
    done = subprocess.run([EXE, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == f"breaknews {version('breaknews')} (extractor {EXTRACTOR_VERSION}, aligner {ALIGNER_VERSION})"
    assert f"duckdb {duckdb.__version__}" in second and f"prefect {version('prefect')}" in second


def test_every_help_shows_examples_and_loads_no_prefect():
    """Each command's --help, as the console script prints it, in one process that then says which of
    the heavy libraries it loaded: none."""
    code = (
        "import contextlib, io, json, sys\n"
        "from breaknews.flows.cli import main\n"
        "helps = {}\n"
        f"for name in {[c.name for c in COMMANDS]!r}:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        try:\n"
        "            main([*name.split(), '--help'])\n"
        "        except SystemExit as exc:\n"
        "            helps[name] = (exc.code, out.getvalue())\n"
        "heavy = sorted(m for m in ('prefect', 'lxml', 'feedparser', 'trafilatura') if m in sys.modules)\n"
        "print(json.dumps({'helps': helps, 'heavy': heavy}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["heavy"] == []
    for command in COMMANDS:
        code_, text = result["helps"][command.name]
        assert code_ == 0
        assert text.startswith(f"usage: breaknews {command.name}")
        assert "examples:\n" in text and command.examples[0] in text
