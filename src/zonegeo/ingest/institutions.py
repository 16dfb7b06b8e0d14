"""Institutions and platforms from a table (CSV/XLSX/XLS rows with lon/lat, or with a 楼栋 of the layout) or a
point layer."""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any

import numpy as np
import shapely

from zonegeo.domain import register
from zonegeo.domain.crs import inside_jiangsu
from zonegeo.domain.model import Building, Institution, InstitutionKind
from zonegeo.ingest import crs_resolve
from zonegeo.ingest.columns import INSTITUTION_COLUMNS, match_columns, read_chain, read_kind, split_values
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sources import Source
from zonegeo.ingest.tables import parse_float, read_table
from zonegeo.ingest.vector import read_vector


def _check_values(rows: list[dict[str, str]], numbers: list[int], found: Findings, what: str) -> None:
    for number, row in zip(numbers, rows, strict=True):
        if not row.get("name", ""):
            found.add("missing_name", f"{what}{number}没有机构名称", row=number)


def _build(rows: list[dict[str, str]], numbers: list[int], lons: np.ndarray, lats: np.ndarray,
           file: str, what: str = "行") -> tuple[list[Institution], list[dict[str, Any]]]:
    """Institutions from canonical rows. The regulation's lists of platforms and chain links end with “等”:
    a value outside them is kept (and warned about with its row), never a reason to refuse the file."""
    out, warnings = [], []
    for row, number, lon, lat in zip(rows, numbers, lons, lats, strict=True):
        where = f"第{number}{what}（{row['name']}）"
        kind, kind_label = read_kind(row.get("kind", ""))
        if kind_label:
            as_what = "其他知识产权公共服务平台" if kind is InstitutionKind.OTHER_PLATFORM else "知识产权服务机构"
            warnings.append({"code": "unknown_kind", "message": f"{file}：{where}的类型“{kind_label}”不在列举的类型中，"
                             f"按{as_what}保留，请审核", "detail": {"file": file, "row": number,
                                                               "value": kind_label, "kind": kind.value}})
            if kind is InstitutionKind.INSTITUTION:
                kind_label = ""
        chain, chain_other = read_chain(row.get("chain"))
        if chain_other:
            warnings.append({"code": "unknown_chain", "message": f"{file}：{where}的链条环节“{'、'.join(chain_other)}”"
                             "不在创造、运用、保护、人才之中，已保留并列出，但不替代这四个环节",
                             "detail": {"file": file, "row": number, "value": list(chain_other)}})
        out.append(Institution(
            name=row["name"], credit_code=row.get("credit_code", "").strip(), lon=float(lon), lat=float(lat),
            kind=kind, kind_label=kind_label, services=tuple(split_values(row.get("services"))),
            chain=chain, chain_other=chain_other,
            address=row.get("address", ""), building=row.get("building", ""), floor=row.get("floor", ""),
        ))
    return out, warnings


def from_table(source: Source, crs: str | None, *, buildings: tuple[Building, ...] = (),
               boundary: Any = None, keep_unlocated: bool = False) -> tuple[list[Institution], dict[str, Any],
                                                                            list[dict]]:
    """Institutions from a table. 经度/纬度 are optional: a 入驻机构名录 usually gives 楼栋/楼层/房间 instead, and a
    row whose 楼栋 names a building of the layout is placed at that building (located_by "building").

    A row with neither is refused, unless ``keep_unlocated`` (uploads): then it is left out of the institutions
    returned and listed in the record's ``unlocated`` (each a register row with lon/lat None and its file row
    number in ``row``), to be placed by address (the geocoder) or on the map before the register is submitted."""
    required = (("name",),) if keep_unlocated else (("name",), ("lon", "building"), ("lat", "building"))
    table = read_table(source, role="institutions", required=required)
    found = Findings(file=source.name, layer="institutions")
    fields = set(table.rows[0]) if table.rows else set()
    if ("lon" in fields) != ("lat" in fields):  # one of the pair: a column lost, not a list without coordinates
        has, lacks = ("经度", "纬度/lat") if "lon" in fields else ("纬度", "经度/lon")
        found.add("missing_columns", f"缺少必需的列：{lacks}（文件“{source.name}”有{has}列而没有{lacks.split('/')[0]}列；"
                  "经纬度须成对填写，或两列都不要而按楼栋、地址定位）", row=1)
        found.raise_if_any()
    by_building = _building_points(buildings, boundary)
    kept_rows, kept_numbers, xs, ys, placed = [], [], [], [], []
    unlocated: list[tuple[int, dict[str, str]]] = []
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        x, y = parse_float(row.get("lon")), parse_float(row.get("lat"))
        if x is not None and y is not None:
            kept_rows.append(row)
            kept_numbers.append(number)
            xs.append(x)
            ys.append(y)
            continue
        written = f"{row.get('lon', '')}{row.get('lat', '')}".strip()
        point = by_building.get(building_key(row.get("building", "")))
        if point is not None and not written:
            placed.append((number, row, point))
            continue
        if written:
            found.add("bad_coordinate", f"第{number}行（{row.get('name', '')}）的经纬度“{row.get('lon', '')}, "
                      f"{row.get('lat', '')}”无法识别", row=number)
        elif keep_unlocated:
            unlocated.append((number, row))
        else:
            found.add("institution_not_located", _not_located(number, row, buildings), row=number,
                      building=row.get("building", ""))
    _check_values(table.rows, table.row_numbers, found, "第")
    found.raise_if_any()
    lons, lats, warnings = np.empty(0), np.empty(0), []
    label = "按楼栋定位" if placed else "未定位"
    if kept_rows:
        xs_arr, ys_arr = np.array(xs), np.array(ys)
        choice = (crs_resolve.parse_crs(crs, file=source.name, role="institutions") if crs else
                  _infer_rows(xs_arr, ys_arr, source.name))
        lons, lats = crs_resolve.to_storage(xs_arr, ys_arr, choice)
        _check_rows(source.name, kept_rows, kept_numbers, lons, lats, choice.label)
        label, warnings = choice.label, list(choice.warnings)
    built, more = _build(kept_rows, kept_numbers, lons, lats, source.name)
    by_row, more_placed = _build([r for _, r, _ in placed], [n for n, _, _ in placed],
                                 np.array([p.x for _, _, p in placed]), np.array([p.y for _, _, p in placed]),
                                 source.name)
    by_row = [dataclasses.replace(i, located_by="building") for i in by_row]
    order = {n: k for k, n in enumerate(table.row_numbers)}
    numbered = sorted([*zip(kept_numbers, built, strict=True), *zip([n for n, _, _ in placed], by_row, strict=True)],
                      key=lambda pair: order[pair[0]])
    located = [{"row": n, "name": i.name, "located_by": i.located_by, "building": i.building} for n, i in numbered]
    if placed:
        names = "、".join(f"第{n}行（{r['name']}，{r.get('building')}）" for n, r, _ in placed[:5])
        more_text = f"等{len(placed)}家" if len(placed) > 5 else ""
        warnings.append({"code": "located_by_building", "message": f"{source.name}：{names}{more_text}没有经纬度，"
                         "按楼栋定位（置于所填楼栋的建筑内）", "detail": {"file": source.name,
                                                          "rows": [n for n, _, _ in placed]}})
    record: dict[str, Any] = {"crs": label, "features": len(numbered), "encoding": table.encoding,
                              "located": located}
    if unlocated:
        rows_u, numbers_u = [r for _, r in unlocated], [n for n, _ in unlocated]
        nan = np.full(len(unlocated), np.nan)
        kept_u, more_u = _build(rows_u, numbers_u, nan, nan, source.name)
        record["unlocated"] = [register.to_row(i) | {"lon": None, "lat": None, "located_by": "", "row": n}
                               for n, i in zip(numbers_u, kept_u, strict=True)]
        warnings.append(unlocated_warning(source.name, [(n, r.get("name", "")) for n, r in unlocated]))
        more_placed += more_u
    return [i for _, i in numbered], record, [*warnings, *more, *more_placed]


def unlocated_warning(file: str, rows: list[tuple[int, str]]) -> dict[str, Any]:
    """The warning naming the rows kept without a point (file row number, name)."""
    names = "、".join(f"第{n}行（{name}）" for n, name in rows[:5]) + (f"等{len(rows)}家" if len(rows) > 5 else "")
    return {"code": "institutions_unlocated",
            "message": f"{file}：{names}没有经纬度，也没有布局中的楼栋，尚未定位（{len(rows)}家机构尚未定位，未计入核验）；"
                       "请在机构名录草稿页面确认按地址定位的结果或在地图上点击放置，全部定位后才能提交",
            "detail": {"file": file, "rows": [n for n, _ in rows], "count": len(rows)}}


def building_key(text: object) -> str:
    """A 楼栋 as compared with building names: width, case and blanks ignored, “#” read as 号 (1#楼 = 1号楼)."""
    key = unicodedata.normalize("NFKC", str(text or "")).lower()
    return "".join(key.split()).replace("#", "号")


def _building_points(buildings: tuple[Building, ...], boundary: Any) -> dict[str, Any]:
    """Each building's representative point, taken in its part inside the boundary when it has one, so an
    institution placed by 楼栋 is inside the zone exactly when its building is."""
    points: dict[str, Any] = {}
    for b in buildings:
        shape = b.footprint
        if boundary is not None and shape.intersects(boundary):
            inside = shape.intersection(boundary)
            if inside.area > 0:
                shape = inside
        points.setdefault(building_key(b.name), shape.representative_point())
    return points


def _not_located(number: int, row: dict[str, str], buildings: tuple[Building, ...]) -> str:
    where = f"第{number}行（{row.get('name', '')}）"
    building = row.get("building", "").strip()
    known = "、".join(b.name for b in buildings[:8]) + ("等" if len(buildings) > 8 else "")
    if not buildings:
        return (f"{where}没有经度/纬度，无法定位；请填写经度/纬度，或同时上传含该楼栋的建筑图层后按楼栋定位"
                + (f"（所填楼栋“{building}”）" if building else ""))
    if building:
        return (f"{where}没有经度/纬度，所填楼栋“{building}”不是布局中的建筑（布局中的建筑：{known}）；"
                "请填写经度/纬度或布局中的楼栋名称")
    return f"{where}没有经度/纬度，也没有楼栋；请填写经度/纬度，或填写布局中的楼栋名称（{known}）"


def _infer_rows(xs: np.ndarray, ys: np.ndarray, file: str) -> crs_resolve.CrsChoice:
    """Infer from the rows that look right, so that one bad row is named rather than the whole table refused."""
    good = np.array([inside_jiangsu(x, y) for x, y in zip(xs, ys, strict=True)], dtype=bool)
    if good.any():
        return crs_resolve.infer(xs[good], ys[good], file=file, role="institutions")
    return crs_resolve.infer(xs, ys, file=file, role="institutions")


def from_vector(source: Source, crs: str | None, layer: str | None) -> tuple[list[Institution], dict, list[dict]]:
    vector = read_vector(source, role="institutions", crs=crs, layer=layer)
    found = Findings(file=source.name, layer="institutions")
    columns = match_columns(vector.table.columns, INSTITUTION_COLUMNS)
    rows, lons, lats, numbers = [], [], [], []
    records = vector.table.to_dict("records")
    for i, (geom, raw) in enumerate(zip(vector.geometries, records, strict=True), start=1):
        row = {f: ("" if raw.get(col) is None or raw.get(col) != raw.get(col) else str(raw.get(col)).strip())
               for f, col in columns.items()}
        if geom is None or geom.geom_type != "Point":
            found.add("wrong_geometry_type", f"第{i}个要素（{row.get('name', '')}）应为点", feature=i)
            continue
        rows.append(row)
        numbers.append(i)
        lons.append(geom.x)
        lats.append(geom.y)
    if "name" not in columns:
        found.add("missing_columns", "机构图层缺少“名称/name”属性", feature=1)
    else:
        _check_values(rows, numbers, found, "第")
    found.raise_if_any()
    record = {"crs": vector.crs, "features": len(rows), "encoding": vector.encoding}
    built, warnings = _build(rows, numbers, np.array(lons), np.array(lats), source.name, what="个要素")
    return built, record, [*vector.warnings, *warnings]


def _check_rows(file: str, rows: list, numbers: list[int], lons: np.ndarray, lats: np.ndarray, crs: str) -> None:
    """Whole-table checks first (swapped columns, wrong CRS), then the rows that stray outside Jiangsu."""
    inside = np.array([inside_jiangsu(x, y) for x, y in zip(lons, lats, strict=True)], dtype=bool)
    if inside.all():
        return
    if not inside.any():
        crs_resolve.check_in_jiangsu(lons, lats, file=file, role="institutions", crs=crs)
    found = Findings(file=file, layer="institutions")
    for number, row, ok, x, y in zip(numbers, rows, inside, lons, lats, strict=True):
        if ok:
            continue
        hint = "（经纬度似乎颠倒）" if inside_jiangsu(y, x) else ""
        found.add("coordinates_swapped" if hint else "outside_jiangsu",
                  f"第{number}行（{row.get('name')}）的坐标（{x:.6f}, {y:.6f}）不在江苏省范围内{hint}",
                  row=number, coordinate=[round(float(x), 6), round(float(y), 6)])
    found.raise_if_any()


__all__ = ["from_table", "from_vector", "shapely"]
