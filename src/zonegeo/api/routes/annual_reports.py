"""The city's annual summary report (总结报告): who has reported (province: every city × year; city: its own), the
report's form (sections and per-zone figures; save as draft, file, revise until received), the Excel template
(download prefilled, upload filled), the province's 接收; as pages and as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import Bureau, CalendarDep, Province, SessionDep, require
from zonegeo.api.forms import FormText
from zonegeo.api.schemas import (
    AnnualReportSave,
    AnnualReportsOverview,
    AnnualReportView,
    ORJSONResponse,
    documented,
)
from zonegeo.domain import annual_report as ar
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError, ZonegeoError
from zonegeo.services import annual_report_xlsx, annual_reports
from zonegeo.services.auth import User
from zonegeo.services.xlsx import XLSX_TYPE

router = APIRouter(tags=["年度总结报告"])
CityBureau = Annotated[User, Depends(require("city"))]  # the report is the city bureau's to file
FLASH = "annual_report_flash"
FIELD = "z.{code}.{key}"  # the form's name of one zone's figure


async def form_fields(request: Request) -> dict[str, str]:
    """The form's text fields (the figures' names depend on the city's zones); Starlette bounds their number."""
    form = await request.form(max_fields=2000)
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def _today() -> dt.date:
    return dt.date.today()


@router.get("/api/annual-reports", response_class=ORJSONResponse, responses=documented(AnnualReportsOverview),
            summary="年度总结报告报送情况：各设区市×年度（已报送、逾期报送、未报送、逾期未报送，逾期的工作日数）")
def overview_api(session: SessionDep, calendar: CalendarDep, user: Bureau) -> Response:
    return ORJSONResponse(annual_reports.overview(session=session, user=user, today=_today(), calendar=calendar))


@router.get("/api/annual-reports/{city}/{year}", response_class=ORJSONResponse, responses=documented(AnnualReportView),
            summary="设区市某年度的总结报告（发展情况、存在问题、意见建议）及各集聚区指标")
def view_api(city: str, year: int, session: SessionDep, calendar: CalendarDep, user: Bureau) -> Response:
    return ORJSONResponse(annual_reports.view(session=session, user=user, city=city, year=year, today=_today(),
                                              calendar=calendar))


@router.post("/api/annual-reports/{city}/{year}", response_class=ORJSONResponse, responses=documented(AnnualReportView),
             summary="设区市知识产权局保存（草稿）或报送（file=true）本市年度总结报告；省知识产权局接收前可修改")
def save_api(city: str, year: int, body: AnnualReportSave, session: SessionDep, calendar: CalendarDep,
             user: CityBureau) -> Response:
    sections = {k: getattr(body, k) for k in ar.SECTIONS if getattr(body, k) is not None}
    annual_reports.save(session=session, user=user, city=city, year=year, sections=sections,
                        indicators=body.indicators, file=body.file, on=body.on or _today(), via="api",
                        calendar=calendar, today=_today())
    return ORJSONResponse(annual_reports.view(session=session, user=user, city=city, year=year, today=_today(),
                                              calendar=calendar))


@router.post("/api/annual-reports/{city}/{year}/receive", response_class=ORJSONResponse,
             responses=documented(AnnualReportView), summary="省知识产权局接收已报送的年度总结报告（接收后不能再修改）")
def receive_api(city: str, year: int, session: SessionDep, calendar: CalendarDep, user: Province) -> Response:
    annual_reports.receive(session=session, user=user, city=city, year=year, on=_today())
    return ORJSONResponse(annual_reports.view(session=session, user=user, city=city, year=year, today=_today(),
                                              calendar=calendar))


@router.get("/annual-reports", response_class=HTMLResponse, include_in_schema=False)
def overview_page(request: Request, session: SessionDep, calendar: CalendarDep, user: Bureau) -> HTMLResponse:
    found = annual_reports.overview(session=session, user=user, today=_today(), calendar=calendar)
    return request.app.state.templates.TemplateResponse(request, "annual_report_list.html",
                                                        {"user": user, "overview": found, "today": _today()})


def _page(request: Request, session: Session, calendar: WorkCalendar, user: User, city: str, year: int, *,
          error: dict[str, Any] | None = None, typed: dict[str, str] | None = None,
          status_code: int = 200) -> HTMLResponse:
    found = annual_reports.view(session=session, user=user, city=city, year=year, today=_today(), calendar=calendar)
    bad: dict[str, str] = {}
    for e in (error or {}).get("detail", {}).get("errors", []):
        bad.setdefault(FIELD.format(code=e["zone"], key=e["field"]), e["message"])
    for e in (error or {}).get("detail", {}).get("sections", []):
        bad.setdefault(e["field"], e["message"])
    context = {"user": user, "view": found, "indicators": ar.INDICATORS, "sections": ar.SECTIONS,
               "chain_links": ar.CHAIN_LINKS, "section_max": ar.SECTION_MAX, "csrf": csrf_token(request),
               "error": error, "bad": bad, "typed": typed, "field": FIELD,
               "flash": request.session.pop(FLASH, None) if "session" in request.scope else None,
               "max_mb": annual_report_xlsx.MAX_BYTES // 1048576}
    return request.app.state.templates.TemplateResponse(request, "annual_report.html", context,
                                                        status_code=status_code)


@router.get("/annual-reports/{city}/{year}", response_class=HTMLResponse, include_in_schema=False)
def report_page(city: str, year: int, request: Request, session: SessionDep, calendar: CalendarDep,
                user: Bureau) -> HTMLResponse:
    return _page(request, session, calendar, user, city, year)


def _done(request: Request, city: str, year: int, text: str) -> RedirectResponse:
    request.session[FLASH] = {"kind": "ok", "text": text}
    return RedirectResponse(f"/annual-reports/{city}/{year}", status_code=303)


@router.post("/annual-reports/{city}/{year}", include_in_schema=False)
def save_form(city: str, year: int, request: Request, session: SessionDep, calendar: CalendarDep,
              user: CityBureau, fields: FormFields, csrf: FormText = "") -> Response:
    check_csrf(request, csrf)
    file = fields.get("action") == "file"
    sections = {k: fields.get(k, "") for k in ar.SECTIONS}
    figures: dict[str, dict[str, Any]] = {}
    for name, value in fields.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "z" and parts[2] in ar.BY_KEY:
            figures.setdefault(parts[1], {})[parts[2]] = value
    try:
        with session.begin_nested():
            report = annual_reports.save(session=session, user=user, city=city, year=year, sections=sections,
                                         indicators=figures, file=file, on=_today(), via="form", calendar=calendar,
                                         today=_today())
    except InputError as exc:
        if exc.code != "annual_report_invalid":
            raise
        return _page(request, session, calendar, user, city, year, error=exc.to_dict(), typed=fields,
                     status_code=422)
    if file:
        timing = ar.timeliness(year, report.filed_on, _today(), calendar)
        return _done(request, city, year, f"已报送{city}{year}年度总结报告（{timing.label}）")
    revised = "已修改已报送的报告" if report.state == "filed" else "已保存草稿（尚未报送）"
    return _done(request, city, year, revised)


@router.get("/annual-reports/{city}/{year}/template.xlsx", include_in_schema=False)
def template_download(city: str, year: int, session: SessionDep, calendar: CalendarDep, user: Bureau) -> Response:
    content = annual_reports.template(session=session, user=user, city=city, year=year, today=_today(),
                                      calendar=calendar)
    name = f"{city}{year}年度集聚区总结报告.xlsx"
    return Response(content, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f"attachment; filename=\"annual-report-{year}.xlsx\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


@router.post("/annual-reports/{city}/{year}/upload", include_in_schema=False)
def upload_form(city: str, year: int, request: Request, session: SessionDep, calendar: CalendarDep,
                user: CityBureau, file: Annotated[UploadFile, File()], csrf: FormText = "") -> Response:
    check_csrf(request, csrf)
    content = file.file.read(annual_report_xlsx.MAX_BYTES + 1)
    try:
        with session.begin_nested():
            annual_reports.upload(session=session, user=user, city=city, year=year, content=content,
                                  filename=file.filename or "", today=_today(), calendar=calendar)
    except InputError as exc:
        return _page(request, session, calendar, user, city, year, error=exc.to_dict(), status_code=422)
    return _done(request, city, year, f"已读入上传的Excel文件“{file.filename or ''}”，核对后请点“报送”")


@router.post("/annual-reports/{city}/{year}/receive", include_in_schema=False)
def receive_form(city: str, year: int, request: Request, session: SessionDep, user: Province,
                 csrf: FormText = "") -> Response:
    check_csrf(request, csrf)
    try:
        with session.begin_nested():
            annual_reports.receive(session=session, user=user, city=city, year=year, on=_today())
        text, kind = f"已接收{city}{year}年度总结报告", "ok"
    except ZonegeoError as exc:
        text, kind = exc.message, "error"
    request.session[FLASH] = {"kind": kind, "text": text}
    return RedirectResponse(f"/annual-reports/{city}/{year}", status_code=303)
