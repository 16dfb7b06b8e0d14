"""综合评价 on pages (issue 13): ``/evaluations`` (the province's rounds and the form that creates one; an expert's or
a city bureau's rounds), ``/evaluations/{n}`` (a round: its zones, sheets, totals and grades, the experts, the
exports), ``/evaluations/{n}/zones/{code}`` (one zone's indicator sheet: the scoring form of an expert or the city
bureau, the province's participation and confirmation forms) and the two .xlsx exports.

Every form is a CSRF-protected POST that redirects back (Post/Redirect/Get); the result or the Chinese refusal is
shown once. A refused action stores nothing (a savepoint rolled back). Confirming a grade needs the box ticked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import CalendarDep, Province, RulesDep, SessionDep, require
from zonegeo.api.forms import FormText
from zonegeo.api.routes.zone_desk import flash, take_flash
from zonegeo.db import repo
from zonegeo.db.models import User
from zonegeo.domain import evaluation as ev
from zonegeo.errors import InputError, ZonegeoError
from zonegeo.services import auth, evaluations
from zonegeo.services.xlsx import XLSX_TYPE

router = APIRouter(include_in_schema=False)
Evaluator = Annotated[User, Depends(require("city", "province", "expert"))]
Scorer = Annotated[User, Depends(require("expert", "city"))]
FormList = Annotated[list[str], Form()]


def _day(value: str) -> dt.date:
    if not value.strip():
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError("bad_date", f"日期“{value[:20]}”不正确，应为YYYY-MM-DD", {"field": "on"}) from None


def _render(request: Request, name: str, context: dict) -> HTMLResponse:
    base = {"flash": take_flash(request), "csrf": csrf_token(request), "dimensions": ev.DIMENSIONS,
            "grades": ev.GRADES, "participation": ev.PARTICIPATION}
    return request.app.state.templates.TemplateResponse(request, name, base | context)


@router.get("/evaluations", response_class=HTMLResponse)
def rounds_page(request: Request, session: SessionDep, rules: RulesDep, user: Evaluator) -> HTMLResponse:
    province = user.role == "province"
    zones = [z for z in repo.list_zones(session) if z.status in evaluations.EVALUABLE] if province else []
    experts = ([u for u in auth.list_users(session=session) if u["role"] == "expert" and u["active"]]
               if province else [])
    return _render(request, "evaluations.html", {
        "user": user, "rounds": evaluations.list_rounds(session=session, user=user), "may_create": province,
        "zones": zones, "experts": experts, "year": dt.date.today().year, "scheme": rules.evaluation,
    })


@router.post("/evaluations")
def create_round(request: Request, session: SessionDep, rules: RulesDep, user: Province, csrf: FormText = "",
                 year: FormText = "", title: FormText = "", zones: FormList = [],  # noqa: B006 (FastAPI copies it)
                 experts: FormList = []) -> RedirectResponse:  # noqa: B006
    check_csrf(request, csrf)
    try:
        with session.begin_nested():
            row = evaluations.create_round(session=session, user=user, year=year, rules=rules, title=title,
                                           zones=zones, experts=experts)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="create", code=exc.code)
        return RedirectResponse("/evaluations#create", status_code=303)
    flash(request, "ok", f"已创建“{row.title}”，共{len(set(zones))}个集聚区", anchor="sheets")
    return RedirectResponse(f"/evaluations/{row.id}", status_code=303)


@router.get("/evaluations/{number}", response_class=HTMLResponse)
def round_page(number: int, request: Request, session: SessionDep, user: Evaluator) -> HTMLResponse:
    view = evaluations.round_view(session=session, user=user, round_id=number)
    province = user.role == "province"
    experts = ([u for u in auth.list_users(session=session) if u["role"] == "expert" and u["active"]
                and u["username"] not in view["experts"]] if province else [])
    return _render(request, "evaluation.html", {"user": user, "round": view, "province": province,
                                                "free_experts": experts})


@router.post("/evaluations/{number}/experts")
def add_expert(number: int, request: Request, session: SessionDep, user: Province, csrf: FormText = "",
               expert: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    try:
        if not expert.strip():
            raise InputError("missing_input", "请选择评审专家", {"field": "expert"})
        with session.begin_nested():
            evaluations.add_expert(session=session, user=user, round_id=number, username=expert)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="experts", code=exc.code)
    else:
        flash(request, "ok", f"已指派评价专家：{expert.strip()}", anchor="experts")
    return RedirectResponse(f"/evaluations/{number}#experts", status_code=303)


@router.get("/evaluations/{number}/zones/{code}", response_class=HTMLResponse)
def sheet_page(number: int, code: str, request: Request, session: SessionDep, user: Evaluator) -> HTMLResponse:
    sheet = evaluations.zone_sheet(session=session, user=user, round_id=number, code=code)
    open_ = sheet["confirmed_grade"] is None
    may_score = (open_ and sheet["participation"] == "taking_part"
                 and ((user.role == "expert" and user.username in sheet["experts"])
                      or (user.role == "city" and sheet["city"] == user.city)))
    today = dt.date.today()
    return _render(request, "evaluation_sheet.html", {
        "user": user, "sheet": sheet, "may_score": may_score, "mine": sheet["scores"].get(user.username, {}),
        "province": user.role == "province" and open_, "today": today.isoformat(),
        "first_day": dt.date(sheet["year"], 1, 1).isoformat(),
        "last_day": min(today, dt.date(sheet["year"], 12, 31)).isoformat(),
    })


def _sheet_url(number: int, code: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/evaluations/{number}/zones/{quote(code)}#{anchor}", status_code=303)


@router.post("/evaluations/{number}/zones/{code}/scores")
def enter_scores(number: int, code: str, request: Request, session: SessionDep, user: Scorer, csrf: FormText = "",
                 institutions: FormText = "", functions: FormText = "", management: FormText = "",
                 policy: FormText = "", industry: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    given = {"institutions": institutions, "functions": functions, "management": management, "policy": policy,
             "industry": industry}
    try:
        with session.begin_nested():
            evaluations.enter_scores(session=session, user=user, round_id=number, code=code, scores=given)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="scores", code=exc.code)
    else:
        flash(request, "ok", "评分已保存", anchor="sheet")
    return _sheet_url(number, code, "sheet")


@router.post("/evaluations/{number}/zones/{code}/participation")
def set_participation(number: int, code: str, request: Request, session: SessionDep, user: Province,
                      csrf: FormText = "", participation: FormText = "", reason: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    try:
        with session.begin_nested():
            evaluations.set_participation(session=session, user=user, round_id=number, code=code,
                                          participation=participation, reason=reason)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="participation", code=exc.code)
    else:
        flash(request, "ok", f"已登记参评情况：{ev.PARTICIPATION[participation]}", anchor="sheet")
    return _sheet_url(number, code, "sheet")


@router.post("/evaluations/{number}/zones/{code}/confirm")
def confirm(number: int, code: str, request: Request, session: SessionDep, calendar: CalendarDep, rules: RulesDep,
            user: Province, csrf: FormText = "", on: FormText = "", confirm: FormText = "", override: FormText = "",
            override_reason: FormText = "", rectification_months: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    try:
        if confirm != "yes":
            raise InputError("not_confirmed", "确认评价结果将记入集聚区的评价档案（不合格即进入整改期），请先勾选确认后再提交",
                             {"field": "confirm"})
        with session.begin_nested():
            done = evaluations.confirm(session=session, user=user, round_id=number, code=code, on=_day(on),
                                       calendar=calendar, rules=rules, override=override,
                                       override_reason=override_reason, rectification_months=rectification_months)
    except ZonegeoError as exc:
        flash(request, "error", exc.message, anchor="confirm", code=exc.code)
    else:
        flash(request, "ok", f"已确认评价结果：{done['grade_label']}；集聚区当前状态：{done['state_label']}", anchor="sheet")
    return _sheet_url(number, code, "sheet")


def _xlsx(content: bytes, name: str, fallback: str) -> Response:
    return Response(content, media_type=XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename={fallback}; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


@router.get("/evaluations/{number}/excellent.xlsx")
def excellent_xlsx(number: int, session: SessionDep, user: Province) -> Response:
    content, name = evaluations.export(session=session, user=user, round_id=number, kind="excellent")
    return _xlsx(content, name, f"evaluation-{number}-excellent.xlsx")


@router.get("/evaluations/{number}/results.xlsx")
def results_xlsx(number: int, session: SessionDep, user: Province) -> Response:
    content, name = evaluations.export(session=session, user=user, round_id=number, kind="results")
    return _xlsx(content, name, f"evaluation-{number}-results.xlsx")
