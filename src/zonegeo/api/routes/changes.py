"""Change events (变更事项) and their reports: API and the Chinese list of pending and overdue reports; the
province's 回执 on a filed report and the city bureau's 抄报已收到, as JSON and as page forms (Post/Redirect/Get:
the outcome or the Chinese reason of a refusal is shown once on the page the form came from)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import Bureau, CalendarDep, Province, RulesDep, SessionDep, Writer, require
from zonegeo.api.forms import FormText
from zonegeo.api.routes import zone_desk
from zonegeo.api.schemas import (
    ChangeCreate,
    ChangePublic,
    ChangeReceipt,
    ChangeReport,
    ChangesPublic,
    ORJSONResponse,
    documented,
)
from zonegeo.errors import ZonegeoError
from zonegeo.services import access, changes
from zonegeo.services.auth import User

router = APIRouter(tags=["变更事项"])
CityBureau = Annotated[User, Depends(require("city"))]  # the 抄报 goes to the city bureau only
FLASH = "changes_desk"  # the session key of the message shown once on /changes


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


@router.post("/api/zones/{code}/changes/{change_id}/acknowledge", response_class=ORJSONResponse,
             responses=documented(ChangePublic),
             summary="省知识产权局对已报告的变更出具回执（回执编号如 HZ-2026-000123）；重复出具或尚未报告时拒绝（409）")
def acknowledge(code: str, change_id: int, session: SessionDep, user: Province,
                body: ChangeReceipt | None = None) -> Response:
    zone = access.visible_zone(session, user, code)
    body = body or ChangeReceipt()
    event = changes.acknowledge(session=session, code=code, change_id=change_id, user=user, on=body.on, by=body.by)
    return ORJSONResponse(changes.change_dict(event, dt.date.today(), zone))


@router.post("/api/zones/{code}/changes/{change_id}/receive", response_class=ORJSONResponse,
             responses=documented(ChangePublic),
             summary="集聚区所在设区市知识产权局确认收到变更报告的抄报；重复确认或尚未报告时拒绝（409）")
def receive_copy(code: str, change_id: int, session: SessionDep, user: CityBureau,
                 body: ChangeReceipt | None = None) -> Response:
    zone = access.visible_zone(session, user, code)
    body = body or ChangeReceipt()
    event = changes.receive_copy(session=session, code=code, change_id=change_id, user=user, on=body.on, by=body.by)
    return ORJSONResponse(changes.change_dict(event, dt.date.today(), zone))


def _form_action(request: Request, session: Session, user: User, code: str, change_id: int, csrf: str, back: str,
                 action: str) -> RedirectResponse:
    """A 回执 or 抄报 form: done in a savepoint (a refusal stores nothing), then back to the page it came from."""
    check_csrf(request, csrf)
    access.visible_zone(session, user, code)
    anchor = f"change-{change_id}"
    to_zone = back == "zone"
    try:
        with session.begin_nested():
            if action == "acknowledge":
                event = changes.acknowledge(session=session, code=code, change_id=change_id, user=user)
                kind, text = "ok", f"已出具回执，回执编号{event.receipt_no}"
            else:
                changes.receive_copy(session=session, code=code, change_id=change_id, user=user)
                kind, text = "ok", "已确认收到该变更报告的抄报"
        error = ""
    except ZonegeoError as exc:
        kind, text, error = "error", exc.message, exc.code
    if to_zone:
        zone_desk.flash(request, kind, text, anchor=anchor, code=error)
        return RedirectResponse(f"/zones/{code}#{anchor}", status_code=303)
    request.session[FLASH] = {"kind": kind, "text": text, "anchor": anchor, "code": error}
    return RedirectResponse(f"/changes#{anchor}", status_code=303)


@router.post("/zones/{code}/changes/{change_id}/acknowledge", include_in_schema=False)
def acknowledge_form(code: str, change_id: int, request: Request, session: SessionDep, user: Province,
                     csrf: FormText = "", back: FormText = "") -> RedirectResponse:
    return _form_action(request, session, user, code, change_id, csrf, back, "acknowledge")


@router.post("/zones/{code}/changes/{change_id}/receive", include_in_schema=False)
def receive_form(code: str, change_id: int, request: Request, session: SessionDep, user: CityBureau,
                 csrf: FormText = "", back: FormText = "") -> RedirectResponse:
    return _form_action(request, session, user, code, change_id, csrf, back, "receive")


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
                                  "user": user, "csrf": csrf_token(request),
                                  "flash": request.session.pop(FLASH, None) if "session" in request.scope else None})
