"""JSON API of zones: list, one zone, its eligibility report (what the caller may see)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from zonegeo.api.deps import RulesDep, SessionDep, Viewer
from zonegeo.api.schemas import ORJSONResponse, ReportPublic, ZonePublic, ZonesPublic, documented
from zonegeo.services import access, disclosure, eligibility, zones

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
def zone_report(code: str, session: SessionDep, rules: RulesDep, user: Viewer) -> Response:
    access.visible_zone(session, user, code)
    return ORJSONResponse(eligibility.disclosed_report(session=session, code=code, rules=rules,
                                                    policy=disclosure.for_user(user)))
