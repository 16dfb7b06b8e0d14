"""Printable documents as PDF: the eligibility report (the public too, for a published zone), the acceptance and
evaluation records and the change-report receipt (logged-in readers of the zone)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import object_session

from zonegeo.api.deps import LoggedIn, RulesDep, SessionDep, SettingsDep, Viewer
from zonegeo.errors import ZonegeoError
from zonegeo.pdf import service
from zonegeo.pdf.service import Pdf
from zonegeo.services.auth import User

router = APIRouter(tags=["打印文件"])
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "PDF文件"}}


def _response(pdf: Pdf) -> Response:
    name = quote(pdf.filename)
    return Response(pdf.content, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=document.pdf; filename*=UTF-8''{name}"})


@router.get("/zones/{code}/report.pdf", response_class=Response, responses=PDF,
            summary="申报条件核验报告PDF（含需人工审核事项和地图；公众只能获取已公布集聚区的）")
def report_pdf(code: str, session: SessionDep, rules: RulesDep, settings: SettingsDep, user: Viewer) -> Response:
    return _response(service.eligibility_report(session=session, user=user, code=code, rules=rules,
                                                font_setting=settings.pdf_font))


@router.get("/zones/{code}/acceptance.pdf", response_class=Response, responses=PDF, summary="验收记录PDF")
def acceptance_pdf(code: str, session: SessionDep, settings: SettingsDep, user: LoggedIn) -> Response:
    return _response(service.acceptance_record(session=session, user=user, code=code, font_setting=settings.pdf_font))


@router.get("/zones/{code}/evaluation.pdf", response_class=Response, responses=PDF,
            summary="绩效评价记录PDF（year：评价年度，省略时为最近一次评价的年度）")
def evaluation_pdf(code: str, session: SessionDep, settings: SettingsDep, user: LoggedIn,
                   year: Annotated[int | None, Query(ge=2000, le=2100, description="评价年度")] = None) -> Response:
    return _response(service.evaluation_record(session=session, user=user, code=code, year=year,
                                               font_setting=settings.pdf_font))


@router.get("/zones/{code}/changes/{change_id}/receipt.pdf", response_class=Response, responses=PDF,
            summary="变更事项报告回执PDF（省知识产权局出具回执后）")
def receipt_pdf(code: str, change_id: int, session: SessionDep, settings: SettingsDep, user: LoggedIn) -> Response:
    return _response(service.change_receipt(session=session, user=user, code=code, change_id=change_id,
                                            font_setting=settings.pdf_font))


def documents(user: Any, code: str) -> list[dict[str, str]]:
    """For the zone page (a template global): the lifecycle records a logged-in reader may print — the acceptance
    record once there is one, an evaluation record per year evaluated; nothing for the public."""
    session = object_session(user) if isinstance(user, User) else None
    if session is None:
        return []
    try:
        with session.begin_nested():
            events = service.printable_events(session=session, user=user, code=code)
    except ZonegeoError:
        return []
    path = f"/zones/{quote(code)}"
    out = [{"id": "acceptance-pdf", "href": f"{path}/acceptance.pdf", "label": "验收记录"}] if events["accept"] else []
    return out + [{"id": f"evaluation-pdf-{y}", "href": f"{path}/evaluation.pdf?year={y}", "label": f"{y}年度绩效评价记录"}
                  for y in events["evaluate"]]
