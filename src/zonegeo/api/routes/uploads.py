"""Uploading a zone's boundary files: the JSON API and the Chinese upload page."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import RulesDep, SessionDep, SettingsDep, Writer
from zonegeo.api.multipart import save_uploads
from zonegeo.api.schemas import ORJSONResponse, UploadResultPublic, documented
from zonegeo.errors import InputError
from zonegeo.services import access, uploads, zones
from zonegeo.services.auth import User

router = APIRouter(tags=["上传"])
FilesField = Annotated[list[UploadFile], File(description="一个或多个文件")]
RolesField = Annotated[list[str], Form(description="每个文件的用途：boundary、core、buildings、institutions")]
CrsField = Annotated[list[str] | None, Form(description="每个文件的坐标系（可空）：EPSG:4549、gcj02、bd09…")]
LayersField = Annotated[list[str] | None, Form(description="每个文件要读取的图层（可空）")]
EncodingsField = Annotated[list[str] | None, Form(description="每个文件属性文字的编码（可空，默认自动识别）：自动、UTF-8、GBK")]
CRS_CHOICES = [
    ("", "自动识别（文件自带或可判断的坐标系）"),
    ("EPSG:4490", "测量/GPS经纬度（CGCS2000或WGS84）"),
    ("gcj02", "高德/腾讯地图上取的经纬度（GCJ-02）"),
    ("bd09", "百度地图上取的经纬度（BD-09）"),
    ("EPSG:4548", "CGCS2000 3度带 中央经线117°E（无带号）"),
    ("EPSG:4549", "CGCS2000 3度带 中央经线120°E（无带号）"),
    ("EPSG:4550", "CGCS2000 3度带 中央经线123°E（无带号）"),
    ("EPSG:4527", "CGCS2000 3度带 第39带（带号）"),
    ("EPSG:4528", "CGCS2000 3度带 第40带（带号）"),
    ("EPSG:4529", "CGCS2000 3度带 第41带（带号）"),
]


def _process(session, rules, settings, code: str, files, roles, crs, layers, repair: bool,
             user: User, encodings: list[str] | None = None) -> uploads.UploadResult:
    access.writable_zone(session, user, code)
    limits, budget = uploads.limits_from(settings)
    uploads.sweep_upload_folders(settings.upload_temp_max_age_s)
    with tempfile.TemporaryDirectory(prefix=uploads.UPLOAD_PREFIX) as tmp:
        saved = save_uploads(files, roles, crs, layers, Path(tmp), limits.max_file_bytes, encodings)
        return uploads.upload_version(session=session, code=code, files=saved, rules=rules, uploaded_by=user.username,
                                      repair=repair, limits=limits, user=user, budget=budget)


@router.post("/api/zones/{code}/uploads", status_code=201, response_class=ORJSONResponse,
             responses=documented(UploadResultPublic, 201),
             summary="上传四至、核心区、建筑、机构文件，生成草稿版本和核验报告")
def upload_files(code: str, session: SessionDep, rules: RulesDep, settings: SettingsDep, user: Writer,
                 files: FilesField, roles: RolesField, crs: CrsField = None, layers: LayersField = None,
                 repair: Annotated[bool, Form(description="自动修复无效几何（会在报告中说明）")] = False,
                 encodings: EncodingsField = None) -> Any:
    result = _process(session, rules, settings, code, files, roles, crs or [], layers or [], repair, user,
                      encodings or [])
    return ORJSONResponse(result.to_dict(), status_code=201 if result.created else 200)


UPLOAD_ROLES = (("boundary", "四至范围"), ("core", "核心区"), ("buildings", "建筑（含层数）"),
                ("institutions", "服务机构和平台"))
# One file input and one coordinate-source choice per role, named by the role: a row left empty is dropped
# with its own role and choice, and never shifts another row's.
FormFile = Annotated[UploadFile | str | None, File()]
FormText = Annotated[str, Form()]


def _upload_context(request: Request, zone: Any, user: User, choices: dict[str, str] | None = None,
                    repair: bool = False) -> dict[str, Any]:
    return {"zone": zone, "crs_choices": CRS_CHOICES, "roles": UPLOAD_ROLES, "result": None, "error": None,
            "csrf": csrf_token(request), "user": user, "choices": choices or {}, "repair": repair}


@router.get("/zones/{code}/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_page(code: str, request: Request, session: SessionDep, rules: RulesDep, user: Writer,
                draft: int | None = None) -> HTMLResponse:
    access.writable_zone(session, user, code)
    zone = zones.get_zone(session=session, code=code)
    context = _upload_context(request, zone, user)
    if draft is not None:  # where a successful upload sends the browser (Post/Redirect/Get)
        context["result"] = uploads.stored_upload(session=session, code=code, number=draft, rules=rules)
    return request.app.state.templates.TemplateResponse(request, "upload.html", context)


@router.post("/zones/{code}/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_form(code: str, request: Request, session: SessionDep, rules: RulesDep, settings: SettingsDep,
                user: Writer, csrf: FormText = "", file_boundary: FormFile = None, file_core: FormFile = None,
                file_buildings: FormFile = None, file_institutions: FormFile = None, crs_boundary: FormText = "",
                crs_core: FormText = "", crs_buildings: FormText = "", crs_institutions: FormText = "",
                repair: Annotated[bool, Form()] = False) -> Response:
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)
    zone = zones.get_zone(session=session, code=code)
    given = {"boundary": (file_boundary, crs_boundary), "core": (file_core, crs_core),
             "buildings": (file_buildings, crs_buildings), "institutions": (file_institutions, crs_institutions)}
    # (FastAPI hands over Starlette's UploadFile, of which fastapi.UploadFile is a subclass: test for a filename.)
    rows = [(role, f, c) for role, (f, c) in given.items() if getattr(f, "filename", None)]
    context = _upload_context(request, zone, user, {role: c for role, (_, c) in given.items()}, repair)
    try:
        result = _process(session, rules, settings, code, [f for _, f, _ in rows], [r for r, _, _ in rows],
                          [c for _, _, c in rows], [], repair, user)
    except InputError as exc:  # raised before anything is written; the form keeps every choice
        context["error"] = exc.to_dict()
        return request.app.state.templates.TemplateResponse(request, "upload.html", context, status_code=422)
    # Post/Redirect/Get: a refresh of the page shows the draft again and never uploads a second time
    return RedirectResponse(f"/zones/{code}/upload?draft={result.version}", status_code=303)
