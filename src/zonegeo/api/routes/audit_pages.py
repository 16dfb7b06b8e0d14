"""The audit trail on a page: /audit (the province: everything; others: the entries of the zones they may see),
/zones/{code}/audit (one zone, for those who may see it) and /audit.xlsx (the filtered entries as a workbook)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from zonegeo.api.deps import LoggedIn, SessionDep
from zonegeo.db import repo
from zonegeo.domain import audit_labels
from zonegeo.errors import InputError
from zonegeo.services import access, audit
from zonegeo.services.auth import User
from zonegeo.services.xlsx import XLSX_TYPE

router = APIRouter(include_in_schema=False)

PAGE = 50  # entries per page unless ?limit= says otherwise (at most audit.MAX_PAGE)


def parse_date(value: str | None, field: str) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError("bad_date", f"日期“{text}”格式不正确，应为YYYY-MM-DD", {"field": field, "value": text}) from None


def parse_int(value: str | None, field: str, default: int, low: int, high: int) -> int:
    text = (value or "").strip()
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        raise InputError("bad_number", f"“{text}”不是整数", {"field": field, "value": text}) from None
    if not low <= number <= high:
        raise InputError("out_of_range", f"{field}应在{low}到{high}之间", {"field": field, "value": number})
    return number


def scope(session: Any, user: User) -> list[str] | None:
    """The zone codes whose entries ``user`` may read; None: all entries (the province)."""
    if user.role == "province":
        return None
    return [z.code for z in access.visible_zones(session, user)]


def _filters(request: Request, zone: str | None = None) -> tuple[audit.Filters, dict[str, str]]:
    q = request.query_params
    raw = {k: (q.get(k) or "").strip() for k in ("zone", "user", "action", "date_from", "date_to")}
    if zone is not None:
        raw["zone"] = zone
    filters = audit.Filters(zone=raw["zone"], user=raw["user"], action=raw["action"],
                            date_from=parse_date(raw["date_from"], "date_from"),
                            date_to=parse_date(raw["date_to"], "date_to"))
    return filters.check(), raw


def _page(request: Request, session: Any, user: User, zone_code: str | None) -> HTMLResponse:
    zones = scope(session, user)
    zone_names = {z.code: z.name for z in (repo.list_zones(session) if zones is None
                                          else access.visible_zones(session, user))}
    raw = {k: (request.query_params.get(k) or "").strip() for k in ("zone", "user", "action", "date_from", "date_to")}
    if zone_code is not None:
        raw["zone"] = zone_code
    context: dict[str, Any] = {"user": user, "zone_code": zone_code, "zone_names": zone_names,
                               "actions": audit_labels.all_actions(), "raw": raw, "rows": [], "total": 0,
                               "error": None, "limit": PAGE, "offset": 0, "max_export": audit.MAX_EXPORT,
                               "prev_url": None, "next_url": None, "export_url": None}
    status_code = 200
    try:
        filters, raw = _filters(request, zone_code)
        if filters.zone and filters.zone not in zone_names:  # a zone the reader may not see: nothing, not an error
            zones = []
        limit = parse_int(request.query_params.get("limit"), "limit", PAGE, 1, audit.MAX_PAGE)
        offset = parse_int(request.query_params.get("offset"), "offset", 0, 0, 10**9)
        found, total = audit.search(session=session, filters=filters, zones=zones, limit=limit, offset=offset)
        kept = {k: v for k, v in raw.items() if v and not (zone_code and k == "zone")}
        base = f"/zones/{quote(zone_code)}/audit" if zone_code else "/audit"

        def link(at: int) -> str:
            return base + "?" + urlencode({**kept, "limit": limit, "offset": at})

        context |= {"rows": [audit.readable(e) for e in found], "total": total, "limit": limit, "offset": offset,
                    "prev_url": link(max(0, offset - limit)) if offset > 0 else None,
                    "next_url": link(offset + limit) if offset + limit < total else None,
                    "export_url": "/audit.xlsx?" + urlencode({**kept, **({"zone": zone_code} if zone_code else {})})}
    except InputError as exc:
        context["error"] = exc.to_dict()
        status_code = 422
    return request.app.state.templates.TemplateResponse(request, "audit.html", context, status_code=status_code)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, user: LoggedIn) -> HTMLResponse:
    return _page(request, session, user, None)


@router.get("/zones/{code}/audit", response_class=HTMLResponse)
def zone_audit_page(code: str, request: Request, session: SessionDep, user: LoggedIn) -> HTMLResponse:
    access.visible_zone(session, user, code)  # 404 for a zone the reader may not see
    return _page(request, session, user, code)


@router.get("/audit.xlsx")
def audit_export(request: Request, session: SessionDep, user: LoggedIn) -> Response:
    filters, _ = _filters(request)
    zones = scope(session, user)
    if filters.zone and zones is not None and filters.zone not in zones:
        zones = []
    content, rows, total = audit.export_xlsx(session=session, filters=filters, zones=zones)
    name = quote(f"审计日志-{dt.date.today().isoformat()}.xlsx")
    return Response(content, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f"attachment; filename=audit.xlsx; filename*=UTF-8''{name}",
                             "X-Audit-Rows": str(rows), "X-Audit-Total": str(total)})
