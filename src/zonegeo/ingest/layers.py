"""Reading one file in a given role (boundary, core, buildings, institutions) into domain objects."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon

from zonegeo.domain.crs import STORAGE_EPSG, inside_jiangsu
from zonegeo.domain.model import Building, Institution
from zonegeo.errors import InputError
from zonegeo.ingest.columns import BUILDING_COLUMNS, CHAIN_ALIASES, KIND_ALIASES, match_columns, split_values
from zonegeo.ingest.crs_resolve import check_in_jiangsu, crs_label, parse_crs, to_storage
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sniff import sniff
from zonegeo.ingest.tables import parse_float, read_table
from zonegeo.ingest.vector import VectorLayer, polygons, read_vector

ROLES = ("boundary", "core", "buildings", "institutions")
ROLE_LABELS = {"boundary": "四至范围", "core": "核心区", "buildings": "建筑", "institutions": "机构"}


@dataclass
class LayerRead:
    """What one input gave: the domain objects and a record of the input for the report."""

    role: str
    value: Any
    input: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)


def read_role(path: Path, role: str, *, crs: str | None = None) -> LayerRead:
    if role not in ROLES:
        raise InputError("unknown_role", f"未知的图层角色“{role}”，应为：{'、'.join(ROLES)}", {"role": role})
    path = Path(path)
    if not path.is_file():
        raise InputError("file_not_found", f"找不到文件：{path}", {"file": str(path), "role": role})
    fmt = sniff(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if role == "institutions":
        read = _institutions(path, fmt, crs)
        read.input["sha256"] = digest
        return read
    if fmt != "geojson":
        raise InputError("wrong_format_for_role",
                         f"{path.name}：{ROLE_LABELS[role]}应为面图层（GeoJSON），收到的是{fmt.upper()}表格",
                         {"file": path.name, "role": role, "format": fmt})
    layer = read_vector(path, role=role, crs=crs)
    polys = polygons(layer, file=path.name, role=role)
    record = {"role": role, "file": path.name, "format": fmt, "crs": layer.crs, "features": len(polys),
              "sha256": digest}
    if role == "buildings":
        return LayerRead(role, _buildings(layer, polys, path.name), record, layer.warnings)
    merged = shapely.union_all(polys)
    if merged.geom_type == "Polygon":
        merged = MultiPolygon([merged])
    warnings = list(layer.warnings)
    if len(merged.geoms) > 1:
        warnings.append({"code": "multipart", "message": f"{path.name}：{ROLE_LABELS[role]}由{len(merged.geoms)}块组成",
                         "detail": {"file": path.name, "role": role, "parts": len(merged.geoms)}})
    return LayerRead(role, merged, record, warnings)


def _int_cell(value: Any) -> int | None:
    number = parse_float(value)
    return int(number) if number is not None and number == int(number) else None


def _buildings(layer: VectorLayer, polys: list[MultiPolygon], file: str) -> list[Building]:
    columns = match_columns(layer.rows[0].keys() if layer.rows else [], BUILDING_COLUMNS)
    found = Findings(file=file, layer="buildings")
    if "floors" not in columns:
        found.add("missing_columns", "建筑图层缺少“层数/floors”属性", feature=1)
        found.raise_if_any()
    out = []
    for i, (row, geom) in enumerate(zip(layer.rows, polys, strict=True), start=1):
        name = str(row.get(columns.get("name", ""), "") or f"建筑{i}").strip()
        floors = _int_cell(row.get(columns["floors"]))
        used = _int_cell(row.get(columns["floors_used"])) if "floors_used" in columns else floors
        used = floors if used is None and _blank(row.get(columns.get("floors_used", ""))) else used
        if floors is None or floors < 1:
            found.add("bad_floors", f"第{i}个要素（{name}）的层数“{row.get(columns['floors'])}”应为正整数", feature=i)
            continue
        if used is None or not 0 <= used <= floors:
            found.add("bad_floors_used", f"第{i}个要素（{name}）的使用层数应为0到{floors}之间的整数", feature=i)
            continue
        declared = None
        if "floor_area" in columns and not _blank(row.get(columns["floor_area"])):
            declared = parse_float(row.get(columns["floor_area"]))
            if declared is None or declared <= 0:
                found.add("bad_floor_area", f"第{i}个要素（{name}）的建筑面积应为正数", feature=i)
                continue
        out.append(Building(name=name, footprint=geom, floors=floors, floors_used=used,
                            declared_floor_area_m2=declared))
    found.raise_if_any()
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _institutions(path: Path, fmt: str, crs: str | None) -> LayerRead:
    if fmt != "csv":
        raise InputError("wrong_format_for_role", f"{path.name}：机构应为CSV表格（名称、经度、纬度等列）",
                         {"file": path.name, "role": "institutions", "format": fmt})
    table = read_table(path, role="institutions")
    found = Findings(file=path.name, layer="institutions")
    parsed: list[tuple[int, dict[str, str], float, float]] = []
    for line, row in zip(table.row_numbers, table.rows, strict=True):
        name = row.get("name", "")
        lon, lat = parse_float(row.get("lon")), parse_float(row.get("lat"))
        if not name:
            found.add("missing_name", f"第{line}行没有机构名称", row=line)
        if lon is None or lat is None:
            found.add("bad_coordinate", f"第{line}行（{name}）的经纬度“{row.get('lon')}, {row.get('lat')}”无法识别",
                      row=line)
            continue
        kind = KIND_ALIASES.get(row.get("kind", "").strip().lower())
        if kind is None:
            found.add("unknown_kind", f"第{line}行（{name}）的类型“{row.get('kind')}”无法识别，应为服务机构、"
                      "知识产权保护中心、快速维权中心或知识产权业务窗口", row=line)
        unknown = [v for v in split_values(row.get("chain")) if v.lower() not in CHAIN_ALIASES]
        if unknown:
            found.add("unknown_chain", f"第{line}行（{name}）的链条环节“{'、'.join(unknown)}”无法识别，"
                      "应为创造、运用、保护、人才", row=line)
        parsed.append((line, row, lon, lat))
    found.raise_if_any()
    warnings = []
    if crs:
        source = parse_crs(crs, file=path.name, role="institutions")
    else:
        source = CRS.from_epsg(STORAGE_EPSG)
        warnings.append({"code": "crs_assumed",
                         "message": f"{path.name}未声明坐标系，经纬度按CGCS2000读取；若坐标取自高德/腾讯（GCJ-02）"
                                    "或百度（BD-09）地图，会有数百米偏差",
                         "detail": {"file": path.name, "role": "institutions"}})
    lons, lats = to_storage(np.array([p[2] for p in parsed]), np.array([p[3] for p in parsed]), source)
    label = crs_label(source)
    _check_rows(path.name, parsed, np.asarray(lons), np.asarray(lats), label)
    out = [
        Institution(
            name=row["name"], credit_code=row.get("credit_code", ""), lon=float(lon), lat=float(lat),
            kind=KIND_ALIASES[row.get("kind", "").strip().lower()],
            services=tuple(split_values(row.get("services"))),
            chain=tuple(dict.fromkeys(CHAIN_ALIASES[v.lower()] for v in split_values(row.get("chain")))),
            address=row.get("address", ""), building=row.get("building", ""), floor=row.get("floor", ""),
        )
        for (_, row, _, _), lon, lat in zip(parsed, lons, lats, strict=True)
    ]
    record = {"role": "institutions", "file": path.name, "format": fmt, "crs": label, "features": len(out),
              "encoding": table.encoding}
    return LayerRead("institutions", out, record, warnings)


def _check_rows(file: str, parsed: list, lons: np.ndarray, lats: np.ndarray, crs: str) -> None:
    """Whole-table checks first (swapped columns, wrong CRS), then the rows that stray outside Jiangsu."""
    inside = np.array([inside_jiangsu(x, y) for x, y in zip(lons, lats, strict=True)], dtype=bool)
    if inside.all():
        return
    if not inside.any():
        check_in_jiangsu(lons, lats, file=file, role="institutions", crs=crs)
    found = Findings(file=file, layer="institutions")
    for (line, row, _, _), ok, x, y in zip(parsed, inside, lons, lats, strict=True):
        if ok:
            continue
        hint = "（经纬度似乎颠倒）" if inside_jiangsu(y, x) else ""
        code = "coordinates_swapped" if hint else "outside_jiangsu"
        found.add(code, f"第{line}行（{row.get('name')}）的坐标（{x:.6f}, {y:.6f}）不在江苏省范围内{hint}",
                  row=line, coordinate=[round(float(x), 6), round(float(y), 6)])
    found.raise_if_any()
