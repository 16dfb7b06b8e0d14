"""Server-rendered Chinese pages: the zone list, a zone with its report and map, the maps themselves."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from zonegeo.api.deps import LoggedIn, RulesDep, SessionDep, SettingsDep, Viewer
from zonegeo.domain.lifecycle import STATES
from zonegeo.services import access, disclosure, eligibility, mapping, zones

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    rows = zones.list_zones(session=session, only=access.visible_zones(session, user), policy=disclosure.for_user(user))
    return request.app.state.templates.TemplateResponse(request, "index.html", {"zones": rows, "user": user})


@router.get("/zones/{code}", response_class=HTMLResponse)
def zone_page(code: str, request: Request, session: SessionDep, rules: RulesDep, user: Viewer) -> HTMLResponse:
    found = access.visible_zone(session, user, code)
    policy = disclosure.for_user(user)
    report = eligibility.disclosed_report(session=session, code=code, rules=rules, policy=policy)
    zone = zones.get_zone(session=session, code=code, policy=policy)
    return request.app.state.templates.TemplateResponse(
        request, "zone.html", {"zone": zone, "report": report, "user": user, "states": STATES,
                               "can_upload": access.can_write(session, user, found)})


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
