"""A zone's layout versions: history, comparison of two, submission, withdrawal of a draft and approval."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from zonegeo.api.deps import CalendarDep, LoggedIn, Province, RulesDep, SessionDep, SettingsDep, Writer
from zonegeo.api.schemas import (
    ORJSONResponse,
    TransitionRequest,
    TransitionResult,
    VersionDiffPublic,
    VersionsPublic,
    documented,
)
from zonegeo.services import access, changes, mapping, zones

router = APIRouter(tags=["版本"])


@router.get("/api/zones/{code}/versions", response_model=VersionsPublic, summary="空间布局版本历史")
def list_versions(code: str, session: SessionDep, user: LoggedIn) -> dict[str, Any]:
    access.visible_zone(session, user, code)
    rows = zones.list_versions(session=session, code=code)
    return {"data": rows, "count": len(rows)}


@router.get("/api/zones/{code}/versions/{a}/diff/{b}", response_class=ORJSONResponse,
            responses=documented(VersionDiffPublic), summary="比较两个版本")
def diff_versions(code: str, a: int, b: int, session: SessionDep, rules: RulesDep, user: LoggedIn,
                  geometries: bool = False) -> Response:
    zone = access.visible_zone(session, user, code)
    diff = changes.version_diff(session, zone, a, b, rules)
    return ORJSONResponse({"code": code, "from_version": a, "to_version": b, **diff.to_dict(geometries)})


def _transition(session, code: str, number: int, action: str, body: TransitionRequest, rules, calendar, user):
    access.writable_zone(session, user, code)
    return ORJSONResponse(changes.transition(session=session, code=code, number=number, action=action,
                                             by=body.by.strip(), rules=rules, calendar=calendar,
                                             effective_on=body.effective_on, user=user))


@router.post("/api/zones/{code}/versions/{number}/submit", response_class=ORJSONResponse,
             responses=documented(TransitionResult), summary="提交草稿版本")
def submit_version(code: str, number: int, body: TransitionRequest, session: SessionDep, rules: RulesDep,
                   calendar: CalendarDep, user: Writer) -> Response:
    return _transition(session, code, number, "submit", body, rules, calendar, user)


@router.post("/api/zones/{code}/versions/{number}/withdraw", response_class=ORJSONResponse,
             responses=documented(TransitionResult), summary="撤回草稿版本：保留在版本列表和审计记录中，不会被批准")
def withdraw_version(code: str, number: int, body: TransitionRequest, session: SessionDep, rules: RulesDep,
                     calendar: CalendarDep, user: Writer) -> Response:
    return _transition(session, code, number, "withdraw", body, rules, calendar, user)


@router.post("/api/zones/{code}/versions/{number}/approve", response_class=ORJSONResponse,
             responses=documented(TransitionResult), summary="批准已提交的版本：替代原批准版本；空间布局有实质变化则登记变更事项")
def approve_version(code: str, number: int, body: TransitionRequest, session: SessionDep, rules: RulesDep,
                    calendar: CalendarDep, user: Province) -> Response:
    return _transition(session, code, number, "approve", body, rules, calendar, user)


class ReturnRequest(BaseModel):
    note: str = Field(description="退回意见：需要修改的内容（必填，保留在版本记录中，建设主体在集聚区页面可见）")
    by: str = ""  # a name to add to the record (e.g. 经办人); the actor is always the logged-in user


@router.post("/api/zones/{code}/versions/{number}/return", response_class=ORJSONResponse,
             responses=documented(TransitionResult),
             summary="退回已提交的版本（须填写意见）：回到草稿，建设主体修改后可重新提交；随版本提交的机构名录一并退回")
def return_version(code: str, number: int, body: ReturnRequest, session: SessionDep, rules: RulesDep,
                   calendar: CalendarDep, user: Province) -> Response:
    access.writable_zone(session, user, code)
    return ORJSONResponse(changes.transition(session=session, code=code, number=number, action="return",
                                             by=body.by.strip(), rules=rules, calendar=calendar, user=user,
                                             note=body.note))


@router.get("/zones/{code}/versions/{a}/diff/{b}/map", response_class=HTMLResponse, include_in_schema=False)
def diff_map(code: str, a: int, b: int, session: SessionDep, rules: RulesDep, settings: SettingsDep,
             user: LoggedIn) -> HTMLResponse:
    access.visible_zone(session, user, code)
    return HTMLResponse(mapping.diff_map_html(session=session, code=code, a=a, b=b, rules=rules, tiles=settings.tiles))


