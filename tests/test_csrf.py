"""CSRF protection of every write made with the session cookie, multipart API calls included; bearer-token calls are
exempt (issue 11: an upload with the session cookie, no token and a foreign Origin was stored)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import DEMO, import_demo_copy
from zonegeo.api.app import create_app

FOREIGN = "https://evil.example"


@pytest.fixture
def zone(engine, tmp_path) -> str:
    return import_demo_copy(engine, tmp_path, "CSRF")


@pytest.fixture
def browser(web_as):
    """A browser logged in as the province through the login form; ``browser.csrf`` is the session's token."""
    return web_as("province-bureau")


def versions(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM zone_version v JOIN zone z ON z.id = v.zone_id "
                                "WHERE z.code = :c"), {"c": code})


def upload(c: TestClient, code: str, **headers):
    boundary = (DEMO / "boundary.geojson").read_bytes()
    return c.post(f"/api/zones/{code}/uploads", headers=headers, data={"roles": ["boundary"]},
                  files=[("files", ("boundary.geojson", boundary, "application/geo+json"))])


def test_a_cross_site_multipart_upload_with_the_cookie_is_refused_and_not_stored(browser, engine, zone):
    before = versions(engine, zone)
    r = upload(browser, zone, Origin=FOREIGN)
    assert r.status_code == 403 and r.json()["code"] == "csrf_origin"
    r = upload(browser, zone, Referer=f"{FOREIGN}/page")  # no Origin: the Referer says where it came from
    assert r.status_code == 403 and r.json()["code"] == "csrf_origin"
    r = upload(browser, zone, Origin="http://testserver")  # this site, but without the token
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert versions(engine, zone) == before
    ok = upload(browser, zone, Origin="http://testserver", **{"X-CSRF-Token": browser.csrf})
    assert ok.status_code == 201, ok.text
    assert versions(engine, zone) == before + 1


def test_json_api_writes_with_the_cookie_need_the_header(browser):
    body = {"code": "CSRF-JSON-1", "name": "跨站测试", "city": "南京市", "builder": "甲", "operator": "乙"}
    r = browser.post("/api/zones", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert browser.post("/api/zones", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert browser.post("/api/zones", json=body, headers={"X-CSRF-Token": browser.csrf}).status_code == 201


def test_page_forms_from_another_site_are_refused_even_with_a_token(browser, zone):
    r = browser.post(f"/zones/{zone}/upload", headers={"Origin": FOREIGN}, data={"csrf": browser.csrf})
    assert r.status_code == 403 and r.json()["code"] == "csrf_origin"
    assert browser.post("/logout", headers={"Origin": "null"}, data={"csrf": browser.csrf}).status_code == 403
    assert browser.get("/api/worklist").status_code == 200  # still logged in


def test_bearer_token_calls_stay_exempt(client, engine, zone):
    before = versions(engine, zone)
    r = upload(client, zone, Origin=FOREIGN)
    assert r.status_code == 201, r.text
    assert versions(engine, zone) == before + 1


def test_every_page_form_route_checks_a_csrf_field(settings):
    """Writes outside /api are page forms: each must declare the form's ``csrf`` field (checked by check_csrf)."""
    from tests.test_access import route_table

    unchecked, forms = [], 0
    for route in route_table(create_app(settings)):
        if not isinstance(route, APIRoute) and not hasattr(route, "dependant"):
            continue
        if route.methods & {"POST", "PUT", "PATCH", "DELETE"} and not route.path.startswith("/api"):
            forms += 1
            if "csrf" not in {p.name for p in route.dependant.body_params}:
                unchecked.append(route.path)
    assert forms >= 5 and unchecked == []


def test_behind_a_proxy_the_forwarded_host_counts_as_this_site(browser):
    body = {"code": "CSRF-PROXY-1", "name": "代理测试", "city": "南京市", "builder": "甲", "operator": "乙"}
    headers = {"Origin": "https://zonegeo.example", "X-Forwarded-Host": "zonegeo.example", "X-CSRF-Token": browser.csrf}
    assert browser.post("/api/zones", json=body, headers=headers).status_code == 201
    foreign = headers | {"X-Forwarded-Host": "other.example"}
    assert browser.post("/api/zones", json=body | {"code": "CSRF-PROXY-2"}, headers=foreign).status_code == 403
