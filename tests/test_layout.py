"""The house: one import name, and imports that point one way.

Layers, top to bottom: the edge (`breaknews.flows.cli`) → the flows (`breaknews.flows.*`) → the stages
(`breaknews.tasks.*`) → the warehouse (`breaknews.warehouse.*`) → the shared models and the error root
(`breaknews.warehouse.models`, `breaknews.warehouse.errors`). A module imports its own layer or lower
ones, never higher; the warehouse's read side and write side do not import each other; only flows
import Prefect.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXE, ROOT, SAMPLES
from tests.test_cli import breaknews_modules

BOTTOM = {"breaknews.warehouse.models", "breaknews.warehouse.errors", "breaknews.tasks.versions"}
LAYERS = ["bottom", "warehouse", "stages", "flows", "edge"]


def layer(module: str) -> str:
    if module in BOTTOM:
        return "bottom"
    if module.startswith("breaknews.flows.cli"):
        return "edge"
    return {"flows": "flows", "tasks": "stages", "warehouse": "warehouse"}[module.split(".")[1]]


def module_file(module: str) -> Path:
    parts = module.split(".")[1:]
    folder = ROOT.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def imports_of(module: str) -> set[str]:
    tree = ast.parse(module_file(module).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = set(breaknews_modules())
    return {name for name in found if name in known or not name.startswith("breaknews")}


@pytest.mark.parametrize("module", breaknews_modules())
def test_imports_point_down_the_layers(module):
    mine = LAYERS.index(layer(module))
    for imported in imports_of(module):
        if imported.startswith("breaknews."):
            assert LAYERS.index(layer(imported)) <= mine, f"{module} ({layer(module)}) imports {imported}"
        if layer(module) in ("bottom", "warehouse", "stages"):
            assert imported.split(".")[0] != "prefect", f"{module} imports Prefect: only flows orchestrate"


@pytest.mark.parametrize("module", [m for m in breaknews_modules() if layer(m) == "bottom"])
def test_the_bottom_imports_nothing_of_breaknews(module):
    assert not [m for m in imports_of(module) if m.startswith("breaknews")]


WRITE_SIDE = tuple(f"breaknews.warehouse.{name}" for name in ("write", "realign", "rows", "runs"))


@pytest.mark.parametrize("module", [m for m in breaknews_modules() if m.startswith("breaknews.warehouse")])
def test_read_side_and_write_side_stay_apart(module):
    reading = module.startswith("breaknews.warehouse.read")
    for imported in imports_of(module):
        if reading:
            assert not imported.startswith(WRITE_SIDE), imported
        else:
            assert not imported.startswith("breaknews.warehouse.read"), f"{module} imports {imported}"


def test_stage_docstrings_name_the_stages_in_order():
    stages = ["read", "decode", "extract", "split", "identify", "align", "load"]
    for number, stage in enumerate(stages, 1):
        path = module_file(f"breaknews.tasks.{stage}")  # a stage is a module or a package
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.lower().startswith(f"{stage} (stage {number}"), f"{path}: {doc and doc[:40]}"
    index = ast.get_docstring(ast.parse((ROOT / "tasks" / "__init__.py").read_text(encoding="utf-8"))) or ""
    positions = [index.index(f"{n}. {stage}") for n, stage in enumerate(stages, 1)]
    assert positions == sorted(positions)


def _foreign_project(tmp_path: Path) -> Path:
    """Someone else's Prefect project: its own flows/, tasks/ and warehouse/ packages."""
    project = tmp_path / "their-project"
    for name in ("flows", "tasks", "warehouse"):
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text(f"raise ImportError('their {name} was imported')\n")
    (project / "tasks" / "errors.py").write_text("raise ImportError('their tasks.errors was imported')\n")
    return project


def test_modules_import_next_to_someone_elses_flows_tasks_and_warehouse(tmp_path):
    project = _foreign_project(tmp_path)
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in breaknews_modules())
    env = dict(os.environ, PYTHONPATH=str(project))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_command_runs_next_to_someone_elses_flows_tasks_and_warehouse(tmp_path, shared_prefect_env):
    project = _foreign_project(tmp_path)
    env = dict(shared_prefect_env, PYTHONPATH=str(project))
    helped = subprocess.run([EXE, "--help"], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "ingest" in helped.stdout, helped.stderr
    module = subprocess.run(
        [sys.executable, "-m", "breaknews.flows.cli", "--help"], cwd=project, env=env, capture_output=True, text=True
    )
    assert module.returncode == 0 and "ingest" in module.stdout, module.stderr
    db = project / "w.duckdb"
    done = subprocess.run(
        [EXE, "ingest", str(SAMPLES / "breaknews.187306.html"), "--db", str(db)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "1 new" in done.stdout
