"""The city's and the province's decisions on pages (issue 13, 每个操作都在页面上):

- ``/zones/{code}/decide``: the zone's state, the step it is at, and one form per lifecycle action the state
  machine allows this user's role now (``domain/decisions.py`` says which fields each needs); the province also
  assigns experts there while the review is organised;
- ``/zones/{code}/versions/{n}/decide``: a submitted layout version beside the approved one, the diff, the
  draft's eligibility report and its tied register draft, with 批准 and 退回 (with a comment).

Every form is a CSRF-protected POST that redirects back (Post/Redirect/Get); the result, or the state machine's
Chinese reason for a refusal, is shown once on the page. A refused action stores nothing (a savepoint rolled
back). Irreversible decisions (批复、不予批准、取消称号、确认取消称号、批准版本) need the confirmation box ticked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import CalendarDep, LoggedIn, Province, RulesDep, SessionDep, SettingsDep, require
from zonegeo.api.forms import FormText
from zonegeo.api.routes.zone_desk import flash, take_flash
from zonegeo.db import repo
from zonegeo.db.models import User
from zonegeo.domain import decisions, journey
from zonegeo.domain import lifecycle as lifecycle_rules
from zonegeo.domain import versions as version_states
from zonegeo.domain.lifecycle import STATES
from zonegeo.errors import InputError, ZonegeoError
from zonegeo.services import access, auth, changes, integrity, lifecycle, register, uploads

router = APIRouter(include_in_schema=False)
Decider = Annotated[User, Depends(require("city", "province"))]
FormFile = Annotated[UploadFile | str | None, File()]


def _day(value: str) -> dt.date:
    if not value.strip():
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError("bad_date", f"日期“{value}”不正确，应为YYYY-MM-DD", {"field": "on", "value": value}) from None


def _read(upload: UploadFile | str | None, max_bytes: int) -> tuple[str, bytes] | None:
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    return upload.filename, upload.file.read(max_bytes + 1)


@router.get("/zones/{code}/decide", response_class=HTMLResponse)
def decide_page(code: str, request: Request, session: SessionDep, calendar: CalendarDep,
                user: LoggedIn) -> HTMLResponse:
    zone = access.visible_zone(session, user, code)
    today = dt.date.today()
    events = [{**h, "on": dt.date.fromisoformat(h["on"])}
              for h in lifecycle.history(session=session, user=user, code=code)]
    steps = journey.journey(zone.status, events, lifecycle.obligations(zone, today, events, calendar),
                            today=today, calendar=calendar)
    may = user.role in ("city", "province") and access.can_write(session, user, zone)
    forms = decisions.forms(zone.status, user.role) if may else []
    experts = [u for u in auth.list_users(session=session) if u["role"] == "expert" and u["active"]]
    assigned = [u for u in experts if access.relation(session, auth.get_user(session, u["username"]), zone) == "expert"]
    context = {
        "zone": zone, "user": user, "states": STATES, "journey": steps, "forms": forms, "today": today.isoformat(),
        "may": may, "flash": take_flash(request), "csrf": csrf_token(request),
        "experts": experts if may and decisions.may_assign_experts(zone.status, user.role) else [],
        "assigned": assigned,
        "proposal": lifecycle.revocation(session=session, user=user, code=code),
        "materials": [a.kind for a in lifecycle.attachments(session, zone)],
        # layout versions waiting for the province's approval, each with its own page
        "submitted": [v.number for v in repo.list_versions(session, zone) if v.state == "submitted"],
    }
    return request.app.state.templates.TemplateResponse(request, "decide.html", context)


def _back(code: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/zones/{code}/decide#{anchor}", status_code=303)


@router.post("/zones/{code}/decide/experts")
def assign_experts(code: str, request: Request, session: SessionDep, user: Province, csrf: FormText = "",
                   expert: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    zone = access.writable_zone(session, user, code)
    try:
        if not decisions.may_assign_experts(zone.status, user.role):
            raise InputError("not_reviewing", f"当前状态为“{STATES[zone.status]}”，不在组织专家评审阶段，不能指派评审专家",
                             {"state": zone.status})
        if not expert.strip():
            raise InputError("missing_input", "请选择评审专家", {"field": "expert"})
        with session.begin_nested():
            lifecycle.assign_expert(session=session, user=user, code=code, expert=expert.strip())
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="experts", code=exc.code)
        return _back(code, "experts")
    flash(request, "ok", f"已指派评审专家：{expert.strip()}", anchor="experts")
    return _back(code, "experts")


@router.post("/zones/{code}/decide/{action}")
def decide(code: str, action: str, request: Request, session: SessionDep, settings: SettingsDep,
           calendar: CalendarDep, rules: RulesDep, user: Decider, csrf: FormText = "", on: FormText = "",
           confirm: FormText = "", reason: FormText = "", text: FormText = "", outcome: FormText = "",
           decision: FormText = "", result: FormText = "", grade: FormText = "", rectification_months: FormText = "",
           period_reason: FormText = "", document_number: FormText = "", letter: FormFile = None) -> RedirectResponse:
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)  # 403 for a bureau that may not act on this zone
    anchor = f"action-{action}"
    given = {"reason": reason, "text": text, "outcome": outcome, "decision": decision, "result": result,
             "grade": grade, "rectification_months": rectification_months, "period_reason": period_reason,
             "document_number": document_number[:60]}  # 批复文号, shown in the 公告 (issue 14)
    data: dict[str, Any] = {k: v.strip() for k, v in given.items() if k in decisions.DATA_KEYS and v.strip()}
    try:
        if action in decisions.IRREVERSIBLE and confirm != "yes":
            raise InputError("not_confirmed", "此操作不可撤销，请先勾选确认后再提交", {"field": "confirm", "action": action})
        day = _day(on)
        with session.begin_nested():
            upload = _read(letter, settings.max_attachment_mb * 1024 * 1024) if action == "recommend" else None
            if upload is not None:
                lifecycle.add_attachment(session=session, user=user, code=code, kind="recommendation_letter",
                                         filename=upload[0], content=upload[1],
                                         max_bytes=settings.max_attachment_mb * 1024 * 1024)
            done = lifecycle.act(session=session, user=user, code=code, action=action, on=day, data=data,
                                 calendar=calendar, rules=rules)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor=anchor, code=exc.code)
        return _back(code, anchor)
    label = lifecycle_rules.TRANSITIONS[action].label
    note = f"（{done['note']}）" if done.get("note") else ""
    flash(request, "ok", f"已办理：{label}{note}；当前状态：{done['state_label']}", anchor="state")
    return _back(code, "state")


# ---- layout versions: 批准 / 退回 ----

@router.get("/zones/{code}/versions/{number}/decide", response_class=HTMLResponse)
def version_decide_page(code: str, number: int, request: Request, session: SessionDep, rules: RulesDep,
                        user: LoggedIn) -> HTMLResponse:
    zone = access.visible_zone(session, user, code)
    version = repo.get_version(session, zone, number)
    approved = repo.approved_version(session, zone)
    if approved is not None and approved.id == version.id:
        approved = None  # the approved version itself: nothing to compare with
    diff = changes.version_diff(session, zone, approved.number, number, rules).to_dict() if approved else None
    report = uploads.stored_upload(session=session, code=code, number=number, rules=rules).report
    drafts = [d for d in register.list_drafts(session=session, zone=zone) if d.get("version_number") == number]
    may = user.role == "province" and access.can_write(session, user, zone)
    context = {
        "zone": zone, "user": user, "states": STATES, "version": version,
        "version_state": version_states.STATES[version.state], "approved": approved,
        "diff": diff, "report": report, "register_draft": drafts[0] if drafts else None,
        "actions": version_states.allowed_actions(version.state) if may else [],
        "today": dt.date.today().isoformat(), "flash": take_flash(request), "csrf": csrf_token(request),
        # 跨集聚区核查: what approving this version would overlap (for the bureaus)
        "overlaps": (integrity.for_version(session, version.id, code)
                     if user.role in ("city", "province") and version.state != "approved" else []),
    }
    return request.app.state.templates.TemplateResponse(request, "version_decide.html", context)


@router.post("/zones/{code}/versions/{number}/decide/{action}")
def decide_version(code: str, number: int, action: str, request: Request, session: SessionDep, rules: RulesDep,
                   calendar: CalendarDep, user: Province, csrf: FormText = "", confirm: FormText = "",
                   note: FormText = "", effective_on: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)
    back = RedirectResponse(f"/zones/{code}/versions/{number}/decide#actions", status_code=303)
    try:
        if action not in ("approve", "return"):
            raise InputError("unknown_action", f"未知的操作“{action}”，应为：批准（approve）、退回（return）",
                             {"action": action, "allowed": ["approve", "return"]})
        if action == "approve" and confirm != "yes":
            raise InputError("not_confirmed", "批准后将替代现行空间布局，请先勾选确认后再提交", {"field": "confirm"})
        effective = _day(effective_on) if action == "approve" else None
        with session.begin_nested():
            changes.transition(session=session, code=code, number=number, action=action, by="", rules=rules,
                               calendar=calendar, effective_on=effective, user=user, note=note)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="actions", code=exc.code)
        return back
    text = (f"版本{number}已批准，自{effective}起生效" if action == "approve"
            else f"版本{number}已退回建设主体修改；意见已记入版本记录")
    flash(request, "ok", text, anchor="actions")
    return back
