"""A zone's layout versions: history, comparison of two, submission and approval."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from zonegeo.api.deps import CalendarDep, RulesDep, SessionDep, SettingsDep
from zonegeo.api.schemas import ORJSONResponse, TransitionRequest, VersionsPublic
from zonegeo.db import repo
from zonegeo.services import changes, mapping, zones

router = APIRouter(tags=["版本"])


@router.get("/api/zones/{code}/versions", response_model=VersionsPublic, summary="空间布局版本历史")
def list_versions(code: str, session: SessionDep) -> dict[str, Any]:
    rows = zones.list_versions(session=session, code=code)
    return {"data": rows, "count": len(rows)}


@router.get("/api/zones/{code}/versions/{a}/diff/{b}", response_class=ORJSONResponse, summary="比较两个版本")
def diff_versions(code: str, a: int, b: int, session: SessionDep, rules: RulesDep, geometries: bool = False) -> Response:
    zone = repo.get_zone(session, code)
    diff = changes.version_diff(session, zone, a, b, rules)
    return ORJSONResponse({"code": code, "from_version": a, "to_version": b, **diff.to_dict(geometries)})


@router.post("/api/zones/{code}/versions/{number}/{action}", response_class=ORJSONResponse,
             summary="提交（submit）或批准（approve）一个版本；批准时替代原批准版本，空间布局有实质变化则登记变更事项")
def transition(code: str, number: int, action: str, body: TransitionRequest, session: SessionDep, rules: RulesDep,
               calendar: CalendarDep) -> Response:
    result = changes.transition(session=session, code=code, number=number, action=action, by=body.by or "web",
                                rules=rules, calendar=calendar, effective_on=body.effective_on)
    return ORJSONResponse(result)


@router.get("/zones/{code}/versions/{a}/diff/{b}/map", response_class=HTMLResponse, include_in_schema=False)
def diff_map(code: str, a: int, b: int, session: SessionDep, rules: RulesDep, settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(mapping.diff_map_html(session=session, code=code, a=a, b=b, rules=rules, tiles=settings.tiles))


