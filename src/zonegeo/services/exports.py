"""What the province (and a city bureau, for its own city) hands on as files: the zone list, the institution register,
the change events and the deadlines as .xlsx (services/xlsx.py), and the approved layouts as a GeoPackage or a
zipped Shapefile set (written by GDAL through pyogrio). Each export reads a fixed number of SQL statements.

The layouts are written in the stored CRS, CGCS2000 geographic (EPSG:4490, lon/lat). Shapefile field names are at
most 10 bytes, so both formats use the short ASCII names of ``LAYER_FIELDS``; ``FIELD_NOTES`` maps each to its
Chinese meaning (written into the zip as 字段说明.txt and shown on /exports)."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session, selectinload

from zonegeo.db import repo
from zonegeo.db.geometry import from_db
from zonegeo.db.models import ChangeEvent, Institution, Zone, ZoneVersion
from zonegeo.domain import lifecycle as states
from zonegeo.domain import register as register_labels
from zonegeo.domain import versions
from zonegeo.domain.check import measure_buildings
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.domain.model import JIANGSU_CITIES, InstitutionKind
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError, InternalError, NotFoundError
from zonegeo.services import access
from zonegeo.services import changes as change_service
from zonegeo.services import lifecycle as zone_life
from zonegeo.services.auth import User
from zonegeo.services.xlsx import Cell, Sheet, workbook

SRS = "EPSG:4490"  # the stored CRS, written as is
ENCODINGS = {"GBK": "GBK", "UTF-8": "UTF-8"}  # what a Shapefile's text may be written in (its .cpg says which)
ROLE_LABELS = {"province": "省知识产权局", "city": "设区市知识产权局", "applicant": "建设主体", "expert": "评审专家"}


@dataclass(frozen=True)
class Scope:
    """Which zones an export covers: a city bureau its own city; the province all, or one city it names; optionally
    one zone (by code)."""

    city: str | None = None
    code: str | None = None

    def where(self) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = true()
        if self.city is not None:
            clause = clause & (Zone.city == self.city)
        if self.code is not None:
            clause = clause & (Zone.code == self.code)
        return clause


def scope_for(user: User | None, *, city: str | None = None, code: str | None = None) -> Scope:
    """The scope ``user`` may export (None: the command line, which sees everything). A city bureau gets its city
    whatever it asks for; an unknown city or a too long code is a named 422."""
    city = (city or "").strip() or None
    code = (code or "").strip() or None
    if city is not None and city not in JIANGSU_CITIES:
        raise InputError("unknown_city", f"“{city}”不是江苏省的设区市", {"field": "city", "city": city,
                                                                    "allowed": list(JIANGSU_CITIES)})
    if code is not None and len(code) > 64:
        raise InputError("bad_zone_code", "集聚区代码过长（最多64个字符）", {"field": "zone", "length": len(code)})
    if user is not None:
        city = access.city_scope(user, city)
    return Scope(city=city, code=code)


def _zones(session: Session, scope: Scope) -> list[Zone]:
    zones = list(session.scalars(select(Zone).where(scope.where()).order_by(Zone.city, Zone.code)))
    if scope.code is not None and not zones:  # a zone outside the scope is as if it did not exist
        raise NotFoundError("zone_not_found", f"集聚区“{scope.code}”不存在", {"code": scope.code})
    return zones


def _change_events(session: Session, scope: Scope, *, unreported: bool = False) -> list[Any]:
    """(change event, zone code, zone name, city) of the zones in ``scope``, in one statement."""
    stmt = (select(ChangeEvent, Zone.code, Zone.name, Zone.city).join(Zone, Zone.id == ChangeEvent.zone_id)
            .where(scope.where()).order_by(Zone.city, Zone.code, ChangeEvent.occurred_on, ChangeEvent.id))
    if unreported:
        stmt = stmt.where(ChangeEvent.reported_on.is_(None))
    return list(session.execute(stmt))


def approved_versions(session: Session, zone_ids: list[int]) -> dict[int, ZoneVersion]:
    """The approved version of each zone, buildings loaded (two statements whatever the count)."""
    if not zone_ids:
        return {}
    stmt = (select(ZoneVersion).where(ZoneVersion.zone_id.in_(zone_ids), ZoneVersion.state == versions.APPROVED)
            .options(selectinload(ZoneVersion.buildings)))
    return {v.zone_id: v for v in session.scalars(stmt)}


def areas(version: ZoneVersion, rules: RuleSet) -> dict[str, float]:
    """用地面积, 核心区用地面积 and the 建筑面积 inside the 四至 of a stored version, as the zone page measures them
    (``services.changes.version_rows``)."""
    plan = repo.to_domain_plan(version, [])
    measures, _ = measure_buildings(plan, rules)
    return {"land_m2": geodesic_area_m2(plan.boundary),
            "core_land_m2": geodesic_area_m2(plan.core) if plan.core is not None else 0.0,
            "floor_m2": float(sum(m.floor_m2 for m in measures))}


def _m2(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# ---- the .xlsx exports --------------------------------------------------------------------------------------------

ZONE_HEADER = ["集聚区代码", "名称", "设区市", "建设主体", "运营管理单位", "状态", "批复日期", "建设期届满",
               "验收日期", "已公布", "批准布局版本", "用地面积（平方米）", "核心区用地面积（平方米）",
               "集聚区内建筑面积（平方米）", "在册服务机构（家）", "在册公共服务平台（个）"]


def zones_xlsx(*, session: Session, scope: Scope, rules: RuleSet) -> tuple[bytes, int]:
    zones = _zones(session, scope)
    approved = approved_versions(session, [z.id for z in zones])
    counts: dict[tuple[int, bool], int] = {}
    stmt = (select(Institution.zone_id, Institution.kind).join(Zone, Zone.id == Institution.zone_id)
            .where(scope.where(), Institution.left_on.is_(None)))
    for zone_id, kind in session.execute(stmt):
        key = (zone_id, kind != InstitutionKind.INSTITUTION.value)
        counts[key] = counts.get(key, 0) + 1
    rows: list[list[Cell]] = []
    for z in zones:
        v = approved.get(z.id)
        measured = areas(v, rules) if v is not None else {}
        dates = z.dates or {}
        rows.append([z.code, z.name, z.city, z.builder, z.operator, states.STATES.get(z.status, z.status),
                     _date(dates.get("approved_on")), _date(dates.get("construction_ends")),
                     _date(dates.get("accepted_on")), "是" if z.published else "否", v.number if v else None,
                     _m2(measured.get("land_m2")), _m2(measured.get("core_land_m2")), _m2(measured.get("floor_m2")),
                     counts.get((z.id, False), 0), counts.get((z.id, True), 0)])
    notes = ["面积为已批准的空间布局版本在CGCS2000椭球面上的测地面积；尚无批准版本的集聚区面积为空。",
             "建筑面积按“占地面积×使用层数”（或申报的建筑面积）计算，只计四至范围内的部分。",
             "在册机构为尚未退出的机构；公共服务平台（保护中心、快速维权中心、业务窗口等）单独计数。", _made(scope)]
    return workbook([Sheet("集聚区名录", ZONE_HEADER, rows)], notes=notes), len(rows)


INSTITUTION_HEADER = ["集聚区代码", "集聚区名称", "设区市", "机构名称", "统一社会信用代码", "类型", "服务类型",
                      "链条环节", "地址", "楼栋", "楼层", "经度", "纬度", "准入日期", "退出日期", "定位方式"]


def institutions_xlsx(*, session: Session, scope: Scope) -> tuple[bytes, int]:
    stmt = (select(Institution, Zone.code, Zone.name, Zone.city).join(Zone, Zone.id == Institution.zone_id)
            .where(scope.where()).order_by(Zone.city, Zone.code, Institution.id))
    rows: list[list[Cell]] = []
    for inst, code, zone_name, city in session.execute(stmt):
        point = from_db(inst.location)
        kind = inst.kind_label or InstitutionKind(inst.kind).label
        rows.append([code, zone_name, city, inst.name, inst.credit_code, kind, "、".join(inst.services),
                     "、".join([*inst.chain, *inst.chain_other]), inst.address, inst.building, inst.floor,
                     round(point.x, 7), round(point.y, 7), inst.entered_on, inst.left_on,
                     register_labels.located_label(inst.located_by)])
    notes = ["每行一家机构或公共服务平台；“退出日期”为空的为在册机构。",
             "经纬度为CGCS2000（EPSG:4490）坐标。", _made(scope)]
    return workbook([Sheet("机构名录", INSTITUTION_HEADER, rows)], notes=notes), len(rows)


CHANGE_HEADER = ["集聚区代码", "集聚区名称", "设区市", "变更类型", "说明", "发生日期", "报告截止日期", "截止日期暂定",
                 "报告日期", "报告人", "报告情况", "逾期天数", "回执编号", "回执日期", "抄报收到日期"]


def changes_xlsx(*, session: Session, scope: Scope, today: dt.date) -> tuple[bytes, int]:
    rows: list[list[Cell]] = []
    for e, code, name, city in _change_events(session, scope):
        state = change_service.status(e, today)
        late_days = ((e.reported_on - e.report_due).days if state == "late"
                     else (today - e.report_due).days if state == "overdue" else None)
        rows.append([code, name, city, change_service.KIND_LABELS.get(e.kind, e.kind), e.description,
                     e.occurred_on, e.report_due, "是" if e.due_provisional else "否", e.reported_on, e.reported_by,
                     REPORT_STATES[state], late_days, e.receipt_no or None, e.acknowledged_on, e.city_received_on])
    notes = ["报告情况：按时报告（在截止日期当日或之前报告）、逾期报告（截止日期之后报告）、已逾期（截至导出日未报告且已过"
             "截止日期）、未到期（未报告，尚未到截止日期）。逾期天数为自然日。",
             "依据第三章：集聚区发生变更的，应当在变更后15个工作日内报告省知识产权局，同时抄报所在设区市知识产权局。",
             f"导出日期：{today.isoformat()}。", _made(scope)]
    return workbook([Sheet("变更事项", CHANGE_HEADER, rows)], notes=notes), len(rows)


REPORT_STATES = {"reported": "按时报告", "late": "逾期报告", "overdue": "已逾期", "pending": "未到期"}
DEADLINE_HEADER = ["集聚区代码", "集聚区名称", "设区市", "事项", "截止日期", "剩余天数", "是否逾期", "截止日期暂定", "责任单位"]


def deadline_rows(*, session: Session, scope: Scope, today: dt.date, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Every dated obligation of the zones in ``scope`` (notice end, construction end, rectification end, annual
    report) and every unreported change report, nearest first."""
    zones = _zones(session, scope)
    events = zone_life.histories(session, [z.id for z in zones])
    out: list[dict[str, Any]] = []
    for z in zones:
        for o in zone_life.obligations(z, today, events[z.id], calendar):
            if o["kind"] == "deadline":
                out.append(o | {"due": dt.date.fromisoformat(o["due"])})
    for e, code, name, city in _change_events(session, scope, unreported=True):
        out.append({"zone_code": code, "zone_name": name, "city": city, "due": e.report_due,
                    "what": f"报告变更事项（{change_service.KIND_LABELS.get(e.kind, e.kind)}，{e.occurred_on}发生）",
                    "days_left": (e.report_due - today).days, "overdue": today > e.report_due,
                    "provisional": e.due_provisional, "role": "applicant"})
    return sorted(out, key=lambda r: (r["due"], r["city"], r["zone_code"]))


def deadlines_xlsx(*, session: Session, scope: Scope, today: dt.date, calendar: WorkCalendar) -> tuple[bytes, int]:
    rows: list[list[Cell]] = [
        [r["zone_code"], r["zone_name"], r["city"], r["what"], r["due"], r["days_left"],
         "已逾期" if r["overdue"] else "未逾期", "是" if r["provisional"] else "否", ROLE_LABELS.get(r["role"], r["role"])]
        for r in deadline_rows(session=session, scope=scope, today=today, calendar=calendar)]
    notes = ["剩余天数为自然日，负数表示已逾期的天数；变更报告的截止日期按工作日计算（第三章：变更后15个工作日内）。",
             "“截止日期暂定”：该年节假日安排尚未公布，公布后系统自动重算。", f"导出日期：{today.isoformat()}。", _made(scope)]
    return workbook([Sheet("截止日期", DEADLINE_HEADER, rows)], notes=notes), len(rows)


def _made(scope: Scope) -> str:
    where = scope.city or "全省"
    return f"范围：{where}{'，集聚区' + scope.code if scope.code else ''}。"


# ---- the approved layouts as GIS files ----------------------------------------------------------------------------

# layer -> [(field, Chinese meaning)], the field names at most 10 bytes (dBase)
LAYER_FIELDS: dict[str, list[tuple[str, str]]] = {
    "boundary": [("zone_code", "集聚区代码"), ("zone_name", "集聚区名称"), ("city", "设区市"), ("status", "状态"),
                 ("version", "批准布局版本号"), ("eff_date", "版本生效日期"), ("land_m2", "用地面积（平方米）"),
                 ("floor_m2", "集聚区内建筑面积（平方米）")],
    "core": [("zone_code", "集聚区代码"), ("zone_name", "集聚区名称"), ("version", "批准布局版本号"),
             ("core_m2", "核心区用地面积（平方米）")],
    "buildings": [("zone_code", "集聚区代码"), ("version", "批准布局版本号"), ("name", "建筑名称"), ("floors", "层数"),
                  ("floors_use", "使用层数"), ("decl_m2", "申报建筑面积（平方米，未申报为空）")],
    "institutions": [("zone_code", "集聚区代码"), ("name", "机构名称"), ("credit", "统一社会信用代码"), ("kind", "类型"),
                     ("services", "服务类型"), ("chain", "链条环节"), ("address", "地址"), ("building", "楼栋"),
                     ("floor", "楼层"), ("entered", "准入日期")],
}
LAYER_LABELS = {"boundary": "四至范围", "core": "核心区", "buildings": "建筑（物理载体）", "institutions": "入驻机构和平台"}
GEOMETRY_TYPES = {"boundary": "MultiPolygon", "core": "MultiPolygon", "buildings": "MultiPolygon",
                  "institutions": "Point"}
FIELD_NOTES = "\n".join(
    [f"空间布局导出：已批准的空间布局版本，坐标系 CGCS2000 地理坐标（{SRS}，经度/纬度）。", ""]
    + [f"图层 {layer}（{LAYER_LABELS[layer]}）：" + "；".join(f"{f} = {label}" for f, label in fields)
       for layer, fields in LAYER_FIELDS.items()])


@dataclass
class Layouts:
    """The approved layouts of the zones in a scope, feature by feature: layer -> (geometries, rows)."""

    layers: dict[str, tuple[list[Any], list[list[Any]]]]
    zones: int


def layouts(*, session: Session, scope: Scope, rules: RuleSet) -> Layouts:
    """The approved layout of each zone in ``scope`` (zones with none are left out) with its active institutions;
    four statements whatever the number of zones."""
    zones = {z.id: z for z in _zones(session, scope)}
    approved = approved_versions(session, list(zones))
    out: dict[str, tuple[list[Any], list[list[Any]]]] = {layer: ([], []) for layer in LAYER_FIELDS}

    def add(layer: str, geom: Any, row: list[Any]) -> None:
        out[layer][0].append(geom)
        out[layer][1].append(row)

    for zone_id, v in sorted(approved.items(), key=lambda kv: (zones[kv[0]].city, zones[kv[0]].code)):
        z, measured = zones[zone_id], areas(v, rules)
        add("boundary", from_db(v.boundary), [z.code, z.name, z.city, states.STATES.get(z.status, z.status), v.number,
                                              v.effective_on.isoformat(), round(measured["land_m2"], 2),
                                              round(measured["floor_m2"], 2)])
        if v.core is not None:
            add("core", from_db(v.core), [z.code, z.name, v.number, round(measured["core_land_m2"], 2)])
        for b in v.buildings:
            add("buildings", from_db(b.footprint), [z.code, v.number, b.name, b.floors, b.floors_used,
                                                    b.declared_floor_area_m2])
    if approved:
        stmt = (select(Institution).where(Institution.zone_id.in_(list(approved)), Institution.left_on.is_(None))
                .order_by(Institution.zone_id, Institution.id))
        for inst in session.scalars(stmt):
            add("institutions", from_db(inst.location), [
                zones[inst.zone_id].code, inst.name, inst.credit_code, inst.kind_label or InstitutionKind(inst.kind).label,
                "、".join(inst.services), "、".join([*inst.chain, *inst.chain_other]), inst.address, inst.building,
                inst.floor, inst.entered_on.isoformat()])
    return Layouts(out, len(approved))


INT_FIELDS = {"version", "floors", "floors_use"}
FLOAT_FIELDS = {"land_m2", "floor_m2", "core_m2", "decl_m2"}  # empty: NULL


def _column(name: str, values: list[Any]) -> np.ndarray:
    if name in INT_FIELDS:
        return np.array(values, dtype=np.int64)
    if name in FLOAT_FIELDS:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


def _check_encodable(data: Layouts, encoding: str) -> None:
    """GDAL drops characters the chosen code page cannot hold, silently: refuse instead, naming the value."""
    for layer, fields in LAYER_FIELDS.items():
        for row in data.layers[layer][1]:
            for (name, label), value in zip(fields, row, strict=True):
                if not isinstance(value, str):
                    continue
                try:
                    value.encode(encoding)
                except UnicodeEncodeError as exc:
                    bad = value[exc.start:exc.end]
                    raise InputError("not_encodable", f"图层“{LAYER_LABELS[layer]}”集聚区{row[0]}的{label}“{value}”含有"
                                     f"{encoding}编码无法表示的字符“{bad}”，请改用UTF-8导出",
                                     {"layer": layer, "field": name, "zone": row[0], "value": value,
                                      "character": bad, "encoding": encoding}) from None


def _write_layers(data: Layouts, folder: Path, *, driver: str, encoding: str | None,
                  progress: Callable[[str], None] | None = None) -> list[Path]:
    written = []
    for layer, fields in LAYER_FIELDS.items():
        geoms, rows = data.layers[layer]
        names = [f for f, _ in fields]
        columns = [_column(name, [r[i] for r in rows]) for i, name in enumerate(names)]
        wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
        path = folder / (f"{layer}.shp" if driver == "ESRI Shapefile" else "layouts.gpkg")
        try:
            pyogrio.raw.write(str(path), wkb, columns, names, layer=layer, driver=driver, crs=SRS,
                              geometry_type=GEOMETRY_TYPES[layer], encoding=encoding,
                              promote_to_multi=GEOMETRY_TYPES[layer] != "Point")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            # nothing the user can change: logged with the request id (a 500 without the cause)
            raise InternalError("export_write_failed", f"写出图层“{LAYER_LABELS[layer]}”失败",
                                {"layer": layer, "driver": driver, "cause": str(exc)}) from exc
        written.append(path)
        if progress is not None:
            progress(layer)
    return written


def layouts_gpkg(data: Layouts, progress: Callable[[str], None] | None = None) -> bytes:
    """One GeoPackage with the four layers (boundary, core, buildings, institutions), EPSG:4490."""
    with tempfile.TemporaryDirectory(prefix="zonegeo-export-") as tmp:
        _write_layers(data, Path(tmp), driver="GPKG", encoding=None, progress=progress)
        return (Path(tmp) / "layouts.gpkg").read_bytes()


def check_encoding(value: str | None) -> str:
    text = (value or "GBK").strip().upper().replace("UTF8", "UTF-8")
    if text not in ENCODINGS:
        raise InputError("unknown_encoding", f"编码“{value}”不支持，应为：{'、'.join(ENCODINGS)}",
                         {"field": "encoding", "value": value, "allowed": list(ENCODINGS)})
    return ENCODINGS[text]


DBF_TEXT_BYTES = 254  # the longest text a dBase field holds


def _fit_dbf(data: Layouts, encoding: str) -> tuple[Layouts, list[str]]:
    """Texts longer than a dBase field cut at a character boundary (GDAL would cut them too, with a warning only
    in the log); returns the cut layouts and a line per value cut, for 字段说明.txt."""
    cut: list[str] = []
    layers: dict[str, tuple[list[Any], list[list[Any]]]] = {}
    for layer, (geoms, rows) in data.layers.items():
        fields = LAYER_FIELDS[layer]
        fitted = []
        for row in rows:
            new = list(row)
            for i, value in enumerate(row):
                if isinstance(value, str) and len(value.encode(encoding)) > DBF_TEXT_BYTES:
                    kept = value.encode(encoding)[:DBF_TEXT_BYTES].decode(encoding, errors="ignore")
                    new[i] = kept
                    cut.append(f"图层 {layer}，集聚区 {row[0]}，字段 {fields[i][0]}：保留前{len(kept)}个字符（原{len(value)}个）")
            fitted.append(new)
        layers[layer] = (geoms, fitted)
    return Layouts(layers, data.zones), cut


def layouts_shapefile_zip(data: Layouts, encoding: str, progress: Callable[[str], None] | None = None) -> bytes:
    """A zip of one Shapefile per layer (.shp .shx .dbf .prj and a .cpg naming ``encoding``) and 字段说明.txt, which
    also lists any text cut to the dBase limit of 254 bytes (the GeoPackage and the .xlsx keep it whole)."""
    encoding = check_encoding(encoding)
    _check_encodable(data, encoding)
    data, cut = _fit_dbf(data, encoding)
    notes = FIELD_NOTES + f"\n\n文本编码：{encoding}（见各图层的 .cpg 文件）。\n"
    if cut:
        notes += (f"\n以下{len(cut)}个文本超过Shapefile字段的{DBF_TEXT_BYTES}字节上限，已截断"
                  "（完整内容见GeoPackage或Excel导出）：\n" + "\n".join(cut) + "\n")
    out = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="zonegeo-export-") as tmp:
        _write_layers(data, Path(tmp), driver="ESRI Shapefile", encoding=encoding, progress=progress)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(Path(tmp).iterdir()):
                zf.write(path, path.name)
            zf.writestr("字段说明.txt", notes)
    return out.getvalue()


def file_name(stem: str, scope: Scope, suffix: str, today: dt.date) -> str:
    parts: Sequence[str] = [stem, scope.city or "全省", *([scope.code] if scope.code else []), today.isoformat()]
    return "-".join(parts) + suffix
