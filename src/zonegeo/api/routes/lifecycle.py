"""The zone's life: applications, materials, expert opinions, lifecycle actions, worklists and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from zonegeo.api.deps import CalendarDep, Expert, LoggedIn, Province, SessionDep, SettingsDep, Writer
from zonegeo.api.schemas import ORJSONResponse
from zonegeo.services import access, audit, lifecycle

router = APIRouter(tags=["生命周期"])


class ApplicationCreate(BaseModel):
    code: str
    name: str
    city: str
    builder: str
    operator: str = ""


class ActionRequest(BaseModel):
    on: dt.date | None = None  # the day it happened; today when omitted
    data: dict[str, Any] = {}  # reason, result (pass/fail), grade (excellent/pass/fail), objections_unresolved …


class OpinionRequest(BaseModel):
    opinion: str
    recommend: bool
    site_visit: bool = False  # 现场答辩/实地考察


class ExpertAssign(BaseModel):
    expert: str


class AnnualReport(BaseModel):
    year: int
    on: dt.date | None = None


@router.post("/api/zones", status_code=201, response_class=ORJSONResponse, summary="创建申报（草稿）")
def create_application(body: ApplicationCreate, session: SessionDep, user: Writer) -> Response:
    zone = lifecycle.create_application(session=session, user=user, code=body.code, name=body.name, city=body.city,
                                        builder=body.builder, operator=body.operator)
    return ORJSONResponse({"code": zone.code, "state": zone.status}, status_code=201)


@router.post("/api/zones/{code}/attachments", status_code=201, response_class=ORJSONResponse,
             summary="上传申报材料（申报表、创建工作方案、真实性承诺书、推荐函、其他）")
def add_attachment(code: str, session: SessionDep, settings: SettingsDep, user: Writer,
                   file: Annotated[UploadFile, File()], kind: Annotated[str, Form()]) -> Response:
    limit = settings.max_attachment_mb * 1024 * 1024
    content = file.file.read(limit + 1)
    row = lifecycle.add_attachment(session=session, user=user, code=code, kind=kind, filename=file.filename or "file",
                                   content=content, max_bytes=limit)
    return ORJSONResponse(row, status_code=201)


@router.get("/api/zones/{code}/attachments", response_class=ORJSONResponse, summary="申报材料清单（含SHA-256）")
def list_attachments(code: str, session: SessionDep, user: LoggedIn) -> Response:
    zone = access.visible_zone(session, user, code)
    return ORJSONResponse({"data": [lifecycle.attachment_dict(a) for a in lifecycle.attachments(session, zone)]})


@router.post("/api/zones/{code}/experts", status_code=201, response_class=ORJSONResponse, summary="指派评审专家")
def assign_expert(code: str, body: ExpertAssign, session: SessionDep, user: Province) -> Response:
    lifecycle.assign_expert(session=session, user=user, code=code, expert=body.expert)
    return ORJSONResponse({"code": code, "expert": body.expert}, status_code=201)


@router.post("/api/zones/{code}/opinions", status_code=201, response_class=ORJSONResponse, summary="提交专家评审意见")
def add_opinion(code: str, body: OpinionRequest, session: SessionDep, user: Expert) -> Response:
    row = lifecycle.add_opinion(session=session, user=user, code=code, opinion=body.opinion, recommend=body.recommend,
                                site_visit=body.site_visit)
    return ORJSONResponse(row, status_code=201)


@router.post("/api/zones/{code}/lifecycle/{action}", response_class=ORJSONResponse,
             summary="生命周期操作：submit、return、recommend、start_review、start_notice、approve、reject、accept、"
                     "evaluate、close_rectification、revoke；不允许时返回409并说明当前状态和可执行的操作")
def act(code: str, action: str, body: ActionRequest, session: SessionDep, calendar: CalendarDep,
        user: Writer) -> Response:
    return ORJSONResponse(lifecycle.act(session=session, user=user, code=code, action=action,
                                        on=body.on or dt.date.today(), data=body.data, calendar=calendar))


@router.get("/api/zones/{code}/lifecycle", response_class=ORJSONResponse, summary="生命周期记录")
def history(code: str, session: SessionDep, user: LoggedIn) -> Response:
    return ORJSONResponse({"data": lifecycle.history(session=session, user=user, code=code)})


@router.post("/api/zones/{code}/annual-reports", status_code=201, response_class=ORJSONResponse,
             summary="登记设区市报送的年度总结报告（每年一季度末前）")
def annual_report(code: str, body: AnnualReport, session: SessionDep, user: Writer) -> Response:
    row = lifecycle.record_annual_report(session=session, user=user, code=code, year=body.year,
                                         on=body.on or dt.date.today())
    return ORJSONResponse(row, status_code=201)


@router.get("/api/worklist", response_class=ORJSONResponse, summary="待办事项（按截止日期由近到远，逾期标出）")
def worklist(session: SessionDep, user: LoggedIn, city: str | None = None) -> Response:
    rows = lifecycle.worklist(session=session, user=user, today=dt.date.today(), city=city)
    return ORJSONResponse({"data": rows, "count": len(rows)})


@router.get("/worklist", response_class=HTMLResponse, include_in_schema=False)
def worklist_page(request: Request, session: SessionDep, user: LoggedIn) -> HTMLResponse:
    rows = lifecycle.worklist(session=session, user=user, today=dt.date.today())
    return request.app.state.templates.TemplateResponse(request, "worklist.html", {"rows": rows, "user": user})


@router.get("/api/audit", response_class=ORJSONResponse, summary="审计日志（仅省知识产权局）")
def audit_log(session: SessionDep, user: Province, object: str | None = None, limit: int = 200) -> Response:
    return ORJSONResponse({"data": audit.entries(session=session, obj=object, limit=min(limit, 1000))})
