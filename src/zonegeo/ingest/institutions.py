"""Institutions and platforms from a table (CSV/XLSX rows with lon/lat) or a point layer."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from zonegeo.domain.crs import inside_jiangsu
from zonegeo.domain.model import Institution, InstitutionKind
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


def from_table(source: Source, crs: str | None) -> tuple[list[Institution], dict[str, Any], list[dict]]:
    table = read_table(source, role="institutions")
    found = Findings(file=source.name, layer="institutions")
    kept_rows, kept_numbers, xs, ys = [], [], [], []
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        x, y = parse_float(row.get("lon")), parse_float(row.get("lat"))
        if x is None or y is None:
            found.add("bad_coordinate", f"第{number}行（{row.get('name', '')}）的经纬度“{row.get('lon')}, "
                      f"{row.get('lat')}”无法识别", row=number)
            continue
        kept_rows.append(row)
        kept_numbers.append(number)
        xs.append(x)
        ys.append(y)
    _check_values(table.rows, table.row_numbers, found, "第")
    found.raise_if_any()
    xs_arr, ys_arr = np.array(xs), np.array(ys)
    choice = (crs_resolve.parse_crs(crs, file=source.name, role="institutions") if crs else
              _infer_rows(xs_arr, ys_arr, source.name))
    lons, lats = crs_resolve.to_storage(xs_arr, ys_arr, choice)
    _check_rows(source.name, kept_rows, kept_numbers, lons, lats, choice.label)
    record = {"crs": choice.label, "features": len(kept_rows), "encoding": table.encoding}
    built, warnings = _build(kept_rows, kept_numbers, lons, lats, source.name)
    return built, record, [*choice.warnings, *warnings]


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
