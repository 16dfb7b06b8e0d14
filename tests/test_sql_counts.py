"""SQL statements per request do not grow with the number of zones (issue 15): the zone list (API and home page),
a zone's report, page and map, and the worklist, for the public, a city bureau and the province, counted by a
SQLAlchemy event hook on the app's engine, before and after 25 more zones (each with an approved layout and
institutions) are added."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Point, box

from tests.conftest import bearer, count_statements
from zonegeo.api.app import create_app
from zonegeo.db.geometry import to_db
from zonegeo.db.models import Institution, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.services.publishing import set_published

LIST_ROUTES = ("/api/zones", "/")
ZONE_ROUTES = ("/api/zones/{code}/report", "/zones/{code}", "/zones/{code}/map")


def add_zones(engine, n: int) -> list[str]:
    """``n`` published zones in their operating period; odd ones in 南京市 (the city bureau's), even in 苏州市."""
    run = uuid.uuid4().hex[:6].upper()
    codes = []
    with transaction(session_factory(engine)) as s:
        for k in range(n):
            lon, lat = 120.0 + k * 0.02, 33.0
            zone = Zone(code=f"SQL{run}-{k}", name=f"计数{k}集聚区", city="南京市" if k % 2 else "苏州市",
                        builder="", operator="", status="operating", dates={}, published=False, note="", four_sides={})
            s.add(zone)
            s.flush()
            s.add(ZoneVersion(zone_id=zone.id, number=1, state="approved",
                              boundary=to_db(MultiPolygon([box(lon, lat, lon + 0.01, lat + 0.01)])), core=None,
                              source_files=[], content_sha256=uuid.uuid4().hex * 2, ingest_warnings=[],
                              uploaded_by="test", effective_on=dt.date(2025, 1, 6)))
            for i in range(3):
                s.add(Institution(zone_id=zone.id, name=f"机构{i}", credit_code="", kind="institution", services=[],
                                  chain=[], location=to_db(Point(lon + 0.001 * (i + 1), lat + 0.001)),
                                  entered_on=dt.date(2025, 1, 6)))
            s.flush()
            set_published(session=s, code=zone.code, published=True)  # audited: the public cache sees the write
            codes.append(zone.code)
    return codes


def counts(client, app, headers, routes) -> dict[str, int]:
    out = {}
    for route in routes:
        answers: list = []
        out[route] = count_statements(app.state.uow.engine,
                                      lambda route=route, answers=answers: answers.append(client.get(route, headers=headers)))
        assert answers[0].status_code == 200, (route, answers[0].text[:300])
    return out


@pytest.mark.parametrize("role", ["public", "city", "province"])
def test_the_same_statements_with_25_more_zones(settings, engine, tokens, role, monkeypatch):
    """The list, a zone's report, page and map (a published zone of 南京市: every role here may see it), and
    (logged in) the worklist. The header's 待办 count is kept per minute as well as per state: the minute is held
    still, or a phase that crosses a minute's end counts the worklist once more."""
    from types import SimpleNamespace

    monkeypatch.setattr("zonegeo.api.header.time", SimpleNamespace(monotonic=lambda: 0.0))
    probe = add_zones(engine, 2)[1]
    routes = [*LIST_ROUTES, *(r.format(code=probe) for r in ZONE_ROUTES)]
    if role != "public":
        routes.append("/worklist")
    app = create_app(settings.model_copy(update={"public_cache_ttl_s": 0}))
    with TestClient(app) as client:
        headers = bearer(tokens, role)
        counts(client, app, headers, routes)  # the first request of a session warms per-process caches
        add_zones(engine, 1)  # a write: the public cache and the header's 待办 count are recomputed, as after 25
        before = counts(client, app, headers, routes)
        listed = len(client.get("/api/zones", headers=headers).json()["data"])
        add_zones(engine, 25)
        after = counts(client, app, headers, routes)
        grown = len(client.get("/api/zones", headers=headers).json()["data"])
    assert grown > listed  # the new zones are listed (public: published; city: its own half)
    assert after == before, (before, after)
    assert after["/api/zones"] <= 6, after  # the session/token lookup, the zones, their versions, the counts
