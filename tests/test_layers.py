"""The layering promises that code review alone does not keep: domain code reads no files, and every error a
user can meet belongs to the ZonegeoError family."""

from __future__ import annotations

import ast
import datetime as dt
import tomllib

import pytest

from tests.conftest import RULES_FILE
from zonegeo.config import PROJECT_ROOT
from zonegeo.domain import lifecycle
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar, YearArrangement
from zonegeo.errors import ConfigError, ZonegeoError
from zonegeo.ingest.rules_file import load_rules

DOMAIN = PROJECT_ROOT / "src" / "zonegeo" / "domain"
FILE_MODULES = {"tomllib", "pathlib", "os", "io", "json", "shutil", "glob", "importlib.resources"}
FILE_CALLS = {"open", "read_text", "read_bytes", "glob", "iterdir", "is_dir", "exists", "loads", "load"}


def _file_access(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in FILE_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module in FILE_MODULES:
            found.append(node.module)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FILE_CALLS:
                found.append(f"{name}() line {node.lineno}")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in DOMAIN.glob("*.py")))
def test_domain_code_reads_no_files(module):
    assert _file_access((DOMAIN / module).read_text(encoding="utf-8")) == []


def test_the_file_check_sees_file_reading():
    assert _file_access("import tomllib\nfrom pathlib import Path\nPath('x').read_text()\n") == [
        "tomllib", "pathlib", "read_text() line 3"]


def test_a_rule_set_from_parsed_data_equals_the_one_read_from_the_file():
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    assert RuleSet.from_dict(data) == load_rules(RULES_FILE)
    with pytest.raises(ConfigError) as e:
        RuleSet.from_dict({"rules": {}}, source="elsewhere.toml")
    assert e.value.code == "rules_file_incomplete" and e.value.detail["file"] == "elsewhere.toml"


def test_a_year_arrangement_from_parsed_data():
    arrangement = YearArrangement.from_dict({"year": 2027, "holidays": ["2027-01-01"], "workdays": []})
    assert not WorkCalendar({2027: arrangement}).is_workday(dt.date(2027, 1, 1))
    with pytest.raises(ConfigError) as e:
        YearArrangement.from_dict({"holidays": ["2027-01-01"]}, file="2027.toml")
    assert e.value.code == "holiday_file_invalid" and e.value.detail == {"file": "2027.toml"}


def test_lifecycle_errors_are_zonegeo_errors_with_their_state_machine_data():
    with pytest.raises(ZonegeoError) as e:
        lifecycle.apply("draft", "approve", role="applicant", on=dt.date(2025, 3, 3), data={}, dates={},
                        calendar=WorkCalendar(), today=dt.date(2025, 3, 3))
    assert isinstance(e.value, lifecycle.LifecycleError)
    assert e.value.code == "illegal_transition" and e.value.state == "draft" and "submit" in e.value.allowed
    assert e.value.to_dict()["message"] == e.value.message
