"""The zone's life: applications, materials, expert opinions, lifecycle actions, worklists and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import CalendarDep, Expert, LoggedIn, Province, RulesDep, SessionDep, SettingsDep, Writer, require
from zonegeo.api.forms import FormText
from zonegeo.api.schemas import (
    ActionRequest,
    ActionResult,
    AnnualReportCreate,
    AnnualReportPublic,
    AttachmentPublic,
    AttachmentsPublic,
    AuditEntries,
    ExpertAssign,
    ExpertAssigned,
    LifecycleEventsPublic,
    OpinionCreated,
    OpinionRequest,
    ORJSONResponse,
    ReviewOverview,
    ReviewRecordPublic,
    ReviewRequest,
    RevocationPublic,
    WorklistPublic,
    ZoneCreate,
    ZoneCreated,
    documented,
)
from zonegeo.domain.lifecycle import STATES
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.errors import ConflictError, InputError
from zonegeo.services import access, audit, lifecycle, reviews
from zonegeo.services import worklist as worklists

router = APIRouter(tags=["生命周期"])
Reviewer = Annotated[Any, Depends(require(*access.REVIEW_WRITE_ROLES))]  # assigned experts: checked by the service
ReviewReader = Annotated[Any, Depends(require(*access.REVIEW_READ_ROLES))]


@router.post("/api/zones", status_code=201, response_class=ORJSONResponse,
             responses=documented(ZoneCreated, 201), summary="创建申报（草稿）")
def create_application(body: ZoneCreate, session: SessionDep, user: Writer) -> Response:
    sides = body.four_sides.model_dump() if body.four_sides is not None else None
    zone = lifecycle.create_application(session=session, user=user, code=body.code, name=body.name, city=body.city,
                                        builder=body.builder, operator=body.operator, four_sides=sides,
                                        require_four_sides=sides is not None)
    return ORJSONResponse({"code": zone.code, "state": zone.status}, status_code=201)


@router.post("/api/zones/{code}/attachments", status_code=201, response_class=ORJSONResponse,
             responses=documented(AttachmentPublic, 201),
             summary="上传申报材料（申报表、创建工作方案、真实性承诺书、推荐函、其他）")
def add_attachment(code: str, session: SessionDep, settings: SettingsDep, user: Writer,
                   file: Annotated[UploadFile, File()], kind: FormText) -> Response:
    limit = settings.max_attachment_mb * 1024 * 1024
    content = file.file.read(limit + 1)
    row = lifecycle.add_attachment(session=session, user=user, code=code, kind=kind, filename=file.filename or "file",
                                   content=content, max_bytes=limit)
    return ORJSONResponse(row, status_code=201)


@router.get("/api/zones/{code}/attachments", response_class=ORJSONResponse,
            responses=documented(AttachmentsPublic), summary="申报材料清单（含SHA-256）")
def list_attachments(code: str, session: SessionDep, user: LoggedIn) -> Response:
    zone = access.visible_zone(session, user, code)
    return ORJSONResponse({"data": [lifecycle.attachment_dict(a) for a in lifecycle.attachments(session, zone)]})


@router.post("/api/zones/{code}/experts", status_code=201, response_class=ORJSONResponse,
             responses=documented(ExpertAssigned, 201), summary="指派评审专家")
def assign_expert(code: str, body: ExpertAssign, session: SessionDep, user: Province) -> Response:
    lifecycle.assign_expert(session=session, user=user, code=code, expert=body.expert)
    return ORJSONResponse({"code": code, "expert": body.expert}, status_code=201)


@router.post("/api/zones/{code}/opinions", status_code=201, response_class=ORJSONResponse,
             responses=documented(OpinionCreated, 201), summary="提交专家评审意见")
def add_opinion(code: str, body: OpinionRequest, session: SessionDep, user: Expert) -> Response:
    row = lifecycle.add_opinion(session=session, user=user, code=code, opinion=body.opinion, recommend=body.recommend,
                                site_visit=body.site_visit)
    return ORJSONResponse(row, status_code=201)


@router.post("/api/zones/{code}/lifecycle/{action}", response_class=ORJSONResponse,
             responses=documented(ActionResult),
             summary="生命周期操作：submit、return、recommend、start_review、start_notice、approve、reject、accept、"
                     "evaluate、close_rectification、propose_revocation、confirm_revocation、decline_revocation、"
                     "revoke、objection、resolve_objection、decide_objection；不允许时返回409并说明当前状态和可执行的操作")
def act(code: str, action: str, body: ActionRequest, session: SessionDep, calendar: CalendarDep, rules: RulesDep,
        user: Writer) -> Response:
    return ORJSONResponse(lifecycle.act(session=session, user=user, code=code, action=action,
                                        on=body.on or dt.date.today(), data=body.data, calendar=calendar, rules=rules))


@router.get("/api/zones/{code}/revocation", response_class=ORJSONResponse,
            responses=documented(RevocationPublic), summary="待确认的拟取消称号（理由、日期）")
def pending_revocation(code: str, session: SessionDep, user: LoggedIn) -> Response:
    return ORJSONResponse({"code": code, "proposal": lifecycle.revocation(session=session, user=user, code=code)})


@router.post("/api/zones/{code}/reviews", status_code=201, response_class=ORJSONResponse,
             responses=documented(ReviewRecordPublic, 201),
             summary="记录一项需人工审核事项的结果（符合、不符合、需补充）：指派的评审专家或省知识产权局")
def record_review(code: str, body: ReviewRequest, session: SessionDep, rules: RulesDep, user: Reviewer) -> Response:
    row = reviews.record(session=session, user=user, code=code, item=body.item, result=body.result, note=body.note,
                         rules=rules)
    return ORJSONResponse(row, status_code=201)


@router.get("/api/zones/{code}/reviews", response_class=ORJSONResponse,
            responses=documented(ReviewOverview),
            summary="需人工审核事项及其记录（审核人、日期、结果、说明）")
def list_reviews(code: str, session: SessionDep, rules: RulesDep, user: ReviewReader) -> Response:
    return ORJSONResponse(reviews.overview(session=session, user=user, code=code, rules=rules))


@router.get("/api/zones/{code}/lifecycle", response_class=ORJSONResponse,
            responses=documented(LifecycleEventsPublic), summary="生命周期记录")
def history(code: str, session: SessionDep, user: LoggedIn) -> Response:
    return ORJSONResponse({"data": lifecycle.history(session=session, user=user, code=code, excused=False)})


@router.post("/api/zones/{code}/annual-reports", status_code=201, response_class=ORJSONResponse,
             responses=documented(AnnualReportPublic, 201),
             summary="登记本集聚区已纳入所在设区市的年度总结报告（旧接口，按设区市报告办理：报告缺失时以on日期登记为已报送、"
                     "不含正文；正文和各集聚区指标请用 /api/annual-reports/{city}/{year} 或“年度总结报告”页面）")
def annual_report(code: str, body: AnnualReportCreate, session: SessionDep, calendar: CalendarDep, user: Writer) -> Response:
    row = lifecycle.record_annual_report(session=session, user=user, code=code, year=body.year,
                                         on=body.on or dt.date.today(), calendar=calendar)
    return ORJSONResponse(row, status_code=201)


CityFilter = Annotated[str | None, Query(description="设区市（省知识产权局可选；设区市知识产权局只看本市）")]
StateFilter = Annotated[str | None, Query(description="集聚区的生命周期状态，如 submitted、under_review")]


def _worklist(session, calendar, user, city: str | None, state: str | None, overdue: bool) -> dict[str, Any]:
    rows = worklists.worklist(session=session, user=user, today=dt.date.today(), city=city, state=state,
                              overdue=overdue, calendar=calendar)
    city, state = worklists.check_filters(user, city, state)
    return {"data": rows, "count": len(rows), "counts": worklists.counts(rows),
            "filters": {"city": city, "state": state, "overdue": overdue}}


@router.get("/api/worklist", response_class=ORJSONResponse,
            responses=documented(WorklistPublic),
            summary="待办事项：等待本人办理的全部事项（按截止日期由近到远，逾期标出，含剩余工作日和办理页面）")
def worklist(session: SessionDep, calendar: CalendarDep, user: LoggedIn, city: CityFilter = None,
             state: StateFilter = None,
             overdue: Annotated[bool, Query(description="只看逾期")] = False) -> Response:
    return ORJSONResponse(_worklist(session, calendar, user, city, state, overdue))


@router.get("/worklist", response_class=HTMLResponse, include_in_schema=False)
def worklist_page(request: Request, session: SessionDep, calendar: CalendarDep, user: LoggedIn,
                  city: str | None = None, state: str | None = None, overdue: str = "") -> HTMLResponse:
    only_overdue = overdue.strip().lower() in ("1", "true", "on", "yes")
    context: dict[str, Any] = {"user": user, "cities": JIANGSU_CITIES, "states": STATES, "error": None,
                               "filters": {"city": (city or "").strip(), "state": (state or "").strip(),
                                           "overdue": only_overdue}}
    status_code = 200
    try:
        found = _worklist(session, calendar, user, city, state, only_overdue)
        context |= {"rows": found["data"], "counts": found["counts"]}
    except InputError as exc:
        context |= {"rows": [], "counts": [], "error": exc.to_dict()}
        status_code = 422
    return request.app.state.templates.TemplateResponse(request, "worklist.html", context, status_code=status_code)


@router.get("/api/audit", response_class=ORJSONResponse, response_model=AuditEntries,
            responses=documented(AuditEntries), summary="审计日志（仅省知识产权局）：按集聚区、操作人、操作和日期筛选，分页")
def audit_log(session: SessionDep, user: Province,
              object: Annotated[str | None, Query(description="对象前缀，如 zone/320105-01/version")] = None,
              zone: Annotated[str | None, Query(description="集聚区代码")] = None,
              actor: Annotated[str | None, Query(alias="user", description="操作人用户名")] = None,
              action: Annotated[str | None, Query(description="操作代码，如 version_submit、login")] = None,
              date_from: Annotated[dt.date | None, Query(description="起始日期（北京时间，含）")] = None,
              date_to: Annotated[dt.date | None, Query(description="截止日期（北京时间，含）")] = None,
              limit: Annotated[int, Query(ge=1, le=1000, description="条数（1–1000）")] = 200,
              offset: Annotated[int, Query(ge=0, description="跳过的条数（翻页）")] = 0) -> Response:
    filters = audit.Filters(zone=(zone or "").strip(), user=(actor or "").strip(), action=(action or "").strip(),
                            date_from=date_from, date_to=date_to, obj=object or "")
    rows, total = audit.search(session=session, filters=filters, zones=None, limit=limit, offset=offset)
    return ORJSONResponse({"data": rows, "total": total, "limit": limit, "offset": offset})


def _review_page(request: Request, session, rules, user, code: str, *, message: str = "", error: dict | None = None,
                 status_code: int = 200) -> HTMLResponse:
    overview = reviews.overview(session=session, user=user, code=code, rules=rules)
    zone = access.visible_zone(session, user, code)
    context = {"zone": zone, "state_label": STATES.get(zone.status, zone.status), "overview": overview,
               "proposal": lifecycle.revocation(session=session, user=user, code=code), "user": user,
               **access.review_rights(session, user, zone),
               "results": reviews.RESULTS, "csrf": csrf_token(request), "message": message, "error": error}
    return request.app.state.templates.TemplateResponse(request, "review.html", context, status_code=status_code)


@router.get("/zones/{code}/review", response_class=HTMLResponse, include_in_schema=False)
def review_page(code: str, request: Request, session: SessionDep, rules: RulesDep,
                user: ReviewReader) -> HTMLResponse:
    return _review_page(request, session, rules, user, code)


@router.post("/zones/{code}/review", response_class=HTMLResponse, include_in_schema=False)
def review_form(code: str, request: Request, session: SessionDep, rules: RulesDep, user: Reviewer,
                item: FormText, result: FormText, note: FormText = "",
                csrf: FormText = "") -> HTMLResponse:
    check_csrf(request, csrf)
    try:
        row = reviews.record(session=session, user=user, code=code, item=item, result=result, note=note, rules=rules)
    except (InputError, ConflictError) as exc:  # raised before anything is written
        return _review_page(request, session, rules, user, code, error=exc.to_dict(),
                            status_code=422 if isinstance(exc, InputError) else 409)
    return _review_page(request, session, rules, user, code, status_code=201,
                        message=f"已记录：{row['title']} — {row['result_label']}（{row['reviewer']}，{row['date']}）")


@router.post("/zones/{code}/review/revocation", response_class=HTMLResponse, include_in_schema=False)
def revocation_form(code: str, request: Request, session: SessionDep, rules: RulesDep, calendar: CalendarDep,
                    user: Province, decision: FormText, note: FormText = "",
                    csrf: FormText = "") -> HTMLResponse:
    check_csrf(request, csrf)
    actions = {"confirm": "confirm_revocation", "decline": "decline_revocation"}
    try:
        if decision not in actions:
            raise InputError("bad_decision", "请选择确认取消称号或不予取消称号", {"field": "decision", "allowed": list(actions)})
        done = lifecycle.act(session=session, user=user, code=code, action=actions[decision], on=dt.date.today(),
                             data={"decision": note} if note.strip() else {}, calendar=calendar, rules=rules)
    except (InputError, ConflictError) as exc:
        return _review_page(request, session, rules, user, code, error=exc.to_dict(),
                            status_code=422 if isinstance(exc, InputError) else 409)
    text = "已确认取消称号" if decision == "confirm" else "已决定不予取消称号"
    return _review_page(request, session, rules, user, code, message=f"{text}；当前状态：{done['state_label']}")
