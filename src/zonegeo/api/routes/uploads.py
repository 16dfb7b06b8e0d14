"""Uploading a zone's boundary files: the JSON API and the Chinese upload page."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import shapely
import shapely.geometry
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import RulesDep, SessionDep, SettingsDep, Writer
from zonegeo.api.forms import FormText
from zonegeo.api.multipart import FormRow, save_form_rows, save_uploads
from zonegeo.api.schemas import ORJSONResponse, UploadResultPublic, documented
from zonegeo.db import repo
from zonegeo.domain import offset_hint
from zonegeo.errors import InputError
from zonegeo.ingest import crs_resolve
from zonegeo.ingest.budget import read_roles_bounded
from zonegeo.ingest.role_files import ReadOptions
from zonegeo.services import access, changes, eligibility, integrity, uploads, zones
from zonegeo.services import geocoder as geocoding
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
                                      repair=repair, limits=limits, user=user, budget=budget,
                                      geocoder=geocoding.from_settings(settings))


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
ROLE_NAMES = {"boundary": "四至范围", "core": "核心区", "buildings": "建筑", "institutions": "机构"}
ENCODING_CHOICES = [("", "自动识别"), ("UTF-8", "UTF-8"), ("GBK", "GBK（GB18030）")]
# What a lon/lat file's coordinates may be: the page asks rather than assume (README, "Coordinate sources").
LONLAT_CHOICES = [("EPSG:4490", "WGS84/CGCS2000（GPS、测量、天地图）"), ("gcj02", "高德/腾讯地图 GCJ-02"),
                  ("bd09", "百度地图 BD-09")]
# One row per role, its inputs named by the role: a row left empty is dropped with its own role and choices,
# and never shifts another row's. A row takes several files (the loose parts of one Shapefile).
FormFiles = Annotated[list[UploadFile | str] | None, File()]


def _upload_context(request: Request, zone: Any, user: User, choices: dict[str, str] | None = None,
                    repair: bool = False, encodings: dict[str, str] | None = None) -> dict[str, Any]:
    return {"zone": zone, "crs_choices": CRS_CHOICES, "roles": UPLOAD_ROLES, "role_names": ROLE_NAMES,
            "encoding_choices": ENCODING_CHOICES, "lonlat_choices": LONLAT_CHOICES, "result": None, "error": None,
            "csrf": csrf_token(request), "user": user, "choices": choices or {}, "encodings": encodings or {},
            "repair": repair, "asked": {}, "outline": None, "located": [], "hint": None, "diff": None}


def _mapping(geom: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def _outline(reads: dict[str, Any]) -> dict[str, Any]:
    """The layers as read (lon/lat taken as they are) for the small map that asks for the coordinate source."""
    features = []
    for role, read in reads.items():
        if role in ("boundary", "core"):
            features.append(_mapping(read.value, role=role, name=ROLE_NAMES[role]))
        elif role == "buildings":
            features += [_mapping(b.footprint, role=role, name=b.name) for b in list(read.value)[:2000]]
        elif role == "institutions":
            features += [_mapping(shapely.Point(i.lon, i.lat), role=role, name=i.name) for i in list(read.value)[:2000]
                         if i.located_by == "coordinates"]
    return {"type": "FeatureCollection", "features": features}


def _lonlat_question(saved: list[uploads.UploadedFile], folder: Path, limits: Any, budget: Any,
                     repair: bool) -> tuple[dict[str, str], dict[str, Any]] | None:
    """On the web page nothing in lon/lat is stored under an assumed source: the files whose 坐标来源 is 自动
    are read first, and those that turn out to be lon/lat make the page ask. ({role: file}, outline) or None.
    A file that cannot be read is left to the upload itself, which reports every finding."""
    auto = {f.role for f in saved if not f.crs}
    if not auto:
        return None
    wanted = auto | ({"buildings"} if "institutions" in auto else set())  # institutions may be placed at 楼栋
    items = [(f.role, f.path, ReadOptions(crs=f.crs, name=f.name, limits=limits, encoding=f.encoding, repair=repair))
             for f in saved if f.role in wanted]
    try:
        reads = read_roles_bounded(items, budget, folder)
    except InputError:
        # an institutions list placed at the 楼栋 of an earlier layout cannot be read alone: ask about the rest
        layout = [item for item in items if item[0] != "institutions"]
        if not layout or len(layout) == len(items) or not auto - {"institutions"}:
            return None
        try:
            reads = read_roles_bounded(layout, budget, folder)
        except InputError:
            return None
    asked = {f.role: f.name for f in saved if f.role in auto and f.role in reads
             and crs_resolve.is_lonlat(reads[f.role].input.get("crs"))}
    return (asked, _outline(reads)) if asked else None


def _with_roles(error: dict[str, Any], roles: dict[str, str]) -> dict[str, Any]:
    """Each finding names its file's role (the row it was chosen in), for the error card."""
    detail = error.get("detail") or {}
    for f in [detail, *(detail.get("findings") or [])]:
        if isinstance(f, dict) and not f.get("role") and roles.get(f.get("file", "")):
            f["role"] = roles[f["file"]]
    return error


def _located(session: Any, code: str, error: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The findings that carry a lon/lat position, for the small maps of the error card, and the zone's newest
    outline drawn around them (None before the first layout)."""
    findings = error.get("detail", {}).get("findings") or [error.get("detail", {}) | {"code": error.get("code"),
                                                                                       "message": error.get("message")}]
    located = []
    for k, f in enumerate(findings):
        point = f.get("coordinate")
        if (isinstance(point, list) and len(point) == 2 and all(isinstance(v, int | float) for v in point)
                and -180 <= point[0] <= 180 and -90 <= point[1] <= 90):
            located.append({"index": k, "point": point, "file": f.get("file"), "role": f.get("role")})
    if not located:
        return [], None
    current = _current_outline(session, code)
    return located, ({"type": "FeatureCollection", "features": current} if current else None)


def _current_outline(session: Any, code: str) -> list[dict[str, Any]]:
    """The zone's newest 四至 (none before the first layout): drawn beside an upload so an offset is seen."""
    zone = repo.get_zone(session, code)
    newest = repo.latest_version(session, zone)
    if newest is None:
        return []
    return [_mapping(repo.to_domain_plan(newest, []).boundary, role="current",
                     name=f"现有四至范围（版本{newest.number}）")]


def _preview(session: Any, code: str, number: int, rules: Any) -> tuple[Any, dict[str, Any] | None]:
    """For a draft's page: the GCJ-02 hint, and the comparison with the approved version (None if none)."""
    zone = repo.get_zone(session, code)
    version = repo.get_version(session, zone, number)
    plan = repo.to_domain_plan(version, eligibility.institutions_for_version(session, zone, version))
    hint = offset_hint.gcj02_hint(plan.boundary, [(i.lon, i.lat) for i in plan.institutions
                                                  if i.located_by == "coordinates"],
                                  [b.footprint for b in plan.buildings])
    approved = repo.approved_version(session, zone)
    diff = None
    if approved is not None and approved.number != number:
        diff = {"from": approved.number, "to": number,
                "metrics": changes.version_diff(session, zone, approved.number, number, rules).to_dict()}
    return hint, diff


@router.get("/zones/{code}/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_page(code: str, request: Request, session: SessionDep, rules: RulesDep, user: Writer,
                draft: int | None = None) -> HTMLResponse:
    access.writable_zone(session, user, code)
    zone = zones.get_zone(session=session, code=code)
    # ?crs_institutions=gcj02 (the GCJ-02 hint's button): the form with that row's choice made
    known = {value for value, _ in CRS_CHOICES}
    presets = {role: request.query_params.get(f"crs_{role}", "") for role, _ in UPLOAD_ROLES}
    context = _upload_context(request, zone, user, {r: v for r, v in presets.items() if v in known})
    if draft is not None:  # where a successful upload sends the browser (Post/Redirect/Get)
        context["result"] = uploads.stored_upload(session=session, code=code, number=draft, rules=rules)
        context["hint"], context["diff"] = _preview(session, code, draft, rules)
        # 跨集聚区核查: other zones' approved boundaries this draft overlaps
        version = repo.get_version(session, repo.get_zone(session, code), draft)
        context["overlaps"] = integrity.for_version(session, version.id, code)
    return request.app.state.templates.TemplateResponse(request, "upload.html", context)


@router.post("/zones/{code}/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_form(code: str, request: Request, session: SessionDep, rules: RulesDep, settings: SettingsDep,
                user: Writer, csrf: FormText = "", file_boundary: FormFiles = None, file_core: FormFiles = None,
                file_buildings: FormFiles = None, file_institutions: FormFiles = None, crs_boundary: FormText = "",
                crs_core: FormText = "", crs_buildings: FormText = "", crs_institutions: FormText = "",
                enc_boundary: FormText = "", enc_core: FormText = "", enc_buildings: FormText = "",
                enc_institutions: FormText = "", repair: Annotated[bool, Form()] = False) -> Response:
    check_csrf(request, csrf)
    access.writable_zone(session, user, code)
    zone = zones.get_zone(session=session, code=code)
    given = {"boundary": (file_boundary, crs_boundary, enc_boundary), "core": (file_core, crs_core, enc_core),
             "buildings": (file_buildings, crs_buildings, enc_buildings),
             "institutions": (file_institutions, crs_institutions, enc_institutions)}
    # (FastAPI hands over Starlette's UploadFile, of which fastapi.UploadFile is a subclass: test for a filename;
    # an empty file input arrives as an empty string or a file without a name.)
    rows = [FormRow(role, [f for f in (fs or []) if getattr(f, "filename", None)], c.strip(), e.strip())
            for role, (fs, c, e) in given.items()]
    context = _upload_context(request, zone, user, {role: c for role, (_, c, _) in given.items()}, repair,
                              {role: e for role, (_, _, e) in given.items()})
    limits, budget = uploads.limits_from(settings)
    uploads.sweep_upload_folders(settings.upload_temp_max_age_s)
    saved: list[uploads.UploadedFile] = []
    try:
        with tempfile.TemporaryDirectory(prefix=uploads.UPLOAD_PREFIX) as tmp:
            saved = save_form_rows([r for r in rows if r.files], Path(tmp), limits.max_file_bytes)
            question = _lonlat_question(saved, Path(tmp), limits, budget, repair)
            if question is not None:  # nothing stored: the page asks which map the lon/lat came from
                asked, outline = question
                outline["features"] += _current_outline(session, code)
                context["outline"] = outline
                context["asked"] = asked
                raise InputError("crs_source_needed", "请选择经纬度坐标的来源：" + "、".join(
                    f"{ROLE_NAMES[r]}文件“{name}”" for r, name in asked.items()) + "的坐标是经纬度，无法判断取自哪种地图",
                    {"findings": [{"code": "crs_source_needed", "file": name, "role": r,
                                   "message": f"{name}的坐标是经纬度：请在“{ROLE_NAMES[r]}”一行的“坐标来源”中选择"
                                              "WGS84/CGCS2000、高德/腾讯（GCJ-02）或百度（BD-09）；高德、腾讯、百度地图上"
                                              "取的坐标有数百米偏移"} for r, name in asked.items()]})
            result = uploads.upload_version(session=session, code=code, files=saved, rules=rules,
                                            uploaded_by=user.username, repair=repair, limits=limits, user=user,
                                            budget=budget, geocoder=geocoding.from_settings(settings))
    except InputError as exc:  # raised before anything is written; the form keeps every choice
        context["error"] = _with_roles(exc.to_dict(), {f.name: f.role for f in saved})
        if exc.code != "crs_source_needed":
            context["located"], context["outline"] = _located(session, code, context["error"])
        return request.app.state.templates.TemplateResponse(request, "upload.html", context, status_code=422)
    # Post/Redirect/Get: a refresh of the page shows the draft again and never uploads a second time
    # (an institutions-only upload makes a register draft, shown on its own page)
    return RedirectResponse(result.page, status_code=303)
