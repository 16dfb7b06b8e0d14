"""Polygon features for the boundary, core and building roles: checked, located findings, optional repair."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sources import ROLE_ALIASES

_REASONS = {"Self-intersection": "边界自相交", "Ring Self-intersection": "环自相交",
            "Too few points": "顶点过少（环至少需要4个点且首尾相同）", "Hole lies outside shell": "内环位于外环之外",
            "Nested shells": "多个外环相互嵌套", "Interior is disconnected": "内部不连通",
            "Duplicate Rings": "重复的环", "Nested holes": "内环相互嵌套", "Invalid Coordinate": "坐标无效"}
SLIVER_M2 = 1.0  # parts smaller than this are digitising debris, not land


@dataclass
class PolygonSet:
    polygons: list[MultiPolygon]
    rows: list[dict[str, Any]]  # the attribute row of each polygon
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _location(reason: str) -> list[float] | None:
    """The coordinate GEOS puts in an invalidity reason, e.g. ``Self-intersection[118.1 32.0]``."""
    if "[" not in reason:
        return None
    try:
        x, y = reason[reason.index("[") + 1 : reason.index("]")].split()[:2]
        return [round(float(x), 7), round(float(y), 7)]
    except ValueError:
        return None


def _as_multi(geom) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return MultiPolygon(parts)


def _label(layer: str, i: int, fmt: str) -> str:
    return f"图层“{layer}”第{i}个要素" if fmt in ("dxf", "kml", "kmz", "gpkg") else f"第{i}个要素"


def _select_dxf_layers(layers: list[str], role: str) -> set[str] | None:
    """DXF drawings mix layers; a layer named like the role (红线, 核心区, 建筑…) is the one to read."""
    aliases = ROLE_ALIASES.get(role, ())
    named = {name for name in layers if name.strip().lower() in aliases}
    return named or None


def extract(geoms: list[Any], rows: list[dict[str, Any]], layers: list[str], *, file: str, role: str, fmt: str,
            repair: bool = False) -> PolygonSet:
    """Check every feature; polygons come back as MultiPolygons, problems as one located error."""
    found = Findings(file=file, layer=role)
    warnings: list[dict[str, Any]] = []
    keep = _select_dxf_layers(layers, role) if fmt == "dxf" else None
    skipped: Counter[str] = Counter()
    open_lines: list[dict[str, Any]] = []
    out, out_rows = [], []
    for i, (geom, row, layer) in enumerate(zip(geoms, rows, layers, strict=True), start=1):
        if keep is not None and layer not in keep:
            continue
        where = _label(layer, i, fmt)
        if geom is None or geom.is_empty:
            found.add("empty_geometry", f"{where}没有几何图形", feature=i, source_layer=layer)
            continue
        kind = geom.geom_type
        if kind not in ("Polygon", "MultiPolygon"):
            if fmt == "dxf" and kind in ("LineString", "MultiLineString"):
                first = shapely.get_coordinates(geom)[0]
                open_lines.append({"feature": i, "source_layer": layer,
                                   "coordinate": [round(float(first[0]), 7), round(float(first[1]), 7)]})
            elif fmt in ("dxf", "kml", "kmz"):
                skipped[kind] += 1
            else:
                found.add("wrong_geometry_type", f"{where}是{kind}，应为面（Polygon）", feature=i, source_layer=layer)
            continue
        deduped = shapely.remove_repeated_points(geom)
        repeated = len(shapely.get_coordinates(geom)) - len(shapely.get_coordinates(deduped))
        if repeated:
            warnings.append({"code": "duplicate_vertices", "message": f"{file}：{where}有{repeated}个连续重复顶点，已去除",
                             "detail": {"file": file, "role": role, "feature": i, "count": repeated}})
            geom = deduped
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            kind_text = _REASONS.get(reason.split("[")[0], reason.split("[")[0])
            if not repair:
                found.add("invalid_geometry", f"{where}几何无效：{kind_text}", feature=i, source_layer=layer,
                          reason=reason, coordinate=_location(reason))
                continue
            geom = _as_multi(shapely.make_valid(geom))
            warnings.append({"code": "repaired", "message": f"{file}：{where}几何无效（{kind_text}），已按要求自动修复",
                             "detail": {"file": file, "role": role, "feature": i, "reason": reason,
                                        "coordinate": _location(reason)}})
        multi = _as_multi(geom)
        _check_parts(multi, found, warnings, where=where, file=file, role=role, feature=i)
        out.append(multi)
        out_rows.append(row)
    if open_lines and not out:
        first = open_lines[0]
        found.add("open_polyline", f"图层“{first['source_layer']}”中只有未闭合的多段线（{len(open_lines)}条），"
                  "无法确定范围；请在CAD中将边界线闭合", **first)
    elif open_lines:
        layers_text = "、".join(sorted({o["source_layer"] for o in open_lines}))
        warnings.append({"code": "open_polylines_ignored",
                         "message": f"{file}：{len(open_lines)}条未闭合的多段线（图层：{layers_text}）未作为范围读取",
                         "detail": {"file": file, "role": role, "open": open_lines[:20]}})
    if skipped:
        text = "、".join(f"{k}{v}个" for k, v in skipped.items())
        warnings.append({"code": "non_polygons_ignored", "message": f"{file}：非面要素（{text}）已忽略",
                         "detail": {"file": file, "role": role, "counts": dict(skipped)}})
    if not out and not found.errors:
        found.add("no_polygons", f"{file}中没有可用的面要素", feature=0)
    found.raise_if_any()
    return PolygonSet(out, out_rows, warnings)


def _check_parts(multi: MultiPolygon, found: Findings, warnings: list, *, where: str, file: str, role: str,
                 feature: int) -> None:
    for poly in multi.geoms:
        area = geodesic_area_m2(poly)
        point = [round(c, 7) for c in poly.representative_point().coords[0]]
        if area <= 1e-6:
            found.add("zero_area", f"{where}有面积为零的部分", feature=feature, coordinate=point)
        elif area < SLIVER_M2:
            warnings.append({"code": "sliver", "message": f"{file}：{where}有面积仅{area:.2f}平方米的碎片",
                             "detail": {"file": file, "role": role, "feature": feature, "coordinate": point}})


def assemble_area(polygons: list[MultiPolygon], *, file: str, role: str, fmt: str) -> tuple[MultiPolygon, list]:
    """One area for the boundary or core. CAD drawings have no holes, only nested closed polylines: there the
    area is filled even-odd (a ring inside a ring is a hole). Elsewhere parts are unioned."""
    warnings: list[dict[str, Any]] = []
    if fmt == "dxf" and len(polygons) > 1:
        merged = functools.reduce(shapely.symmetric_difference, polygons)
    else:
        merged = shapely.union_all(np.array(polygons, dtype=object))
    multi = _as_multi(merged)
    holes = sum(len(p.interiors) for p in multi.geoms)
    if len(multi.geoms) > 1:
        warnings.append({"code": "multipart", "message": f"{file}：范围由{len(multi.geoms)}块组成",
                         "detail": {"file": file, "role": role, "parts": len(multi.geoms)}})
    if holes:
        warnings.append({"code": "holes", "message": f"{file}：范围内有{holes}处扣除（内环）",
                         "detail": {"file": file, "role": role, "holes": holes}})
    return multi, warnings


__all__ = ["Polygon", "PolygonSet", "assemble_area", "extract"]
