"""/exports: the files the province (all zones, or one city) and a city bureau (its own city) hand on — the zone
list, the institution register, the change events and the deadlines as .xlsx, the approved layouts as GeoPackage
and as a zipped Shapefile set. Each link downloads in one click."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from zonegeo.api.deps import Bureau, CalendarDep, RulesDep, SessionDep
from zonegeo.db.models import Zone
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.services import exports
from zonegeo.services.exports import Scope
from zonegeo.services.xlsx import XLSX_TYPE

router = APIRouter(include_in_schema=False)

CityParam = Annotated[str | None, Query(max_length=16)]
ZoneParam = Annotated[str | None, Query(max_length=64)]
EncodingParam = Annotated[str, Query(max_length=16)]
GPKG_TYPE = "application/geopackage+sqlite3"

# slug -> (Chinese name offered, what it holds)
FILES = {
    "zones.xlsx": ("集聚区名录", "每个集聚区的代码、名称、设区市、建设主体、运营管理单位、状态、主要日期、"
                                 "批准布局的面积和在册机构数"),
    "institutions.xlsx": ("机构名录", "全部入驻机构和公共服务平台（含已退出的），信用代码、类型、服务类型、"
                                      "链条环节、位置和准入/退出日期"),
    "changes.xlsx": ("变更事项", "全部变更事项及其报告情况：按时报告、逾期报告、已逾期、未到期，回执和抄报"),
    "deadlines.xlsx": ("截止日期", "公示期满、建设期满、整改期满、年度总结报告和待报告的变更事项，按截止日期排列"),
    "layouts.gpkg": ("空间布局（GeoPackage）", "已批准的空间布局：四至范围、核心区、建筑、入驻机构和平台四个图层"),
    "layouts-shp.zip": ("空间布局（Shapefile压缩包）", "同上，每个图层一组Shapefile文件，附.cpg编码文件和字段说明"),
}


def _download(content: bytes, media: str, slug: str, name: str, rows: int) -> Response:
    return Response(content, media_type=media, headers={
        "Content-Disposition": f"attachment; filename={slug}; filename*=UTF-8''{quote(name)}",
        "X-Export-Rows": str(rows), "Cache-Control": "no-store"})


def _xlsx(slug: str, scope: Scope, made: tuple[bytes, int]) -> Response:
    content, rows = made
    return _download(content, XLSX_TYPE, slug, exports.file_name(FILES[slug][0], scope, ".xlsx", dt.date.today()),
                     rows)


@router.get("/exports/zones.xlsx")
def zones_xlsx(session: SessionDep, rules: RulesDep, user: Bureau, city: CityParam = None) -> Response:
    scope = exports.scope_for(user, city=city)
    return _xlsx("zones.xlsx", scope, exports.zones_xlsx(session=session, scope=scope, rules=rules))


@router.get("/exports/institutions.xlsx")
def institutions_xlsx(session: SessionDep, user: Bureau, city: CityParam = None) -> Response:
    scope = exports.scope_for(user, city=city)
    return _xlsx("institutions.xlsx", scope, exports.institutions_xlsx(session=session, scope=scope))


@router.get("/exports/changes.xlsx")
def changes_xlsx(session: SessionDep, user: Bureau, city: CityParam = None) -> Response:
    scope = exports.scope_for(user, city=city)
    return _xlsx("changes.xlsx", scope, exports.changes_xlsx(session=session, scope=scope, today=dt.date.today()))


@router.get("/exports/deadlines.xlsx")
def deadlines_xlsx(session: SessionDep, calendar: CalendarDep, user: Bureau, city: CityParam = None) -> Response:
    scope = exports.scope_for(user, city=city)
    return _xlsx("deadlines.xlsx", scope, exports.deadlines_xlsx(session=session, scope=scope, today=dt.date.today(),
                                                                 calendar=calendar))


@router.get("/exports/layouts.gpkg")
def layouts_gpkg(session: SessionDep, rules: RulesDep, user: Bureau, city: CityParam = None,
                 zone: ZoneParam = None) -> Response:
    scope = exports.scope_for(user, city=city, code=zone)
    data = exports.layouts(session=session, scope=scope, rules=rules)
    name = exports.file_name("空间布局", scope, ".gpkg", dt.date.today())
    return _download(exports.layouts_gpkg(data), GPKG_TYPE, "layouts.gpkg", name, data.zones)


@router.get("/exports/layouts-shp.zip")
def layouts_shapefile(session: SessionDep, rules: RulesDep, user: Bureau, city: CityParam = None,
                      zone: ZoneParam = None, encoding: EncodingParam = "GBK") -> Response:
    scope = exports.scope_for(user, city=city, code=zone)
    chosen = exports.check_encoding(encoding)
    data = exports.layouts(session=session, scope=scope, rules=rules)
    name = exports.file_name(f"空间布局-Shapefile-{chosen}", scope, ".zip", dt.date.today())
    return _download(exports.layouts_shapefile_zip(data, chosen), "application/zip", "layouts-shp.zip", name,
                     data.zones)


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, session: SessionDep, user: Bureau, city: CityParam = None) -> HTMLResponse:
    scope = exports.scope_for(user, city=city)
    zones = session.execute(select(Zone.code, Zone.name, Zone.city).where(scope.where())
                            .order_by(Zone.city, Zone.code)).all()
    def query(**extra: str) -> str:
        params = {k: v for k, v in ({"city": scope.city if user.role == "province" else None} | extra).items() if v}
        return "?" + urlencode(params) if params else ""

    links: list[dict[str, Any]] = [{"slug": slug, "name": name, "what": what, "href": f"/exports/{slug}" + query()}
                                   for slug, (name, what) in FILES.items() if slug != "layouts-shp.zip"]
    links += [{"slug": f"layouts-shp-{enc}", "name": f"{FILES['layouts-shp.zip'][0]}，{enc}编码",
               "what": FILES["layouts-shp.zip"][1], "href": "/exports/layouts-shp.zip" + query(encoding=enc)}
              for enc in exports.ENCODINGS]
    context = {"user": user, "links": links,
               "cities": JIANGSU_CITIES, "city": scope.city, "zones": zones, "encodings": list(exports.ENCODINGS),
               "field_notes": exports.LAYER_FIELDS, "layer_labels": exports.LAYER_LABELS, "srs": exports.SRS,
               "evaluations": True}  # the evaluation rounds' own exports (/evaluations/{n}/…xlsx)
    return request.app.state.templates.TemplateResponse(request, "exports.html", context)
