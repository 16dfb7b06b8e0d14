"""The applicant's first step in the browser (issue 12): a new application (/apply), its materials checklist with
uploads (/zones/{code}/materials), and the templates the project gives (界址点坐标表, 机构名录, 示例集聚区)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import LoggedIn, SessionDep, SettingsDep, Viewer, Writer
from zonegeo.api.forms import FormText
from zonegeo.domain.four_sides import DIRECTIONS, MAX_WORDS
from zonegeo.domain.lifecycle import APPLICANT_MATERIALS, MATERIALS, STATES
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.errors import ConflictError, InputError, PermissionDeniedError, ZonegeoError
from zonegeo.services import access, four_sides, lifecycle, templates_kit
from zonegeo.services.auth import User

router = APIRouter(include_in_schema=False)
FormFile = Annotated[UploadFile | str | None, File()]

# The 申报材料 of the regulation (第二章), in its order, with who provides each: the applicant's three are 必填
# before 提交 (domain/lifecycle.py APPLICANT_MATERIALS); the 推荐函 comes from the city bureau.
MATERIAL_ORDER = ("application_form", "work_plan", "commitment", "recommendation_letter", "other")
PROVIDED_BY = {"recommendation_letter": "设区市知识产权局上传"}
TEMPLATE_LINKS = [(slug, name) for slug, (name, _media, _make) in templates_kit.TEMPLATES.items()]


def _status(exc: ZonegeoError) -> int:
    return {ConflictError: 409, PermissionDeniedError: 403}.get(type(exc), 422)


_LABELS = {"集聚区编号": "code", "名称": "name", "建设主体": "builder", "运营管理单位": "operator"}


def _invalid(error: dict[str, Any] | None) -> set[str]:
    """The form fields an error is about (marked aria-invalid)."""
    if error is None:
        return set()
    detail = error.get("detail", {})
    if error["code"] in ("bad_zone_code", "zone_exists"):
        return {"code"}
    if error["code"] in ("unknown_city", "other_city"):
        return {"city"}
    if error["code"] == "missing_field":
        return {_LABELS[m] for m in detail.get("missing", ()) if m in _LABELS}
    if error["code"] == "field_too_long":
        return {_LABELS[m] for m in detail.get("fields", ()) if m in _LABELS}
    if error["code"] == "bad_four_sides":
        return set(detail.get("empty", ())) | set(detail.get("too_long", ())) or set(DIRECTIONS)
    return set()


def _apply_page(request: Request, user: User, *, values: dict[str, str] | None = None,
                error: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    cities = [user.city] if user.role == "city" and user.city else list(JIANGSU_CITIES)
    context = {"user": user, "csrf": csrf_token(request), "values": values or {}, "error": error, "cities": cities,
               "invalid": _invalid(error),
               "directions": list(DIRECTIONS.items()), "max_words": MAX_WORDS, "templates": TEMPLATE_LINKS}
    return request.app.state.templates.TemplateResponse(request, "apply.html", context, status_code=status_code)


@router.get("/apply", response_class=HTMLResponse)
def apply_page(request: Request, user: Writer) -> HTMLResponse:
    return _apply_page(request, user)


@router.post("/apply", response_class=HTMLResponse)
def apply_form(request: Request, session: SessionDep, user: Writer, csrf: FormText = "", code: FormText = "",
               name: FormText = "", city: FormText = "", builder: FormText = "", operator: FormText = "",
               east: FormText = "", south: FormText = "", west: FormText = "", north: FormText = "") -> Response:
    check_csrf(request, csrf)
    values = {"code": code, "name": name, "city": city, "builder": builder, "operator": operator,
              "east": east, "south": south, "west": west, "north": north}
    try:
        zone = lifecycle.create_application(session=session, user=user, code=code, name=name, city=city,
                                            builder=builder, operator=operator, require_four_sides=True,
                                            four_sides={"east": east, "south": south, "west": west, "north": north})
    except (InputError, ConflictError, PermissionDeniedError) as exc:  # raised before anything is written
        return _apply_page(request, user, values=values, error=exc.to_dict(), status_code=_status(exc))
    return RedirectResponse(f"/zones/{quote(zone.code)}/materials?created=1", status_code=303)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1048576:.1f} MB"


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(dt.timezone(dt.timedelta(hours=8)))  # 北京时间
    return local.strftime("%Y-%m-%d %H:%M")


def _checklist(session: Any, zone: Any, user: User) -> list[dict[str, Any]]:
    rows = lifecycle.attachments(session, zone)
    may_write = access.can_write(session, user, zone)
    out = []
    for kind in MATERIAL_ORDER:
        files = [{"id": a.id, "filename": a.filename, "size": a.size, "size_text": _size(a.size), "sha256": a.sha256,
                  "uploaded_by": a.uploaded_by, "uploaded_at": _when(a.created_at)} for a in rows if a.kind == kind]
        required = kind in APPLICANT_MATERIALS
        can_upload = may_write and not (kind == "recommendation_letter" and user.role == "applicant")
        out.append({"kind": kind, "label": MATERIALS[kind], "required": required, "files": files,
                    "missing": required and not files, "provided_by": PROVIDED_BY.get(kind, ""),
                    "can_upload": can_upload})
    return out


def _materials_page(request: Request, session: Any, settings: Any, user: User, code: str, *, message: str = "",
                    error: dict[str, Any] | None = None, kind: str = "", status_code: int = 200) -> HTMLResponse:
    zone = access.visible_zone(session, user, code)
    checklist = _checklist(session, zone, user)
    context = {"user": user, "zone": zone, "state_label": STATES.get(zone.status, zone.status), "csrf": csrf_token(request),
               "checklist": checklist, "missing": [m["label"] for m in checklist if m["missing"]],
               "can_write": access.can_write(session, user, zone), "message": message, "error": error,
               "error_kind": kind, "max_mb": settings.max_attachment_mb, "templates": TEMPLATE_LINKS,
               "four_sides": four_sides.for_zone(session, zone)}
    return request.app.state.templates.TemplateResponse(request, "materials.html", context, status_code=status_code)


@router.get("/zones/{code}/materials", response_class=HTMLResponse)
def materials_page(code: str, request: Request, session: SessionDep, settings: SettingsDep, user: LoggedIn,
                   created: int = 0, added: int = 0) -> HTMLResponse:
    message = ""
    if created:
        message = "申报已创建（草稿）。请上传申报材料，再上传四至范围等空间布局文件。"
    if added:
        zone = access.visible_zone(session, user, code)
        row = next((a for a in lifecycle.attachments(session, zone) if a.id == added), None)
        if row is not None:
            message = f"已上传：{MATERIALS[row.kind]} — {row.filename}（SHA-256 {row.sha256[:12]}…）"
    return _materials_page(request, session, settings, user, code, message=message)


@router.post("/zones/{code}/materials", response_class=HTMLResponse)
def materials_form(code: str, request: Request, session: SessionDep, settings: SettingsDep, user: Writer,
                   csrf: FormText = "", kind: FormText = "", file: FormFile = None) -> Response:
    check_csrf(request, csrf)
    limit = settings.max_attachment_mb * 1024 * 1024
    try:
        if isinstance(file, str | None) or not file.filename:  # no file chosen: an empty part or none
            raise InputError("no_file", f"请选择要上传的文件（{MATERIALS.get(kind, '申报材料')}）", {"kind": kind})
        content = file.file.read(limit + 1)
        row = lifecycle.add_attachment(session=session, user=user, code=code, kind=kind, filename=file.filename,
                                       content=content, max_bytes=limit)
    except (InputError, ConflictError, PermissionDeniedError) as exc:  # raised before anything is written
        return _materials_page(request, session, settings, user, code, error=exc.to_dict(), kind=kind,
                               status_code=_status(exc))
    return RedirectResponse(f"/zones/{quote(code)}/materials?added={row['id']}#material-{kind}", status_code=303)


def _download(slug: str) -> Response:
    name, media, content = templates_kit.template(slug)
    disposition = f"attachment; filename=\"{slug}\"; filename*=UTF-8''{quote(name)}"  # RFC 6266 / RFC 5987
    return Response(content, media_type=media, headers={"Content-Disposition": disposition,
                                                        "Cache-Control": "public, max-age=3600"})


@router.get("/templates/boundary-points.xlsx")
def boundary_points_template(user: Viewer) -> Response:
    """界址点坐标表.xlsx: 点号, X坐标(m), Y坐标(m) under a title and a 坐标系 line."""
    return _download("boundary-points.xlsx")


@router.get("/templates/institutions.xlsx")
def institutions_template(user: Viewer) -> Response:
    """机构名录.xlsx: the columns the institution reader accepts, with example rows."""
    return _download("institutions.xlsx")


@router.get("/templates/demo-zone.zip")
def demo_zone_template(user: Viewer) -> Response:
    """示例集聚区.zip: the demo zone's folder."""
    return _download("demo-zone.zip")
