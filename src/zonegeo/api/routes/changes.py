"""Change events (变更事项) and their reports: API and the Chinese list of pending and overdue reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from zonegeo.api.deps import Bureau, CalendarDep, RulesDep, SessionDep, Writer
from zonegeo.api.schemas import ChangeCreate, ChangePublic, ChangeReport, ChangesPublic, ORJSONResponse, documented
from zonegeo.services import access, changes

router = APIRouter(tags=["变更事项"])


@router.get("/api/changes", response_class=ORJSONResponse, responses=documented(ChangesPublic),
            summary="变更事项（status=pending|overdue|reported|late）")
def list_changes(session: SessionDep, user: Bureau, status: str | None = None, city: str | None = None) -> Response:
    rows = changes.list_changes(session=session, today=dt.date.today(), status_filter=status,
                                city=access.city_scope(user, city))
    return ORJSONResponse({"data": rows, "count": len(rows)})


@router.post("/api/zones/{code}/changes", status_code=201, response_class=ORJSONResponse,
             responses=documented(ChangePublic, 201),
             summary="登记非空间变更（运营管理机构、性质或功能、运行机制、其他重大事项）")
def record_change(code: str, body: ChangeCreate, session: SessionDep, rules: RulesDep, calendar: CalendarDep,
                  user: Writer) -> Any:
    zone = access.writable_zone(session, user, code)
    event = changes.record_change(session=session, code=code, kind=body.kind, occurred_on=body.occurred_on,
                                  description=body.description, rules=rules, calendar=calendar, user=user)
    return ORJSONResponse(changes.change_dict(event, dt.date.today(), zone), status_code=201)


@router.post("/api/zones/{code}/changes/{change_id}/report", response_class=ORJSONResponse,
             responses=documented(ChangePublic),
             summary="登记变更报告（报告人、报告日期）；逾期报告照常登记并标记为逾期")
def file_report(code: str, change_id: int, body: ChangeReport, session: SessionDep, user: Writer) -> Response:
    zone = access.writable_zone(session, user, code)
    event = changes.file_report(session=session, code=code, change_id=change_id, reported_by=body.reported_by,
                                reported_on=body.reported_on or dt.date.today(), note=body.note, user=user)
    return ORJSONResponse(changes.change_dict(event, dt.date.today(), zone))


@router.get("/changes", response_class=HTMLResponse, include_in_schema=False)
def changes_page(request: Request, session: SessionDep, user: Bureau, city: str | None = None) -> HTMLResponse:
    today = dt.date.today()
    listed = changes.list_changes(session=session, today=today, city=access.city_scope(user, city))
    rows = [r for r in listed if r["status"] in ("pending", "overdue")]
    by_city: dict[str, list[dict[str, Any]]] = {}
    for row in rows:  # already nearest deadline first
        by_city.setdefault(row["city"], []).append(row)
    reported = sorted((r for r in listed if r["status"] in ("reported", "late")),
                      key=lambda r: (r["reported_on"], r["id"]), reverse=True)
    return request.app.state.templates.TemplateResponse(
        request, "changes.html", {"by_city": by_city, "today": today, "count": len(rows), "reported": reported,
                                  "user": user})
