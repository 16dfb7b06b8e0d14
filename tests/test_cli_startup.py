"""Issue #15: `zonegeo --help` and every command's `--help` load typer, rich and the project's light modules only —
the heavy libraries are imported inside the commands that use them. No timing here: bench/cli_startup.py measures.

A fresh interpreter (this process has imported everything already) imports the CLI, prints the modules it holds,
renders help screens and prints the modules it holds after them: the fast test renders the issue's (`zonegeo`,
`check`, `due`, `zones`) and a command group's; the slow one every command's and every group's (~45 ms each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

# Libraries that no help screen may load: the issue's list, and the rest of what the commands import inside.
FORBIDDEN = ("geopandas", "folium", "fastapi", "pygeoapi", "openpyxl", "fpdf", "matplotlib", "pandas",
             "sqlalchemy", "geoalchemy2", "alembic", "shapely", "numpy", "pyproj", "pyogrio", "uvicorn", "starlette",
             "jinja2", "pydantic_settings", "orjson", "psycopg2", "argon2", "chinese_calendar", "xlrd")
# The project's modules a help screen may load: the CLI package, its terminal output and the error family.
LIGHT = ("zonegeo", "zonegeo.cli", "zonegeo.console", "zonegeo.errors")

PROBE = r"""
import contextlib, io, json, sys

from typer.main import get_command

from zonegeo.cli import app

imported = sorted(sys.modules)


def paths(command, prefix=()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, (*prefix, name))


wanted = set(json.loads(sys.argv[1]))  # paths to render, "*" for all
helps = {}
for path in paths(get_command(app)):
    if "*" not in wanted and " ".join(path) not in wanted:
        continue
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
        app([*path, "--help"], prog_name="zonegeo")
    helps[" ".join(path)] = text.getvalue()
print(json.dumps({"imported": imported, "after_help": sorted(sys.modules), "helps": helps}, ensure_ascii=False))
"""


ISSUE_PATHS = ("", "check", "due", "zones", "db", "db upgrade")


def probe(paths: tuple[str, ...]) -> dict:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(paths)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(FORBIDDEN))


def _project(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith("zonegeo") and m not in LIGHT and not m.startswith("zonegeo.cli."))


def _rendered(helps: dict[str, str]) -> list[str]:
    return sorted(path for path, text in helps.items() if "Usage" in text)


def test_the_cli_and_the_issues_help_screens_load_no_heavy_library():
    found = probe(ISSUE_PATHS)
    assert _heavy(found["imported"]) == []
    assert _project(found["imported"]) == []
    assert _rendered(found["helps"]) == sorted(ISSUE_PATHS)
    assert "核验申报文件是否符合申报条件" in found["helps"]["check"]
    assert "按中国工作日" in found["helps"]["due"]
    assert _heavy(found["after_help"]) == []
    assert _project(found["after_help"]) == []


@pytest.mark.slow
def test_every_help_screen_loads_no_heavy_library():
    found = probe(("*",))
    # the app, every command, every command group and every command in a group
    assert {"", "check", "serve", "export", "user", "user add", "deadlines recompute", "audit verify"} <= set(found["helps"])
    assert _rendered(found["helps"]) == sorted(found["helps"])
    assert _heavy(found["after_help"]) == []
    assert _project(found["after_help"]) == []
