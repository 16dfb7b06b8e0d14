"""Every JSON route declares its response model, so /openapi.json describes what is really returned; real
responses of a set of routes validate against the model each declares."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from tests import formats
from tests.conftest import import_demo_copy
from tests.test_access import route_table
from zonegeo.api.app import create_app


def _is_described(schema: dict[str, Any]) -> bool:
    """A schema that says something: a model reference, an object with properties or typed values, a type."""
    return "$ref" in schema or "properties" in schema or "type" in schema or "items" in schema


def test_every_json_route_declares_its_response_model(settings):
    spec = create_app(settings).openapi()
    undescribed = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("2") and schema is not None and not _is_described(schema):
                    undescribed.append(f"{method.upper()} {path} {status}")
    assert undescribed == [], "JSON routes whose success response has no model: " + ", ".join(undescribed)
    assert len(spec["paths"]) > 15


def declared_model(app, method: str, path: str, status: int) -> type[BaseModel]:
    """The model a route declares for ``status``: ``responses={status: {"model": …}}`` or ``response_model``."""
    for route in route_table(app):
        if route.path == path and method in route.methods:
            model = (route.responses.get(status) or {}).get("model") or route.response_model
            assert model is not None, (method, path, status)
            return model
    raise AssertionError(f"no route {method} {path}")


@pytest.fixture
def app(settings):
    return create_app(settings)


def _check(app, client, method: str, template: str, url: str, status: int = 200, **kwargs) -> dict[str, Any]:
    r = client.request(method, url, **kwargs)
    assert r.status_code == status, (method, url, r.status_code, r.text[:300])
    model = declared_model(app, method, template, status)
    model.model_validate_json(r.content)  # raises, naming the field, when the response does not fit
    return r.json()


def test_real_responses_validate_against_the_declared_models(app, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "OAS")
    z = "/api/zones/{code}"
    path = formats.write_geojson(tmp_path / "b.geojson")
    upload = _check(app, client, "POST", z + "/uploads", f"/api/zones/{code}/uploads", 201,
                    files=[("files", (path.name, path.read_bytes()))], data={"roles": ["boundary"]})
    submitted = _check(app, client, "POST", z + "/versions/{number}/submit",
                       f"/api/zones/{code}/versions/{upload['version']}/submit", json={})
    assert submitted["state"] == "submitted"
    approved = _check(app, client, "POST", z + "/versions/{number}/approve",
                      f"/api/zones/{code}/versions/{upload['version']}/approve", json={})
    assert approved["change_event"] is not None  # a material change: the nested change model is checked too
    _check(app, client, "POST", z + "/changes", f"/api/zones/{code}/changes", 201,
           json={"kind": "operator", "occurred_on": "2026-01-05", "description": "运营管理单位变更"})
    changes = _check(app, client, "GET", "/api/changes", "/api/changes")
    assert changes["count"] >= 2
    worklist = _check(app, client, "GET", "/api/worklist", "/api/worklist")
    assert worklist["count"] >= 1
    zones = _check(app, client, "GET", "/api/zones", "/api/zones")
    assert zones["count"] >= 2
    _check(app, client, "GET", z, f"/api/zones/{code}")
    report = _check(app, client, "GET", z + "/report", f"/api/zones/{code}/report")
    assert report["rules"] and report["institutions"]["total"] > 0
    _check(app, client, "GET", z + "/versions", f"/api/zones/{code}/versions")
    diff = _check(app, client, "GET", z + "/versions/{a}/diff/{b}", f"/api/zones/{code}/versions/1/diff/2")
    assert diff["boundary"] is not None
    assert _check(app, client, "GET", "/api/audit", "/api/audit?limit=20")["data"]
    _check(app, client, "GET", z + "/lifecycle", f"/api/zones/{code}/lifecycle")
    _check(app, client, "GET", z + "/reviews", f"/api/zones/{code}/reviews")
    _check(app, client, "GET", z + "/revocation", f"/api/zones/{code}/revocation")
    _check(app, client, "GET", z + "/attachments", f"/api/zones/{code}/attachments")
    new = _check(app, client, "POST", "/api/zones", "/api/zones", 201,
                 json={"code": f"{code}-N", "name": "新申报（测试）", "city": "南京市", "builder": "测试"})
    assert new["state"] == "draft"


def test_a_response_that_does_not_fit_its_model_is_caught(app):
    """The check above can fail: a report missing a field, or a change with a wrong type, is refused."""
    from pydantic import ValidationError

    report = declared_model(app, "GET", "/api/zones/{code}/report", 200)
    change = declared_model(app, "POST", "/api/zones/{code}/changes", 201)
    with pytest.raises(ValidationError):
        report.model_validate({"zone": {}, "eligible": True})
    with pytest.raises(ValidationError):
        change.model_validate({"id": "x", "kind": "operator"})
