"""The distribution ships every package of the three folders: `[tool.setuptools] packages` is a list
written by hand (the folders install under `breaknews.*` through `package-dir`), and a package left
out of it still imports in an editable install but is missing from a wheel."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def test_every_folder_of_code_or_sql_is_a_listed_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"] == {f"breaknews.{top}": top for top in ("flows", "tasks", "warehouse")}
    folders = {
        ".".join(("breaknews", *file.parent.relative_to(ROOT).parts))
        for top in ("flows", "tasks", "warehouse")
        for pattern in ("*.py", "*.sql")
        for file in (ROOT / top).rglob(pattern)
    }
    assert folders == set(config["packages"])
