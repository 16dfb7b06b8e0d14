"""The public API names organisations, never account usernames (issue 11: ``uploaded_by`` and ``decided_by`` showed
the logins of the applicant and the province's staff)."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.conftest import approve_moved_boundary, import_demo_copy
from tests.test_access import access_roles, route_table
from zonegeo.api.app import create_app


def test_no_public_response_names_an_account(engine, settings, client, anon, tmp_path):
    code = import_demo_copy(engine, tmp_path, "PN", published=True)
    number = approve_moved_boundary(client, code, by="张三")
    reviewer_view = {v["number"]: v for v in client.get(f"/api/zones/{code}").json()["versions"]}
    assert reviewer_view[number]["uploaded_by"] == "province-bureau"  # logged-in users still see who

    public_view = {v["number"]: v for v in anon.get(f"/api/zones/{code}").json()["versions"]}
    assert public_view[number]["uploaded_by"] == "江苏省知识产权局"
    assert public_view[number]["decided_by"] == "江苏省知识产权局"
    with engine.connect() as conn:
        usernames = [u for u in conn.execute(text("SELECT username FROM app_user")).scalars() if len(u) >= 6]
    assert "province-bureau" in usernames
    checked = 0
    for route in route_table(create_app(settings)):
        (allowed,) = access_roles(route)
        if "public" not in allowed or "GET" not in route.methods:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: {"code": code}.get(m.group(1), "1"), route.path)
        r = anon.get(path)
        if r.status_code != 200:
            continue
        checked += 1
        named = [u for u in usernames if u in r.text]
        assert named == [], (path, named)
    assert checked >= 5
