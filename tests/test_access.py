"""Roles and access: every endpoint × every role from the route table, logins, tokens, CSRF, the audit log."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import PASSWORD, app_client, bearer, database_of_its_own
from zonegeo.api.app import create_app

# The matrix calls every route as every role, registry-wide ones too (/integrity compares every pair of zones), so
# it runs on a database of the module's own: 49 s on the session's, which the other tests fill with hundreds of
# demo copies, against 19 s.
database_url, settings, engine, demo_zone, tokens = database_of_its_own("zonegeo_access")

ROLES = ("public", "applicant", "city", "province", "expert")
DENIED = {"login_required", "role_forbidden"}
PARAMS = {"code": "NJ-DEMO-01", "number": "1", "a": "1", "b": "1", "change_id": "1", "action": "submit",
          "username": "demo-applicant", "session_id": "1", "row": "1", "city": "南京市", "year": "2025",
          "receipt": "YY-2026-000001"}


def route_table(app) -> list:
    """(path, methods, dependant) of every endpoint. FastAPI 0.16x keeps included routers as wrappers whose
    effective routes carry the prefixed path; older versions list APIRoutes directly."""
    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "effective_route_contexts"):
            out.extend(route.effective_route_contexts())
    return out


def access_roles(route) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(dependant) -> None:
        for dep in dependant.dependencies:
            roles = getattr(dep.call, "roles", None)
            if roles is not None:
                found.append(tuple(roles))
            walk(dep)

    walk(route.dependant)
    return found


def routes(settings):
    table = route_table(create_app(settings))
    assert len(table) > 30, "the route table was not read"
    return table


def test_every_endpoint_declares_exactly_one_access_rule(settings):
    missing = [f"{sorted(r.methods)} {r.path}" for r in routes(settings) if len(access_roles(r)) != 1]
    assert missing == [], "endpoints without exactly one access dependency: " + ", ".join(missing)


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(settings, client, tokens, role):
    """Each role either passes the access rule (any status but 401/403 from it, and never a 5xx) or is refused
    by it. One test per role, so that the matrix spreads over the workers."""
    checked = 0
    for route in routes(settings):
        (allowed,) = access_roles(route)
        path = re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], route.path)
        for method in sorted(route.methods - {"HEAD"}):
            r = client.request(method, path, headers={"Authorization": ""} | bearer(tokens, role),
                               json={} if method == "POST" else None, follow_redirects=False)
            assert r.status_code < 500, (method, path, role, r.status_code, r.text[:300])
            code = r.json().get("code") if r.headers.get("content-type", "").startswith("application/json") else None
            if role in allowed:
                assert code not in DENIED, (method, path, role, r.status_code, code)
            else:
                expected = 401 if role == "public" else 403
                assert (r.status_code, code in DENIED) == (expected, True), (method, path, role, r.status_code)
            checked += 1
    assert checked > 100


def test_the_public_sees_published_zones_only(anon, client):
    assert client.get("/api/zones/NJ-DEMO-01").status_code == 200
    assert anon.get("/api/zones/NJ-DEMO-01").status_code == 404  # not published: not revealed
    assert "NJ-DEMO-01" not in [z["code"] for z in anon.get("/api/zones").json()["data"]]
    r = anon.post("/api/zones/NJ-DEMO-01/uploads", files=[("files", ("b.geojson", b"{}"))], data={"roles": ["boundary"]})
    assert r.status_code == 401 and r.json()["code"] == "login_required" and "登录" in r.json()["message"]


def test_city_bureau_sees_its_own_city(settings, tokens, engine, tmp_path):

    from tests.conftest import import_demo_copy

    code = import_demo_copy(engine, tmp_path, "SZ")
    with engine.begin() as conn:
        conn.execute(text("UPDATE zone SET city = '苏州市' WHERE code = :c"), {"c": code})
    with app_client(settings, headers=bearer(tokens, "city")) as c:
        codes = [z["code"] for z in c.get("/api/zones").json()["data"]]
        assert "NJ-DEMO-01" in codes and code not in codes
        assert c.get(f"/api/zones/{code}").status_code == 404


def test_experts_read_and_give_opinions_only(settings, tokens):

    with app_client(settings, headers=bearer(tokens, "expert")) as c:
        assert c.get("/api/zones/NJ-DEMO-01/report").status_code == 200
        r = c.post("/api/zones/NJ-DEMO-01/changes", json={"kind": "other", "occurred_on": "2026-01-05"})
        assert r.status_code == 403


def test_revoked_tokens_stop_working(settings, engine):

    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services import auth

    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username="temp-city", password=PASSWORD, role="city", city="南京市")
        token = auth.create_token(session=session, username="temp-city")
    with app_client(settings, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/api/changes").status_code == 200
        with transaction(session_factory(engine)) as session:
            assert auth.revoke(session=session, username="temp-city") == 1
        r = c.get("/api/changes")
        assert r.status_code == 401 and r.json()["code"] == "bad_token"
    with engine.connect() as conn:
        stored = conn.scalar(text("SELECT token_sha256 FROM api_token t JOIN app_user u ON u.id = t.user_id "
                                  "WHERE u.username = 'temp-city'"))
        hashes = conn.scalar(text("SELECT password_hash FROM app_user WHERE username = 'temp-city'"))
    assert token not in stored and len(stored) == 64 and hashes.startswith("$argon2id$")


def test_web_login_and_csrf(anon, tokens):
    page = anon.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    bad = anon.post("/login", data={"username": "province-bureau", "password": "wrong", "csrf": csrf})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    forged = anon.post("/login", data={"username": "province-bureau", "password": PASSWORD, "csrf": "forged"})
    assert forged.status_code == 403
    ok = anon.post("/login", data={"username": "province-bureau", "password": PASSWORD, "csrf": csrf},
                   follow_redirects=False)
    assert ok.status_code == 303
    assert anon.get("/api/zones/NJ-DEMO-01").status_code == 200  # the session cookie now identifies the user
    upload_page = anon.get("/zones/NJ-DEMO-01/upload")
    assert upload_page.status_code == 200 and 'name="csrf"' in upload_page.text
    no_token = anon.post("/zones/NJ-DEMO-01/upload", files=[("files", ("b.geojson", b"{}"))],
                         data={"roles": ["boundary"]})
    assert no_token.status_code == 403 and no_token.json()["code"] == "csrf_failed"


def test_the_audit_log_cannot_be_rewritten(engine, client):
    client.post("/api/zones/NJ-DEMO-01/changes", json={"kind": "other", "occurred_on": "2026-03-02"})
    entries = client.get("/api/audit?object=zone/NJ-DEMO-01").json()["data"]
    assert any(e["action"] == "change_recorded" and e["actor"] == "province-bureau" for e in entries)
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError) as e, engine.begin() as conn:
            conn.execute(text(statement))
        assert "append-only" in str(e.value)


@pytest.mark.parametrize("role", ["applicant", "city", "province", "expert"])
def test_each_role_has_a_chinese_worklist(settings, tokens, role):

    with app_client(settings, headers=bearer(tokens, role)) as c:
        page = c.get("/worklist")
        assert page.status_code == 200 and "待办事项" in page.text
        data = c.get("/api/worklist").json()["data"]
        # each role sees what waits on it: the demo zone's construction deadline (验收) is the province's only
        assert ("NJ-DEMO-01" in {i["zone_code"] for i in data if i["kind"] == "acceptance_due"}) == (role == "province")
        assert all(i["role"] == role or i["kind"] == "change_report" for i in data)
        assert data == sorted(data, key=lambda i: (i["due"] is None, i["due"] or ""))
    with app_client(settings) as anon:
        assert anon.get("/worklist").status_code == 401


def test_the_worklist_is_ordered_by_due_date(settings, tokens, engine, tmp_path):
    """Zones stored latest deadline first come back nearest deadline first."""

    from tests.conftest import demo_copy
    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services.zones import import_zone

    codes = []
    for ends in ("2029-03-31", "2026-12-31"):
        folder, code = demo_copy(tmp_path / ends, "WL")
        toml = folder / "zone.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace('construction_ends = "2027-06-30"',
                                                                 f'construction_ends = "{ends}"'), encoding="utf-8")
        with transaction(session_factory(engine)) as session:
            import_zone(session=session, folder=folder)
        codes.append(code)
    with app_client(settings, headers=bearer(tokens, "province")) as c:
        data = c.get("/api/worklist").json()["data"]
    mine = [i["zone_code"] for i in data if i["zone_code"] in codes]
    assert mine == codes[::-1]
    assert len(data) >= 3 and data == sorted(data, key=lambda i: (i["due"] is None, i["due"] or ""))


def test_pages_that_need_a_login_send_people_to_the_login_page(anon):
    r = anon.get("/worklist", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/worklist"
