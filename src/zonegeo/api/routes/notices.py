"""公示 and 公告 on the public site (issue 14):

- ``/notices``: the zones under notice; ``/notices/{code}``: one 公示 (the zone, its report and map as the public may
  see them, the period in working days with the days left) and the public objection form (CSRF-protected with the
  anonymous session's token, bounded, rate-limited per address), answered with a receipt number;
- ``/notices/{code}/objections``: the province's list of the public objections, each handled there through the
  lifecycle's ``resolve_objection``;
- ``/announcements`` and ``/announcements/{code}``: 批复, 验收, 绩效评价 and 取消称号 of the published zones."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import CalendarDep, Province, RulesDep, SessionDep, SettingsDep, Viewer
from zonegeo.api.forms import FormText
from zonegeo.api.routes.zone_desk import flash, take_flash
from zonegeo.domain.lifecycle import OBJECTION_OUTCOMES, STATES
from zonegeo.errors import InputError, ZonegeoError
from zonegeo.services import access, announcements, notices

router = APIRouter(include_in_schema=False)
FormFile = Annotated[UploadFile | str | None, File()]
RECEIPT_KEY = "notice_receipt"  # the one-time receipt shown after a filing (in the signed session)
STATUS = {"objection_rate_limited": 429}


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/notices", response_class=HTMLResponse)
def notice_list(request: Request, session: SessionDep, calendar: CalendarDep, user: Viewer) -> HTMLResponse:
    today = dt.date.today()
    rows = [{"zone": z, "period": notices.period(z, today, calendar)} for z in notices.in_notice(session)]
    return request.app.state.templates.TemplateResponse(request, "notice_list.html", {"rows": rows, "user": user})


def _notice_page(request: Request, session: Any, rules: Any, calendar: Any, settings: Any, user: Any, code: str, *,
                 error: ZonegeoError | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    zone = notices.noticed_zone(session, code)
    today = dt.date.today()
    version = notices.noticed_version(session, zone)
    context = {
        "zone": zone, "user": user, "period": notices.period(zone, today, calendar), "version": version,
        "report": notices.notice_report(session, zone, version, rules) if version is not None else None,
        "csrf": csrf_token(request), "error": error, "form": form or {},
        "receipt": request.session.pop(RECEIPT_KEY, None) if error is None else None,
        "limits": {"name": notices.MAX_NAME, "contact": notices.MAX_CONTACT, "text": notices.MAX_TEXT,
                   "attachment_kb": settings.public_objection_max_kb, "types": notices.ATTACHMENT_LABEL,
                   "per_hour": settings.public_objections_per_hour},
    }
    status = 200 if error is None else STATUS.get(error.code, 409 if error.code.startswith("notice_") else 422)
    headers = {"Retry-After": str(error.detail["retry_after_s"])} if error is not None and status == 429 else None
    return request.app.state.templates.TemplateResponse(request, "notice.html", context, status_code=status,
                                                        headers=headers)


@router.get("/notices/{code}", response_class=HTMLResponse)
def notice_page(code: str, request: Request, session: SessionDep, rules: RulesDep, calendar: CalendarDep,
                settings: SettingsDep, user: Viewer) -> HTMLResponse:
    return _notice_page(request, session, rules, calendar, settings, user, code)


@router.get("/notices/{code}/map", response_class=HTMLResponse)
def notice_map(code: str, session: SessionDep, rules: RulesDep, settings: SettingsDep, user: Viewer) -> HTMLResponse:
    zone = notices.noticed_zone(session, code)
    version = notices.noticed_version(session, zone)
    if version is None:
        raise InputError("notice_has_no_layout", f"集聚区“{code}”公示中没有可公开的空间布局", {"code": code})
    return HTMLResponse(notices.notice_map_html(session, zone, version, rules, tiles=settings.tiles,
                                                tianditu_key=settings.tianditu_key))


def _read(upload: UploadFile | str | None, max_bytes: int) -> tuple[str, bytes] | None:
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    return upload.filename, upload.file.read(max_bytes + 1)  # one byte more tells "too big" without reading it all


@router.post("/notices/{code}/objections", response_class=HTMLResponse)
def file_objection(code: str, request: Request, session: SessionDep, rules: RulesDep, calendar: CalendarDep,
                   settings: SettingsDep, user: Viewer, csrf: FormText = "", name: FormText = "",
                   contact: FormText = "", text: FormText = "", attachment: FormFile = None) -> Response:
    check_csrf(request, csrf)
    max_bytes = settings.public_objection_max_kb * 1024
    try:
        with session.begin_nested():  # a refusal stores nothing, the address's count included
            done = notices.file_objection(session=session, code=code, name=name, contact=contact, text_=text,
                                          attachment=_read(attachment, max_bytes), address=_address(request),
                                          today=dt.date.today(), calendar=calendar, max_attachment_bytes=max_bytes,
                                          per_hour=settings.public_objections_per_hour)
    except ZonegeoError as exc:
        if exc.code == "notice_not_found":
            raise
        form = {"name": name[:notices.MAX_NAME * 2], "contact": contact[:notices.MAX_CONTACT * 2],
                "text": text[:notices.MAX_TEXT * 2]}
        return _notice_page(request, session, rules, calendar, settings, user, code, error=exc, form=form)
    request.session[RECEIPT_KEY] = done["receipt"]
    return RedirectResponse(f"/notices/{quote(code)}#receipt", status_code=303)


# ---- the province ----

@router.get("/notices/{code}/objections", response_class=HTMLResponse)
def objections_page(code: str, request: Request, session: SessionDep, calendar: CalendarDep,
                    user: Province) -> HTMLResponse:
    rows = notices.objections(session=session, user=user, code=code)
    zone = access.visible_zone(session, user, code)
    context = {"zone": zone, "user": user, "rows": rows, "states": STATES, "outcomes": OBJECTION_OUTCOMES,
               "period": notices.period(zone, dt.date.today(), calendar), "csrf": csrf_token(request),
               "flash": take_flash(request), "today": dt.date.today().isoformat()}
    return request.app.state.templates.TemplateResponse(request, "notice_objections.html", context)


@router.get("/notices/{code}/objections/{receipt}/attachment")
def objection_attachment(code: str, receipt: str, session: SessionDep, user: Province) -> Response:
    name, media, content = notices.attachment(session=session, user=user, code=code, receipt=receipt)
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/notices/{code}/objections/{receipt}/resolve")
def resolve_objection(code: str, receipt: str, request: Request, session: SessionDep, calendar: CalendarDep,
                      rules: RulesDep, user: Province, csrf: FormText = "", outcome: FormText = "",
                      decision: FormText = "", on: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    back = RedirectResponse(f"/notices/{quote(code)}/objections#{quote(receipt)}", status_code=303)
    try:
        day = dt.date.fromisoformat(on.strip()) if on.strip() else dt.date.today()
    except ValueError:
        flash(request, "error", f"日期“{on}”不正确，应为YYYY-MM-DD", anchor=receipt, code="bad_date")
        return back
    try:
        with session.begin_nested():
            done = notices.resolve(session=session, user=user, code=code, receipt=receipt, outcome=outcome.strip(),
                            decision=decision.strip(), on=day, calendar=calendar, rules=rules)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor=receipt, code=exc.code)
        return back
    if "linked_event" in done:  # handled on the decide page before: its decision stands
        flash(request, "ok", f"异议{receipt}已在办理页处理，现已关联该处理结果", anchor=receipt)
    else:
        flash(request, "ok", f"异议{receipt}已处理（{OBJECTION_OUTCOMES.get(outcome.strip(), outcome)}）", anchor=receipt)
    return back


# ---- 公告 ----

@router.get("/announcements", response_class=HTMLResponse)
def announcement_list(request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    rows = announcements.announcements(session=session)
    return request.app.state.templates.TemplateResponse(request, "announcements.html",
                                                        {"rows": rows, "user": user, "zone": None})


@router.get("/announcements/{code}", response_class=HTMLResponse)
def zone_announcements(code: str, request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    zone, rows = announcements.zone_announcements(session=session, code=code)
    return request.app.state.templates.TemplateResponse(
        request, "announcements.html", {"rows": rows, "user": user, "zone": zone, "states": STATES})
