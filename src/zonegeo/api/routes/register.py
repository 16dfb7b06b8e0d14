"""Institution register drafts (机构名录草稿): the JSON API and the review page.

An institutions upload makes a register draft; the zone's institutions change only when the province approves
it. The page shows its rows (how each was located, inside or outside), its effect on the eligibility report next
to the approved register's, and the actions the user may take now: submit or withdraw (the applicant), approve or
return with a comment (the province). Each form is a POST with the CSRF token that redirects back to the page
(Post/Redirect/Get); what happened, or the Chinese reason it was refused, is shown there once. A refused action
stores nothing (it runs in a savepoint that is rolled back)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import LoggedIn, Province, RulesDep, SessionDep, Writer
from zonegeo.api.forms import FormText
from zonegeo.api.schemas import RegisterActionRequest, RegisterActionResult, RegisterDraftDetail, RegisterDraftsPublic
from zonegeo.domain import register as states
from zonegeo.errors import ZonegeoError
from zonegeo.services import access
from zonegeo.services import register as registers
from zonegeo.services.auth import User

router = APIRouter(tags=["机构名录"])
FLASH = "register_desk"  # the session key of the message shown once on the register page

DONE = {"submit": "已提交，等待省知识产权局审核；批准后机构名录生效，公开地图和机构数量随之更新",
        "approve": "已批准：机构名录已生效，集聚区的服务机构按此更新",
        "return": "已退回，退回意见已告知申报单位",
        "withdraw": "已撤回。撤回的草稿保留在审计记录中，不会被批准；可重新上传机构名录"}


@router.get("/api/zones/{code}/register-drafts", response_model=RegisterDraftsPublic, summary="机构名录草稿列表")
def list_register_drafts(code: str, session: SessionDep, user: LoggedIn) -> dict[str, Any]:
    zone = access.visible_zone(session, user, code)
    rows = registers.list_drafts(session=session, zone=zone)
    return {"data": rows, "count": len(rows)}


@router.get("/api/zones/{code}/register-drafts/{number}", response_model=RegisterDraftDetail,
            summary="机构名录草稿：各机构及其定位方式、核验报告（与已批准名录对比）")
def get_register_draft(code: str, number: int, session: SessionDep, rules: RulesDep, user: LoggedIn) -> dict[str, Any]:
    zone = access.visible_zone(session, user, code)
    return registers.detail(session=session, zone=zone, number=number, rules=rules)


def _act(session: Session, user: User, code: str, number: int, action: str, note: str) -> dict[str, Any]:
    access.writable_zone(session, user, code)
    return registers.transition(session=session, code=code, number=number, action=action, user=user, note=note)


@router.post("/api/zones/{code}/register-drafts/{number}/submit", response_model=RegisterActionResult,
             summary="提交机构名录草稿")
def submit_register(code: str, number: int, body: RegisterActionRequest, session: SessionDep,
                    user: Writer) -> dict[str, Any]:
    return _act(session, user, code, number, "submit", body.note)


@router.post("/api/zones/{code}/register-drafts/{number}/withdraw", response_model=RegisterActionResult,
             summary="撤回机构名录草稿（草稿或已退回的）")
def withdraw_register(code: str, number: int, body: RegisterActionRequest, session: SessionDep,
                      user: Writer) -> dict[str, Any]:
    return _act(session, user, code, number, "withdraw", body.note)


@router.post("/api/zones/{code}/register-drafts/{number}/approve", response_model=RegisterActionResult,
             summary="批准机构名录：集聚区的服务机构按此更新，原批准名录被替代")
def approve_register(code: str, number: int, body: RegisterActionRequest, session: SessionDep,
                     user: Province) -> dict[str, Any]:
    return _act(session, user, code, number, "approve", body.note)


@router.post("/api/zones/{code}/register-drafts/{number}/return", response_model=RegisterActionResult,
             summary="退回机构名录（须填写退回意见）")
def return_register(code: str, number: int, body: RegisterActionRequest, session: SessionDep,
                    user: Province) -> dict[str, Any]:
    return _act(session, user, code, number, "return", body.note)


# ---- rows placed on the map or confirmed (an uploaded row with no coordinates and no 楼栋 of the layout) ----

class RegisterRowPlace(BaseModel):
    lon: float = Field(description="经度（CGCS2000/WGS84）")
    lat: float = Field(description="纬度（CGCS2000/WGS84）")


class RegisterRowResult(BaseModel):
    code: str
    register_draft: int
    row: int  # the row's place in the register, 1-based
    name: str
    lon: float | None
    lat: float | None
    located_by: str
    located_label: str
    needs_confirmation: bool
    unlocated: list[int]  # rows still without a point
    unconfirmed: list[int]  # rows geocoded and not yet confirmed


def _place(session: Session, user: User, code: str, number: int, row: int, lon: Any, lat: Any) -> dict[str, Any]:
    access.writable_zone(session, user, code)
    return registers.place_row(session=session, code=code, number=number, row=row, lon=lon, lat=lat, user=user)


def _confirm(session: Session, user: User, code: str, number: int, row: int) -> dict[str, Any]:
    access.writable_zone(session, user, code)
    return registers.confirm_row(session=session, code=code, number=number, row=row, user=user)


@router.post("/api/zones/{code}/register-drafts/{number}/rows/{row}/place", response_model=RegisterRowResult,
             summary="在地图上放置机构名录草稿中的一家机构（定位方式：在地图上放置）")
def place_register_row(code: str, number: int, row: int, body: RegisterRowPlace, session: SessionDep,
                       user: Writer) -> dict[str, Any]:
    return _place(session, user, code, number, row, body.lon, body.lat)


@router.post("/api/zones/{code}/register-drafts/{number}/rows/{row}/confirm", response_model=RegisterRowResult,
             summary="确认按地址定位（天地图）的机构位置")
def confirm_register_row(code: str, number: int, row: int, session: SessionDep, user: Writer) -> dict[str, Any]:
    return _confirm(session, user, code, number, row)


def _row_form(request: Request, session: Session, code: str, number: int, csrf: str, work: Any,
              done: str) -> RedirectResponse:
    check_csrf(request, csrf)
    try:
        with session.begin_nested():
            result = work()
    except ZonegeoError as exc:
        request.session[FLASH] = {"kind": "error", "text": exc.message, "code": exc.code}
    else:
        left = len(result["unlocated"]) + len(result["unconfirmed"])
        more = f"；还有{left}家机构待定位或确认" if left else "；全部机构均已定位，可以提交"
        request.session[FLASH] = {"kind": "ok", "text": f"第{result['row']}家机构（{result['name']}）{done}{more}",
                                  "code": result["located_by"]}
    return RedirectResponse(_page_url(code, number) + "#placing", status_code=303)


@router.post("/zones/{code}/register-drafts/{number}/rows/{row}/place", include_in_schema=False)
def place_register_row_form(code: str, number: int, row: int, request: Request, session: SessionDep, user: Writer,
                            csrf: FormText = "", lon: FormText = "", lat: FormText = "") -> RedirectResponse:
    return _row_form(request, session, code, number, csrf,
                     lambda: _place(session, user, code, number, row, lon.strip(), lat.strip()), "已在地图上放置")


@router.post("/zones/{code}/register-drafts/{number}/rows/{row}/confirm", include_in_schema=False)
def confirm_register_row_form(code: str, number: int, row: int, request: Request, session: SessionDep,
                              user: Writer, csrf: FormText = "") -> RedirectResponse:
    return _row_form(request, session, code, number, csrf, lambda: _confirm(session, user, code, number, row),
                     "的地址定位结果已确认")


# ---- the page ---------------------------------------------------------------------------------------------

def _page_url(code: str, number: int) -> str:
    return f"/zones/{code}/register-drafts/{number}"


@router.get("/zones/{code}/register-drafts/{number}", response_class=HTMLResponse, include_in_schema=False)
def register_page(code: str, number: int, request: Request, session: SessionDep, rules: RulesDep,
                  user: LoggedIn) -> HTMLResponse:
    zone = access.visible_zone(session, user, code)
    draft = registers.detail(session=session, zone=zone, number=number, rules=rules)
    can_write = access.can_write(session, user, zone)
    offered = [a for a in draft["allowed_actions"]
               if (a in states.APPLICANT_ACTIONS and can_write) or (a in states.PROVINCE_ACTIONS and user.role == "province")]
    flash = request.session.pop(FLASH, None)
    return request.app.state.templates.TemplateResponse(
        request, "register_draft.html",
        {"user": user, "draft": draft, "actions": offered, "labels": states.ACTION_LABELS, "flash": flash,
         "csrf": csrf_token(request), "located_labels": states.LOCATED_BY,
         "can_place": can_write and draft["editable"],
         # 跨集聚区核查: the report's warning on credit codes another zone's register already holds
         "claimed": [w for w in draft["report"]["warnings"] if w["code"] == "credit_code_in_other_zone"]})


def _form_action(request: Request, session: Session, user: User, code: str, number: int, action: str, csrf: str,
                 note: str) -> RedirectResponse:
    check_csrf(request, csrf)
    try:
        with session.begin_nested():
            done = _act(session, user, code, number, action, note)
    except ZonegeoError as exc:
        request.session[FLASH] = {"kind": "error", "text": exc.message, "code": exc.code}
    else:
        request.session[FLASH] = {"kind": "ok", "text": f"机构名录草稿{number}{DONE[action]}", "code": done["state"]}
    return RedirectResponse(_page_url(code, number), status_code=303)


@router.post("/zones/{code}/register-drafts/{number}/submit", include_in_schema=False)
def submit_register_form(code: str, number: int, request: Request, session: SessionDep, user: Writer,
                         csrf: FormText = "") -> RedirectResponse:
    return _form_action(request, session, user, code, number, "submit", csrf, "")


@router.post("/zones/{code}/register-drafts/{number}/withdraw", include_in_schema=False)
def withdraw_register_form(code: str, number: int, request: Request, session: SessionDep, user: Writer,
                           csrf: FormText = "") -> RedirectResponse:
    return _form_action(request, session, user, code, number, "withdraw", csrf, "")


@router.post("/zones/{code}/register-drafts/{number}/approve", include_in_schema=False)
def approve_register_form(code: str, number: int, request: Request, session: SessionDep, user: Province,
                          csrf: FormText = "", note: FormText = "") -> RedirectResponse:
    return _form_action(request, session, user, code, number, "approve", csrf, note)


@router.post("/zones/{code}/register-drafts/{number}/return", include_in_schema=False)
def return_register_form(code: str, number: int, request: Request, session: SessionDep, user: Province,
                         csrf: FormText = "", note: FormText = "") -> RedirectResponse:
    return _form_action(request, session, user, code, number, "return", csrf, note)
