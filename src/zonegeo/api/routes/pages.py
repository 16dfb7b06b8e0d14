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
from zonegeo.api.routes import zones as zones_routes
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
    render_cache,
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
    submit and withdraw), its change reports to file, and the eligibility report once it has a layout.
    The parts that cost (the report's check, the versions' measures, the 四至) are computed once per state of
    the data, day and visibility class; the page around them (the user, the form token) is the caller's own,
    named by its ETag (``_page_validators``)."""
    if user is None and announcements.revoked_and_announced(session, code):  # 取消称号并予以公告 (issue 14)
        return RedirectResponse(f"/announcements/{quote(code)}", status_code=303)
    found = access.visible_zone(session, user, code)
    policy = disclosure.for_user(user)
    snap = render_cache.Snapshot.read(session)
    headers = _page_validators(request, user, code, policy, snap)
    if headers and render_cache.matches(request.headers.get("if-none-match", ""), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    today = dt.date.today()
    parts = render_cache.of_app(request.app.state).get_or_make(
        ("zone.parts", code, *render_cache.visibility(policy.audience, user), snap.state, snap.day),
        lambda: _zone_parts(session, found, code, rules, policy), size=_parts_size)
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
    response = request.app.state.templates.TemplateResponse(
        request, "zone.html", {"zone": parts["zone"], "report": parts["report"], "user": user, "states": STATES,
                               "can_upload": can_write, "can_write": can_write, "journey": steps,
                               "versions": parts["versions"],
                               "changes": zone_changes, "flash": zone_desk.take_flash(request),
                               "csrf": csrf_token(request) if user is not None else "",
                               # the 申报表's 四至 words beside the drawing (the public: the approved layout's)
                               "four_sides": parts["four_sides"],
                               # institution registers under review: seen by those who may see drafts
                               "register_drafts": parts["register_drafts"],
                               # 跨集聚区核查 naming this zone: for the bureaus that review it
                               "integrity": _integrity(session, user, code)})
    response.headers.update(headers)
    return response


def _zone_parts(session, found, code: str, rules, policy: disclosure.Disclosure) -> dict[str, Any]:
    """What the zone page shows that depends on the data, the day and the policy only (never on the user)."""
    try:
        report = eligibility.disclosed_report(session=session, code=code, rules=rules, policy=policy)
    except NotFoundError as exc:  # a new application: no layout uploaded yet
        if exc.code != "zone_has_no_version":
            raise
        report = None
    return {"report": report, "zone": zones.get_zone(session=session, code=code, policy=policy),
            "versions": changes.version_rows(session, found, policy, rules),
            "four_sides": four_sides.for_zone(session, found, policy=policy),
            "register_drafts": (register.list_drafts(session=session, zone=found)
                                if policy.sees_version("draft") else [])}


def _parts_size(parts: dict[str, Any]) -> int:
    """The cached parts' size, as their JSON would be (a bound for the cache, not an exact count)."""
    import orjson

    return len(orjson.dumps(parts, default=str, option=orjson.OPT_NON_STR_KEYS))


def _page_validators(request: Request, user, code: str, policy: disclosure.Disclosure,
                     snap: render_cache.Snapshot) -> dict[str, str]:
    """The zone page's ETag: the state, the day, the visibility class and, for a logged-in user, the user and the
    session's form token (both in the page). None while a one-time message waits (the page shows it once) or
    before the session has a form token (rendering makes one)."""
    session_data = request.session if "session" in request.scope else {}
    if session_data.get(zone_desk.FLASH) is not None or (user is not None and not session_data.get("csrf")):
        return {}
    who = ("user", user.id, user.username, user.city, session_data["csrf"]) if user is not None else ("public",)
    key = ("zone.html", code, request.url.query, *render_cache.visibility(policy.audience, user), *who, snap.state,
           snap.day)
    return {"ETag": render_cache.etag_of(key), "Cache-Control": "private, no-cache"}


def _integrity(session, user, code: str) -> list[dict[str, Any]]:
    """跨集聚区核查 naming the zone: the province sees them whole, a city bureau as ``integrity.for_city`` shows them."""
    if user is None or user.role not in ("city", "province"):
        return []
    found = integrity.for_zone(integrity.findings(session, zone=code), code)
    return found if user.role == "province" else integrity.for_city(found, user.city or "")


@router.get("/zones/{code}/map", response_class=HTMLResponse)
def zone_map(code: str, request: Request, session: SessionDep, rules: RulesDep, settings: SettingsDep,
             user: Viewer) -> Response:
    """Rendered once per state of the data, day and visibility class, with an ETag (304 on If-None-Match)."""
    access.visible_zone(session, user, code)
    audience = disclosure.for_user(user).audience
    snap = render_cache.Snapshot.read(session)
    key = ("map.html", code, *render_cache.visibility(audience, user), snap.state, snap.day, settings.tiles,
           settings.tianditu_key)
    headers = zones_routes.validators(request, key)
    if headers and render_cache.matches(request.headers.get("if-none-match", ""), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    page = render_cache.of_app(request.app.state).get_or_make(key, lambda: mapping.zone_map_html(
        session=session, code=code, rules=rules, tiles=settings.tiles, tianditu_key=settings.tianditu_key,
        audience=audience).encode())
    return HTMLResponse(page, headers=headers)


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
