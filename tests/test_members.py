"""Assigning users to zones: an unknown relation is a Chinese message (CLI exit 2), never a traceback."""

from __future__ import annotations

import pytest

from tests.test_cli import run
from zonegeo.errors import InputError
from zonegeo.services.access import add_member


def test_an_unknown_relation_is_an_input_error(session, demo_zone, tokens):
    with pytest.raises(InputError) as caught:
        add_member(session=session, code=demo_zone, username="expert-wang", relation_="other")
    assert caught.value.code == "unknown_relation" and caught.value.detail["allowed"] == ["applicant", "expert"]


def test_cli_user_assign_with_an_unknown_relation_exits_2(database_url, demo_zone, tokens):
    proc = run("user", "assign", "expert-wang", demo_zone, "--as", "other",
               env={"ZONEGEO_DATABASE_URL": database_url})
    assert proc.returncode == 2
    assert "关系“other”不正确" in proc.stderr and "Traceback" not in proc.stderr
