"""The zone page's forms: submit or withdraw a layout draft, file a change report with its attachments.

Each is a POST with the form's CSRF token that redirects back to the zone page (Post/Redirect/Get); what
happened, or the Chinese reason it was refused, is shown there once (kept in the signed session). A refused
action stores nothing: it runs in a savepoint that is rolled back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from zonegeo.api.csrf import check_csrf
from zonegeo.api.deps import CalendarDep, LoggedIn, RulesDep, SessionDep, SettingsDep, Writer, require
from zonegeo.api.forms import FormText
from zonegeo.db.models import User
from zonegeo.domain.lifecycle import STATES
from zonegeo.errors import ZonegeoError
from zonegeo.services import access, changes, lifecycle

router = APIRouter(include_in_schema=False)
FLASH = "zone_desk"  # the session key of the message shown once on the zone page
FormFiles = Annotated[list[UploadFile | str] | None, File()]
_CHUNK = 1 << 20


def flash(request: Request, kind: str, text: str, *, anchor: str, code: str = "") -> None:
    request.session[FLASH] = {"kind": kind, "text": text, "anchor": anchor, "code": code}


def take_flash(request: Request) -> dict[str, str] | None:
    """The message left by the last form, shown once."""
    return request.session.pop(FLASH, None) if "session" in request.scope else None


def _back(code: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/zones/{code}#{anchor}", status_code=303)


def _version_action(request: Request, session: Session, code: str, number: int, action: str, csrf: str,
                    rules, calendar, user) -> RedirectResponse:
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)
    anchor = f"version-{number}"
    try:
        with session.begin_nested():
            changes.transition(session=session, code=code, number=number, action=action, by="", rules=rules,
                               calendar=calendar, user=user)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor=anchor, code=exc.code)
        return _back(code, anchor)
    flash(request, "ok", f"版本{number}{changes.NEXT_AFTER[action]}", anchor=anchor)
    return _back(code, anchor)


@router.post("/zones/{code}/versions/{number}/submit")
def submit_draft(code: str, number: int, request: Request, session: SessionDep, rules: RulesDep,
                 calendar: CalendarDep, user: Writer, csrf: FormText = "") -> RedirectResponse:
    return _version_action(request, session, code, number, "submit", csrf, rules, calendar, user)


@router.post("/zones/{code}/versions/{number}/withdraw")
def withdraw_draft(code: str, number: int, request: Request, session: SessionDep, rules: RulesDep,
                   calendar: CalendarDep, user: Writer, csrf: FormText = "",
                   confirm: FormText = "") -> RedirectResponse:
    if confirm != "yes":  # the confirmation step of the page: a form without it changes nothing
        check_csrf(request, csrf)
        flash(request, "error", f"撤回版本{number}须先确认", anchor=f"version-{number}", code="not_confirmed")
        return _back(code, f"version-{number}")
    return _version_action(request, session, code, number, "withdraw", csrf, rules, calendar, user)


Applicant = Annotated[User, Depends(require("applicant"))]


@router.post("/zones/{code}/submit-application")
def submit_application(code: str, request: Request, session: SessionDep, calendar: CalendarDep, user: Applicant,
                       csrf: FormText = "", confirm: FormText = "") -> RedirectResponse:
    """提交申报: the application (materials and the drafted layout) goes to the city bureau for its recommendation.
    The state machine checks the required materials; the confirmation box is the page's step before it."""
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)
    if confirm != "yes":
        flash(request, "error", "提交申报前请先勾选确认", anchor="submit-application", code="not_confirmed")
        return _back(code, "submit-application")
    try:
        with session.begin_nested():
            done = lifecycle.act(session=session, user=user, code=code, action="submit", on=dt.date.today(), data={},
                                 calendar=calendar)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="submit-application", code=exc.code)
        return _back(code, "submit-application")
    flash(request, "ok", f"申报已提交；当前状态：{STATES[done['state']]}，等待设区市知识产权局推荐",
          anchor="zone-facts")
    return _back(code, "zone-facts")


def _read(upload: UploadFile, max_bytes: int) -> tuple[str, bytes]:
    """A form file read up to one byte past the limit (add_attachment names the file that is too large)."""
    data = bytearray()
    while chunk := upload.file.read(_CHUNK):
        data += chunk
        if len(data) > max_bytes:
            break
    return (upload.filename or "").strip(), bytes(data)


@router.post("/zones/{code}/changes/{change_id}/report")
def file_change_report(code: str, change_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                       user: Writer, csrf: FormText = "", note: FormText = "", reported_by: FormText = "",
                       files: FormFiles = None) -> RedirectResponse:
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)
    anchor = f"change-{change_id}"
    limit = settings.max_attachment_mb * 1024 * 1024
    given = [_read(f, limit) for f in files or [] if not isinstance(f, str) and f.filename]
    try:
        with session.begin_nested():
            changes.file_report_with_attachments(
                session=session, code=code, change_id=change_id,
                reported_by=reported_by.strip() or user.display_name or user.username, reported_on=dt.date.today(),
                note=note, files=given, max_bytes=limit, user=user)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor=anchor, code=exc.code)
        return _back(code, anchor)
    flash(request, "ok", f"变更报告已登记（附件{len(given)}个）；省知识产权局和设区市知识产权局可在“变更事项”中查看",
          anchor=anchor)
    return _back(code, anchor)


@router.get("/zones/{code}/attachments/{number}")
def download_attachment(code: str, number: int, session: SessionDep, user: LoggedIn) -> Response:
    """An attachment (a change report's, an application material) as it was uploaded, to those who may see the
    zone; always a download, never shown inline. ``number`` is the attachment's id."""
    row = changes.attachment(session, access.visible_zone(session, user, code), number)
    name = quote(row.filename)
    return Response(row.content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                             "X-Content-Type-Options": "nosniff"})
