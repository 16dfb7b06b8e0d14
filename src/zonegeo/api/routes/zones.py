"""JSON API of zones: list, one zone, its eligibility report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from zonegeo.api.deps import RulesDep, SessionDep
from zonegeo.api.schemas import ORJSONResponse, ZonePublic, ZonesPublic
from zonegeo.services import checking, zones

router = APIRouter(prefix="/api/zones", tags=["集聚区"])


@router.get("", response_model=ZonesPublic, summary="集聚区列表")
def list_zones(session: SessionDep) -> dict[str, Any]:
    rows = zones.list_zones(session=session)
    return {"data": rows, "count": len(rows)}


@router.get("/{code}", response_model=ZonePublic, summary="一个集聚区及其空间布局版本")
def get_zone(code: str, session: SessionDep) -> dict[str, Any]:
    return zones.get_zone(session=session, code=code)


@router.get("/{code}/report", response_class=ORJSONResponse, summary="申报条件核验报告（与 zonegeo report 相同）")
def zone_report(code: str, session: SessionDep, rules: RulesDep) -> Response:
    return ORJSONResponse(checking.zone_report(session=session, code=code, rules=rules).to_dict())
