"""The expert's pages (issue 13): ``/expert`` (the assigned zones), ``/zones/{code}/expert`` (评审工作台: materials,
maps, report and one opinion form with the 需人工审核 items), ``/zones/{code}/visit`` (实地考察 on a phone, working
with weak or no network: findings queue in the browser and are sent with a client id the server stores once), its
map, photos and the service worker that lets the visit page reload offline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import Expert, RulesDep, SessionDep, SettingsDep, Viewer, require
from zonegeo.api.forms import FormText
from zonegeo.api.routes.zone_desk import flash, take_flash
from zonegeo.api.schemas import ORJSONResponse, SiteVisitFindingPublic, SiteVisitsPublic, documented
from zonegeo.db.models import User
from zonegeo.domain import site_visit as desk_rules
from zonegeo.domain.lifecycle import STATES
from zonegeo.errors import InputError, ZonegeoError
from zonegeo.services import access, disclosure, lifecycle, mapping, opinions, reviews, site_visits

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["生命周期"])
DeskReader = Annotated[User, Depends(require(*site_visits.READ_ROLES))]
FormFile = Annotated[UploadFile | str | None, File()]
SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "visit-sw.js"
MAX_FORM_FIELDS = 200


async def form_fields(request: Request) -> dict[str, str]:
    """The desk form's text fields (one per 需人工审核 item: their names come from the rules file)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


@router.get("/expert", response_class=HTMLResponse)
def expert_index(request: Request, session: SessionDep, user: Expert) -> HTMLResponse:
    zones = opinions.assigned_zones(session, user)
    rows = [{"code": z.code, "name": z.name, "city": z.city, "state": STATES.get(z.status, z.status),
             "open": z.status in reviews.OPEN_STATES,
             "mine": len(opinions.opinions(session, z, expert=user.username))} for z in zones]
    return request.app.state.templates.TemplateResponse(request, "expert_index.html", {"user": user, "rows": rows})


def _zone_links(session: Session, zone: Any) -> dict[str, Any]:
    return {"materials": [lifecycle.attachment_dict(a) for a in lifecycle.attachments(session, zone)]}


def _desk(request: Request, session: Session, rules: Any, user: User, code: str, *, values: dict[str, str] | None = None,
          error: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    zone = site_visits.reading_zone(session, user, code)
    may = user.role == "expert" and zone.status in reviews.OPEN_STATES
    shown = take_flash(request) if error is None else {"kind": "error", "text": error["message"], "code": error["code"]}
    context = {
        "zone": zone, "user": user, "state_label": STATES.get(zone.status, zone.status), "may": may,
        "open_states": "、".join(STATES[s] for s in reviews.OPEN_STATES),
        "overview": reviews.overview(session=session, user=user, code=code, rules=rules),
        "results": reviews.RESULTS, "parts": desk_rules.PARTS, "values": values or {},
        "opinions": opinions.opinions(session, zone, expert=user.username if user.role == "expert" else None),
        "visits": site_visits.visits(session, zone), "flash": shown, "csrf": csrf_token(request),
        "today": dt.date.today().isoformat(), "max_opinion": desk_rules.MAX_OPINION_CHARS,
        "max_note": desk_rules.MAX_NOTE_CHARS, **_zone_links(session, zone),
    }
    return request.app.state.templates.TemplateResponse(request, "expert.html", context, status_code=status_code)


@router.get("/zones/{code}/expert", response_class=HTMLResponse)
def desk_page(code: str, request: Request, session: SessionDep, rules: RulesDep, user: DeskReader) -> HTMLResponse:
    return _desk(request, session, rules, user, code)


@router.post("/zones/{code}/expert", response_model=None)
def desk_submit(code: str, request: Request, session: SessionDep, rules: RulesDep, user: Expert, form: FormFields,
                csrf: FormText = "") -> RedirectResponse | HTMLResponse:
    """Stored: back to the page (Post/Redirect/Get) with what was recorded. Refused: the page again with the reason
    and everything typed still in the form (a long opinion typed on a phone is not lost); nothing stored."""
    check_csrf(request, csrf)
    try:
        with session.begin_nested():
            done = opinions.submit(session=session, user=user, code=code, rules=rules, form=form)
    except ZonegeoError as exc:
        if exc.code in ("not_assigned", "zone_not_found"):
            raise
        return _desk(request, session, rules, user, code, values=form, error=exc.to_dict(),
                     status_code=422 if isinstance(exc, InputError) else 409)
    said = [f"已记录{len(done['reviews'])}项人工审核结果"] if done["reviews"] else []
    if done["opinion"] is not None:
        said.append("已提交评审意见（" + ("推荐" if done["opinion"]["recommend"] else "不推荐") + "）")
    flash(request, "ok", "；".join(said), anchor="result")
    return RedirectResponse(f"/zones/{code}/expert#result", status_code=303)


# ---- the site visit ----

@router.get("/zones/{code}/visit", response_class=HTMLResponse)
def visit_page(code: str, request: Request, session: SessionDep, user: DeskReader) -> HTMLResponse:
    zone = site_visits.reading_zone(session, user, code)
    all_visits = site_visits.visits(session, zone)
    latest = site_visits.latest_findings(all_visits)
    context = {"zone": zone, "user": user, "state_label": STATES.get(zone.status, zone.status),
               "may": site_visits.can_record(session, user, zone), "targets": site_visits.targets(session, zone),
               "latest": {f"{k[0]}-{k[1]}": v for k, v in latest.items()}, "visits": all_visits,
               "statuses": desk_rules.STATUSES, "csrf": csrf_token(request),
               "max_note": desk_rules.MAX_NOTE_CHARS, "max_use": desk_rules.MAX_USE_CHARS,
               "max_photo_mb": site_visits.MAX_PHOTO_BYTES // 1048576}
    return request.app.state.templates.TemplateResponse(request, "visit.html", context)


@router.get("/zones/{code}/visit/map", response_class=HTMLResponse)
def visit_map(code: str, session: SessionDep, rules: RulesDep, settings: SettingsDep, user: DeskReader) -> HTMLResponse:
    """The site-visit map as one self-contained page (shown in the visit page, kept by its service worker)."""
    site_visits.reading_zone(session, user, code)
    page = mapping.zone_map_html(session=session, code=code, rules=rules, tiles=settings.tiles, self_contained=True,
                                 audience=disclosure.for_user(user, offline=True).audience,
                                 tianditu_key=settings.tianditu_key)
    return HTMLResponse(page, headers={"Cache-Control": "private, no-cache"})


@router.get("/zones/{code}/visit/photos/{number}")
def visit_photo(code: str, number: int, session: SessionDep, user: DeskReader) -> Response:
    """A finding's photo as stored (re-encoded JPEG without EXIF); ``number`` is the finding's id."""
    content = site_visits.photo(session=session, user=user, code=code, finding_id=number)
    return Response(content, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/visit-sw.js")
def service_worker(user: Viewer) -> Response:
    """The visit page's service worker, served from the root so that its scope may cover /zones/."""
    return Response(SERVICE_WORKER.read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache"})


@api.post("/api/zones/{code}/visit/findings", status_code=201, response_class=ORJSONResponse,
          responses=documented(SiteVisitFindingPublic, 201) | documented(SiteVisitFindingPublic, 200),
          summary="登记一条实地考察发现（在位/不在位/未核实，或建筑实际用途；可附照片）；同一client_id只保存一次（再次发送返回200）")
def add_finding(code: str, session: SessionDep, user: Expert, client_id: FormText = "", target_kind: FormText = "",
                target_id: FormText = "", observed_at: FormText = "", status: FormText = "", observed_use: FormText = "",
                note: FormText = "", photo: FormFile = None) -> Response:
    """Every field is checked by the service, after the zone's access rule (a missing one is a Chinese 422)."""
    given = None
    if photo is not None and not isinstance(photo, str) and photo.filename:
        given = (photo.filename, photo.file.read(site_visits.MAX_PHOTO_BYTES + 1))
        if not given[1]:
            raise InputError("empty_file", f"照片为空：{photo.filename}", {"field": "photo"})
    row, created = site_visits.record_finding(session=session, user=user, code=code, client_id=client_id,
                                              target_kind=target_kind, target_id=target_id, status=status,
                                              observed_use=observed_use, note=note, observed_at=observed_at,
                                              photo=given)
    return ORJSONResponse(row | {"created": created}, status_code=201 if created else 200)


@api.get("/api/zones/{code}/visits", response_class=ORJSONResponse, responses=documented(SiteVisitsPublic),
         summary="实地考察记录（专家、日期、每个机构和建筑的发现、照片的EXIF位置和时间）")
def list_visits(code: str, session: SessionDep, user: DeskReader) -> Response:
    zone = site_visits.reading_zone(session, user, code)
    return ORJSONResponse({"code": zone.code, "data": site_visits.visits(session, zone)})


def visit_summary(user: Any, code: str) -> dict[str, Any] | None:
    """For the zone page (a template global, like the header): the zone's site visits, to the province, the zone's
    city and its assigned experts; None for anyone else or when they cannot be read."""
    from sqlalchemy.orm import object_session

    if not isinstance(user, User) or user.role not in site_visits.READ_ROLES:
        return None
    session = object_session(user)
    if session is None:
        return None
    try:
        with session.begin_nested():
            zone = site_visits.reading_zone(session, user, code)
            found = site_visits.visits(session, zone)
            return {"visits": found, "may": site_visits.can_record(session, user, zone),
                    "desk": user.role == "expert" or access.can_see(session, user, zone)}
    except ZonegeoError:
        return None
