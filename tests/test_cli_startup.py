"""Issue #15: `zonegeo --help` and every command's `--help` load typer, rich and the project's light modules only —
the heavy libraries are imported inside the commands that use them; and a real command loads only what it uses.
No timing here: bench/cli_startup.py measures.

A fresh interpreter (this process has imported everything already) imports the CLI, prints the modules it holds,
renders help screens and prints the modules it holds after them: the fast test renders the issue's (`zonegeo`,
`check`, `due`, `zones`) and a command group's; the slow one every command's and every group's (~45 ms each).
Another runs `zonegeo due` and imports what `zonegeo zones` and `zonegeo check` import, listing the modules after
each."""

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


# ---- real commands: what they load -------------------------------------------------------------------------------
# One interpreter imports the CLI; a forked child of it makes the imports of `zonegeo check` (its readers, the
# eligibility service, the rules file, the report printer) and lists its modules. The parent then runs `zonegeo due`
# for real (no database), and imports the modules `zonegeo zones` imports (the service, the unit of work, the
# settings, the table printer, orjson for --json; listing itself needs a database).
COMMANDS_PROBE = r"""
import contextlib, importlib, io, json, os, sys

from zonegeo.cli import app


def top():
    return sorted({m.split(".")[0] for m in sys.modules})


read, write = os.pipe()
pid = os.fork()
if pid == 0:  # `zonegeo check`: read the files, check them against the rules, print the report
    os.close(read)
    for name in ("zonegeo.ingest.plan", "zonegeo.services.eligibility", "zonegeo.ingest.rules_file",
                 "zonegeo.console"):
        importlib.import_module(name)
    with os.fdopen(write, "w") as pipe:
        json.dump(top(), pipe)
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    found = {"check": json.load(pipe)}
os.waitpid(pid, 0)

out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        app(["due", "--from", "2026-01-05", "--working-days", "15"], prog_name="zonegeo")
        code = 0
    except SystemExit as exc:
        code = exc.code
found |= {"due": top(), "due_exit": code, "due_out": out.getvalue()}

for name in ("zonegeo.services.zones", "zonegeo.services.unit_of_work", "zonegeo.config", "zonegeo.console",
             "orjson"):
    importlib.import_module(name)
found["zones"] = top()
print(json.dumps(found, ensure_ascii=False))
"""

# What none of these commands needs: reading layers and tables, spreadsheets, maps and the web app.
NOT_FOR_COMMANDS = ("geopandas", "pandas", "pyogrio", "openpyxl", "folium", "fastapi", "starlette", "jinja2",
                    "matplotlib", "fpdf", "xlrd", "uvicorn", "alembic")
# `due` computes a date from the holiday calendar: no geometry, no database driver. (It holds sqlalchemy, which
# zonegeo.config's database-URL check imports when the settings are read.)
NOT_FOR_DUE = (*NOT_FOR_COMMANDS, "geoalchemy2", "shapely", "numpy", "pyproj", "psycopg2")
# `check` reads files and checks them without a database.
NOT_FOR_CHECK = ("openpyxl", "folium", "fastapi", "starlette", "jinja2", "sqlalchemy", "geoalchemy2", "psycopg2",
                 "alembic", "uvicorn")


@pytest.mark.slow  # one interpreter importing SQLAlchemy, GeoAlchemy2 and (check's) geopandas: ~1.5-3 s of CPU
def test_real_commands_load_only_what_they_use():
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-c", COMMANDS_PROBE], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["due_exit"] == 0, found["due_out"]
    assert "2026年01月26日" in found["due_out"]
    assert sorted(set(found["due"]) & set(NOT_FOR_DUE)) == []
    assert sorted(set(found["check"]) & set(NOT_FOR_CHECK)) == []
    assert {"pyogrio", "shapely"} <= set(found["check"])  # the probe did import check's readers
    assert sorted(set(found["zones"]) & set(NOT_FOR_COMMANDS)) == []
    assert {"sqlalchemy", "geoalchemy2"} <= set(found["zones"])  # and the zones service
