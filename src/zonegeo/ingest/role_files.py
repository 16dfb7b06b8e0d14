"""Reading one file in a given role (boundary, core, buildings, institutions) into domain objects."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon

from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.domain.model import Building
from zonegeo.errors import InputError
from zonegeo.ingest import crs_resolve, institutions, polygons
from zonegeo.ingest.columns import BUILDING_COLUMNS, match_columns, parse_floors
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.redline import declared_crs, read_redline
from zonegeo.ingest.safety import DEFAULT_LIMITS, Limits
from zonegeo.ingest.sniff import encoding_option
from zonegeo.ingest.sources import Source, open_source
from zonegeo.ingest.tables import parse_float, read_point_table
from zonegeo.ingest.vector import read_vector

ROLES = ("boundary", "core", "buildings", "institutions")
ROLE_LABELS = {"boundary": "四至范围", "core": "核心区", "buildings": "建筑", "institutions": "机构"}
VECTOR_FORMATS = ("geojson", "shapefile", "shapefile_zip", "kml", "kmz", "gpkg", "dxf")
TABLE_FORMATS = ("csv", "xlsx", "xls")
MAX_FLOORS = 300  # above the tallest building there is (163 floors); larger numbers are typing errors
MAX_FLOOR_AREA_M2 = 1e8  # a declared floor area (建筑面积) of 10 000 ha is not one building


@dataclass
class LayerRead:
    """What one input gave: the domain objects and a record of the input for the report."""

    role: str
    value: Any
    input: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ReadOptions:
    crs: str | None = None  # EPSG:xxxx, gcj02 or bd09
    layer: str | None = None  # layer (GeoPackage table, KML folder, Excel sheet) to read
    repair: bool = False  # make invalid polygons valid (reported) instead of refusing them
    name: str | None = None  # the user's file name when ``path`` is a temporary upload
    limits: Limits = DEFAULT_LIMITS
    encoding: str | None = None  # 自动/UTF-8/GBK (or auto/utf-8/gbk): the text encoding of the file's attributes
    # The layout an institution list is placed in when a row has no coordinates but names its 楼栋: the
    # buildings (and boundary) of the same upload, or of the zone's newest version.
    buildings: tuple[Building, ...] = ()
    boundary: Any = None
    # Uploads only (never ``zonegeo import``): an institution row with no coordinates and no 楼栋 of the layout is
    # kept unlocated (listed in the input record's ``unlocated``, for the geocoder or the map) instead of refused.
    keep_unlocated: bool = False


def read_role(path: Path, role: str, *, crs: str | None = None, options: ReadOptions | None = None) -> LayerRead:
    options = options or ReadOptions(crs=crs)
    if crs and not options.crs:
        options = dataclasses.replace(options, crs=crs)
    if role not in ROLES:
        raise InputError("unknown_role", f"未知的图层角色“{role}”，应为：{'、'.join(ROLES)}", {"role": role})
    with tempfile.TemporaryDirectory(prefix="zonegeo-") as tmp:
        wanted = encoding_option(options.encoding, file=options.name or Path(path).name, role=role)
        source = open_source(Path(path), Path(tmp), limits=options.limits, name=options.name, role=role,
                             encoding=wanted)
        read = _read(source, role, options)
    read.input = {"role": role, "file": source.name, "format": source.format, **read.input, "sha256": source.sha256}
    return read


def _read(source: Source, role: str, options: ReadOptions) -> LayerRead:
    if role == "institutions":
        if source.format in TABLE_FORMATS:
            value, record, warnings = institutions.from_table(source, options.crs, buildings=options.buildings,
                                                              boundary=options.boundary,
                                                              keep_unlocated=options.keep_unlocated)
        elif source.format in VECTOR_FORMATS:
            value, record, warnings = institutions.from_vector(source, options.crs, options.layer)
        else:
            raise _wrong_format(source, role)
        return LayerRead(role, value, record, warnings)
    if role == "buildings":
        if source.format not in VECTOR_FORMATS:
            raise _wrong_format(source, role)
        return _buildings(source, options)
    if source.format in VECTOR_FORMATS:
        vector = read_vector(source, role=role, crs=options.crs, layer=options.layer)
        polys = polygons.extract(vector.geometries, vector.layers, file=source.name, role=role,
                                 fmt=source.format, repair=options.repair,
                                 max_repair_vertices=source.limits.max_repair_vertices)
        record = {"crs": vector.crs, "features": len(polys.polygons), "encoding": vector.encoding}
        warnings = vector.warnings + polys.warnings
        polygon_list = polys.polygons
    elif source.format in TABLE_FORMATS:
        polygon_list, record, warnings = _point_table(source, role, options)
    elif source.format == "redline_txt":
        polygon_list, record, warnings = _redline(source, role, options)
    else:
        raise _wrong_format(source, role)
    area, more = polygons.assemble_area(polygon_list, file=source.name, role=role, fmt=source.format)
    return LayerRead(role, area, record, warnings + more)


def _wrong_format(source: Source, role: str) -> InputError:
    need = {"buildings": "带层数属性的面图层（GeoJSON、Shapefile、GeoPackage、KML）",
            "institutions": "机构表（CSV/XLSX）或点图层"}.get(role, "面图层、界址点坐标表或用地红线坐标TXT")
    return InputError("wrong_format_for_role", f"{source.name}：{ROLE_LABELS[role]}应为{need}，收到的是{source.label}",
                      {"file": source.name, "role": role, "format": source.format})


def _buildings(source: Source, options: ReadOptions) -> LayerRead:
    vector = read_vector(source, role="buildings", crs=options.crs, layer=options.layer)
    polys = polygons.extract(vector.geometries, vector.layers, file=source.name, role="buildings",
                             fmt=source.format, repair=options.repair,
                             max_repair_vertices=source.limits.max_repair_vertices)
    table = vector.table.iloc[polys.indices]
    columns = match_columns(table.columns, BUILDING_COLUMNS)
    found = Findings(file=source.name, layer="buildings")
    if "floors" not in columns:
        found.add("missing_columns", "建筑图层缺少“层数/floors”属性", feature=1)
        found.raise_if_any()
    numbers = polys.indices + 1
    floors, basements = _floors(table, columns.get("floors"))
    used, _ = _floors(table, columns.get("floors_used"))
    used = np.where(np.isnan(used), floors, used)  # 使用层数 defaults to 层数
    declared = _numbers(table, columns.get("floor_area"))
    declared_text = _texts(table, columns.get("floor_area"))
    names = _texts(table, columns.get("name"))
    names = np.where(names == "", np.char.add("建筑", numbers.astype(str)), names)
    bad_floors = ~((floors >= 1) & (floors <= MAX_FLOORS)) | (floors != np.floor(floors))
    bad_used = ~bad_floors & (~((used >= 0) & (used <= floors)) | (used != np.floor(used)))
    bad_area = (declared_text != "") & ~((declared > 0) & (declared < MAX_FLOOR_AREA_M2))
    for k in np.flatnonzero(bad_floors | bad_used | bad_area):
        i, name = int(numbers[k]), names[k]
        if bad_floors[k]:
            raw = table.iloc[k][columns["floors"]]
            if raw is None or raw != raw or not str(raw).strip():
                found.add("missing_floors", f"第{i}个要素（{name}）缺少层数", feature=i, field="层数")
            else:
                found.add("bad_floors", f"第{i}个要素（{name}）的层数“{str(raw).strip()}”无法识别或不在1到{MAX_FLOORS}"
                          "之间（可写作 18、18层、5F、十二层、地上12层，地下2层）", feature=i, field="层数")
        elif bad_used[k]:
            found.add("bad_floors_used", f"第{i}个要素（{name}）的使用层数应为0到{int(floors[k])}之间的整数", feature=i)
        else:
            found.add("bad_floor_area", f"第{i}个要素（{name}）的建筑面积应为小于{MAX_FLOOR_AREA_M2:.0e}平方米的正数",
                      feature=i, field="建筑面积")
    found.raise_if_any()
    out = [Building(name=str(n), footprint=g, floors=int(f), floors_used=int(u),
                    declared_floor_area_m2=None if d != d else float(d))
           for n, g, f, u, d in zip(names.tolist(), polys.polygons, floors.tolist(), used.tolist(), declared.tolist(),
                                    strict=True)]
    record = {"crs": vector.crs, "features": len(out), "encoding": vector.encoding}
    warnings = vector.warnings + polys.warnings
    with_basements = np.flatnonzero(basements > 0)
    if len(with_basements):
        first = int(with_basements[0])
        warnings.append({"code": "basements_not_counted",
                         "message": f"{source.name}：{len(with_basements)}栋建筑写有地下层（如第{int(numbers[first])}个要素"
                                    f"“{names[first]}”地下{int(basements[first])}层）；按规则文件的口径，层数只计地上层，"
                                    "地下层不计入集聚区服务空间的建筑面积",
                         "detail": {"file": source.name, "buildings": [str(names[j]) for j in with_basements],
                                    "basement_floors": [int(basements[j]) for j in with_basements]}})
    return LayerRead("buildings", out, record, warnings)


def _floors(table: pd.DataFrame, column: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(above-ground floors, basement floors) of a 层数 column: NaN where empty or unreadable. Basements are
    not counted (data/rules/jiangsu-2024.toml, [rules.floor_area] basements = "excluded")."""
    if column is None:
        return np.full(len(table), np.nan), np.zeros(len(table))
    values = table[column]
    if pd.api.types.is_numeric_dtype(values):  # what parse_floors gives a number: itself, NaN for none
        return values.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(table))
    codes, uniques = pd.factorize(values, use_na_sentinel=False)  # each distinct cell parsed once
    read = [parse_floors(v) for v in uniques.tolist()]
    above = np.array([np.nan if a is None else a for a, _ in read], dtype=float)
    below = np.array([b for _, b in read], dtype=float)
    return above[codes], below[codes]


def _numbers(table: pd.DataFrame, column: str | None) -> np.ndarray:
    """A column as floats (NaN where empty or not a number), accepting numbers written with commas."""
    if column is None:
        return np.full(len(table), np.nan)
    values = table[column]
    if not pd.api.types.is_numeric_dtype(values):
        values = values.astype(str).str.replace(",", "", regex=False).str.strip()
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _texts(table: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.full(len(table), "", dtype=object)
    return table[column].where(table[column].notna(), "").astype(str).str.strip().to_numpy(dtype=object)


def _rings_to_polygons(parts: dict[str, dict[str, list[tuple[float, float, int]]]], choice, *, file: str,
                       role: str, repair: bool, fmt: str) -> tuple[list[MultiPolygon], list[dict]]:
    """Parcels of rings of (easting, northing, row) → validated lon/lat polygons (first ring = shell)."""
    found = Findings(file=file, layer=role)
    for part, rings in parts.items():
        for ring, points in rings.items():
            distinct = {(x, y) for x, y, _ in points}
            if len(distinct) < 3:
                found.add("ring_too_short", f"地块“{part}”第{ring}圈只有{len(distinct)}个不同的点，至少需要3个",
                          row=points[0][2])
    found.raise_if_any()
    xs = np.array([x for rings in parts.values() for pts in rings.values() for x, _, _ in pts])
    ys = np.array([y for rings in parts.values() for pts in rings.values() for _, y, _ in pts])
    lon, lat = crs_resolve.to_storage(xs, ys, choice)
    crs_resolve.check_in_jiangsu(lon, lat, file=file, role=role, crs=choice.label)
    k = 0
    geoms, layers = [], []
    for part, rings in parts.items():
        built = []
        for points in rings.values():
            coords = list(zip(lon[k : k + len(points)], lat[k : k + len(points)], strict=True))
            k += len(points)
            built.append(coords)
        geoms.append(Polygon(built[0], built[1:]))
        layers.append(part)
    polys = polygons.extract(geoms, layers, file=file, role=role, fmt=fmt, repair=repair)
    return polys.polygons, polys.warnings


def _point_table(source: Source, role: str, options: ReadOptions) -> tuple[list, dict, list]:
    table = read_point_table(source, role=role)
    found = Findings(file=source.name, layer=role)
    lonlat = "x" not in table.rows[0] and "lon" in table.rows[0]
    parts: dict[str, dict[str, list[tuple[float, float, int]]]] = {}
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        if lonlat:
            east, north = parse_float(row.get("lon")), parse_float(row.get("lat"))
        else:  # 界址点坐标表: X is the northing, Y the easting
            east, north = parse_float(row.get("y")), parse_float(row.get("x"))
        if east is None or north is None:
            found.add("bad_coordinate", f"第{number}行（点号{row.get('point', '')}）的坐标无法识别", row=number)
            continue
        ring = parts.setdefault(row.get("part") or "1", {}).setdefault(row.get("ring") or "1", [])
        ring.append((east, north, number))
    found.raise_if_any()
    xs = np.array([p[0] for rings in parts.values() for pts in rings.values() for p in pts])
    ys = np.array([p[1] for rings in parts.values() for pts in rings.values() for p in pts])
    note = "" if lonlat else "（界址点坐标表中X为北坐标、Y为东坐标）"
    declared = None if options.crs or lonlat else declared_crs(table.preamble, float(xs[0]), source.name)
    if options.crs:
        choice = crs_resolve.parse_crs(options.crs, file=source.name, role=role)
    elif declared is not None:  # 坐标系/带号/中央经线 written above the table, as in a red-line TXT
        choice = declared
    else:
        choice = crs_resolve.infer(xs, ys, file=source.name, role=role, axis_note=note)
    polys, warnings = _rings_to_polygons(parts, choice, file=source.name, role=role, repair=options.repair,
                                         fmt=source.format)
    points = sum(len(p) for rings in parts.values() for p in rings.values())
    record = {"crs": choice.label, "features": len(polys), "points": points, "encoding": table.encoding}
    return polys, record, choice.warnings + warnings


def _redline(source: Source, role: str, options: ReadOptions) -> tuple[list, dict, list]:
    red = read_redline(source)
    choice = red.crs
    if options.crs:
        choice = crs_resolve.parse_crs(options.crs, file=source.name, role=role)
    elif choice is None:
        xs = np.array([x for p in red.parcels for pts in p.rings.values() for x, _, _ in pts])
        ys = np.array([y for p in red.parcels for pts in p.rings.values() for _, y, _ in pts])
        choice = crs_resolve.infer(xs, ys, file=source.name, role=role, axis_note="（X为北坐标、Y为东坐标）")
    parts = {p.number or str(i): p.rings for i, p in enumerate(red.parcels, start=1)}
    polys, warnings = _rings_to_polygons(parts, choice, file=source.name, role=role, repair=options.repair,
                                         fmt=source.format)
    for parcel, poly in zip(red.parcels, polys, strict=True):
        if parcel.declared_ha:
            computed = geodesic_area_m2(poly) / 10_000
            rel = abs(computed - parcel.declared_ha) / parcel.declared_ha
            if rel > 0.005:
                warnings.append({"code": "declared_area_differs",
                                 "message": f"{source.name}：地块“{parcel.name or parcel.number}”申报面积"
                                            f"{parcel.declared_ha:.4f}公顷，按坐标计算为{computed:.4f}公顷，相差{rel:.1%}",
                                 "detail": {"file": source.name, "parcel": parcel.number,
                                            "declared_ha": parcel.declared_ha, "computed_ha": round(computed, 4)}})
    record = {"crs": choice.label, "features": len(polys), "encoding": red.encoding,
              "parcels": [{"number": p.number, "name": p.name, "declared_ha": p.declared_ha} for p in red.parcels]}
    return polys, record, choice.warnings + warnings
