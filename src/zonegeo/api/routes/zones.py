"""JSON API of zones: list, one zone, its eligibility report (what the caller may see)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from zonegeo.api.deps import RulesDep, SessionDep, Viewer
from zonegeo.api.schemas import ORJSONResponse, ReportPublic, ZonePublic, ZonesPublic, documented
from zonegeo.services import access, disclosure, eligibility, render_cache, zones

router = APIRouter(prefix="/api/zones", tags=["集聚区"])


@router.get("", response_model=ZonesPublic, summary="集聚区列表（公众只见已公布的）")
def list_zones(session: SessionDep, user: Viewer) -> dict[str, Any]:
    rows = zones.list_zones(session=session, only=access.visible_zones(session, user),
                            policy=disclosure.for_user(user))
    return {"data": rows, "count": len(rows)}


@router.get("/{code}", response_model=ZonePublic, summary="一个集聚区及其空间布局版本（公众只见已批准的）")
def get_zone(code: str, session: SessionDep, user: Viewer) -> dict[str, Any]:
    access.visible_zone(session, user, code)
    return zones.get_zone(session=session, code=code, policy=disclosure.for_user(user))


@router.get("/{code}/report", response_class=ORJSONResponse, responses=documented(ReportPublic),
            summary="申报条件核验报告（与 zonegeo report 相同；公众所见依公开规则）")
def zone_report(code: str, request: Request, session: SessionDep, rules: RulesDep, user: Viewer) -> Response:
    """Computed once per state of the data, day and visibility class (``services/render_cache.py``), with an ETag:
    a matching If-None-Match gets 304. Who may see the zone is decided first, on every request."""
    access.visible_zone(session, user, code)
    policy = disclosure.for_user(user)
    snap = render_cache.Snapshot.read(session)
    key = ("report.json", code, *render_cache.visibility(policy.audience, user), snap.state, snap.day)
    headers = validators(request, key)
    if headers and render_cache.matches(request.headers.get("if-none-match", ""), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    body = render_cache.of_app(request.app.state).get_or_make(key, lambda: ORJSONResponse(
        eligibility.disclosed_report(session=session, code=code, rules=rules, policy=policy)).body)
    return Response(body, media_type="application/json", headers=headers)


def validators(request: Request, key: tuple) -> dict[str, str]:
    """ETag and Cache-Control of a cached result: for the public and web sessions. API clients with a bearer token
    (scripts) are sent the cached bytes without validators (tests/test_public_cache.py)."""
    if "authorization" in request.headers:
        return {}
    return {"ETag": render_cache.etag_of(key), "Cache-Control": "private, no-cache"}
