"""Server-rendered Chinese pages: the zone list, a zone with its report and map, the maps themselves."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zonegeo.api.csrf import csrf_token
from zonegeo.api.deps import CalendarDep, LoggedIn, RulesDep, SessionDep, SettingsDep, Viewer
from zonegeo.api.routes import zone_desk
from zonegeo.domain import journey
from zonegeo.domain.lifecycle import STATES
from zonegeo.errors import NotFoundError
from zonegeo.services import (
    access,
    announcements,
    changes,
    disclosure,
    eligibility,
    four_sides,
    integrity,
    lifecycle,
    mapping,
    register,
    zones,
)

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    rows = zones.list_zones(session=session, only=access.visible_zones(session, user), policy=disclosure.for_user(user))
    return request.app.state.templates.TemplateResponse(request, "index.html", {"zones": rows, "user": user})


@router.get("/zones/{code}", response_class=HTMLResponse)
def zone_page(code: str, request: Request, session: SessionDep, rules: RulesDep, calendar: CalendarDep,
              user: Viewer) -> Response:
    """A zone from the first moment of its application: its facts, the step bar, its layout versions (with
    submit and withdraw), its change reports to file, and the eligibility report once it has a layout."""
    if user is None and announcements.revoked_and_announced(session, code):  # 取消称号并予以公告 (issue 14)
        return RedirectResponse(f"/announcements/{quote(code)}", status_code=303)
    found = access.visible_zone(session, user, code)
    policy = disclosure.for_user(user)
    today = dt.date.today()
    try:
        report = eligibility.disclosed_report(session=session, code=code, rules=rules, policy=policy)
    except NotFoundError as exc:  # a new application: no layout uploaded yet
        if exc.code != "zone_has_no_version":
            raise
        report = None
    zone = zones.get_zone(session=session, code=code, policy=policy)
    # the public sees where a zone stands, not the bureaus' comments
    events = [] if user is None else [{**h, "on": dt.date.fromisoformat(h["on"])}
                                      for h in lifecycle.history(session=session, user=user, code=code)]
    steps = journey.journey(found.status, events, lifecycle.obligations(found, today, events, calendar),
                            today=today, calendar=calendar)
    can_write = access.can_write(session, user, found)
    zone_changes = [] if user is None else changes.list_changes(session=session, today=today, code=code)
    for change in zone_changes:
        change["working_days_left"] = journey.working_days_left(calendar, today,
                                                                dt.date.fromisoformat(change["report_due"]))
    return request.app.state.templates.TemplateResponse(
        request, "zone.html", {"zone": zone, "report": report, "user": user, "states": STATES,
                               "can_upload": can_write, "can_write": can_write, "journey": steps,
                               "versions": changes.version_rows(session, found, policy, rules),
                               "changes": zone_changes, "flash": zone_desk.take_flash(request),
                               "csrf": csrf_token(request) if user is not None else "",
                               # the 申报表's 四至 words beside the drawing (the public: the approved layout's)
                               "four_sides": four_sides.for_zone(session, found, policy=policy),
                               # institution registers under review: seen by those who may see drafts
                               "register_drafts": (register.list_drafts(session=session, zone=found)
                                                   if policy.sees_version("draft") else []),
                               # 跨集聚区核查 naming this zone: for the bureaus that review it
                               "integrity": _integrity(session, user, code)})


def _integrity(session, user, code: str) -> list[dict[str, Any]]:
    """跨集聚区核查 naming the zone: the province sees them whole, a city bureau as ``integrity.for_city`` shows them."""
    if user is None or user.role not in ("city", "province"):
        return []
    found = integrity.for_zone(integrity.findings(session, zone=code), code)
    return found if user.role == "province" else integrity.for_city(found, user.city or "")


@router.get("/zones/{code}/map", response_class=HTMLResponse)
def zone_map(code: str, session: SessionDep, rules: RulesDep, settings: SettingsDep, user: Viewer) -> HTMLResponse:
    access.visible_zone(session, user, code)
    page = mapping.zone_map_html(session=session, code=code, rules=rules, tiles=settings.tiles,
                                 tianditu_key=settings.tianditu_key, audience=disclosure.for_user(user).audience)
    return HTMLResponse(page)


@router.get("/zones/{code}/map/offline", response_class=HTMLResponse)
def zone_map_offline(code: str, session: SessionDep, rules: RulesDep, settings: SettingsDep,
                     user: Viewer) -> HTMLResponse:
    """One self-contained file for a site visit: opens from a phone's storage with no network."""
    access.visible_zone(session, user, code)
    page = mapping.zone_map_html(session=session, code=code, rules=rules, tiles=settings.tiles, self_contained=True,
                                 audience=disclosure.for_user(user, offline=True).audience,
                                 tianditu_key=settings.tianditu_key)
    name = quote(f"{code}-现场核查地图.html")
    return HTMLResponse(page, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@router.get("/zones/{code}/versions/{number}/map", response_class=HTMLResponse)
def version_map(code: str, number: int, session: SessionDep, rules: RulesDep, settings: SettingsDep,
                user: LoggedIn) -> HTMLResponse:
    access.visible_zone(session, user, code)
    page = mapping.zone_map_html(session=session, code=code, rules=rules, tiles=settings.tiles, version_number=number)
    return HTMLResponse(page)
