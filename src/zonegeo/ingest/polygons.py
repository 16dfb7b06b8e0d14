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
    indices: np.ndarray  # position of each polygon's feature in the input
    warnings: list[dict[str, Any]] = field(default_factory=list)


def reason_text(reason: str) -> str:
    """GEOS's invalidity reason in Chinese (prefix match: GEOS appends details and the location)."""
    head = reason.split("[")[0]
    return next((text for key, text in _REASONS.items() if head.startswith(key)), head)


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


def extract(geoms: Any, layers: list[str], *, file: str, role: str, fmt: str, repair: bool = False,
            max_repair_vertices: int = 100_000) -> PolygonSet:
    """Check every feature; polygons come back as MultiPolygons, problems as one located error.
    Vectorised: the per-feature Python work is only for the features that have something to report."""
    found = Findings(file=file, layer=role)
    warnings: list[dict[str, Any]] = []
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    numbers = np.arange(1, len(arr) + 1)
    if fmt == "dxf" and (keep := _select_dxf_layers(layers, role)) is not None:
        selected = np.array([layer in keep for layer in layers], dtype=bool)
        arr, numbers = arr[selected], numbers[selected]
    layer_of = np.asarray(layers, dtype=object)
    empty = shapely.is_missing(arr) | shapely.is_empty(arr)
    kind = shapely.get_type_id(arr)
    polygonal = ~empty & np.isin(kind, (3, 6))
    for k in np.flatnonzero(empty):
        i = int(numbers[k])
        found.add("empty_geometry", f"{_label(layer_of[i - 1], i, fmt)}没有几何图形", feature=i,
                  source_layer=layer_of[i - 1])
    open_lines, skipped = _non_polygons(arr, kind, ~empty & ~polygonal, numbers, layer_of, found, fmt=fmt)

    idx = np.flatnonzero(polygonal)
    deduped, repeated = _without_repeated_points(arr[idx])
    if repeated.any():
        warnings.append({"code": "duplicate_vertices",
                         "message": f"{file}：{int((repeated > 0).sum())}个要素共有{int(repeated.sum())}个连续重复顶点，已去除",
                         "detail": {"file": file, "role": role,
                                    "features": numbers[idx[repeated > 0]][:50].tolist()}})
    valid = shapely.is_valid(deduped)
    keep_mask = np.ones(len(idx), dtype=bool)
    for k in np.flatnonzero(~valid):
        i = int(numbers[idx[k]])
        where = _label(layer_of[i - 1], i, fmt)
        reason = shapely.is_valid_reason(deduped[k])
        kind_text = reason_text(reason)
        vertices = int(shapely.get_num_coordinates(deduped[k]))
        if repair and vertices > max_repair_vertices:  # make_valid is superlinear: bounded before it runs
            found.add("too_many_vertices_to_repair", f"{where}几何无效（{kind_text}），有{vertices}个顶点，超过自动修复的上限"
                      f"{max_repair_vertices}个；请在原软件中修复后重新导出", feature=i, source_layer=layer_of[i - 1],
                      reason=reason, vertices=vertices, limit=max_repair_vertices)
            keep_mask[k] = False
            continue
        if not repair:
            found.add("invalid_geometry", f"{where}几何无效：{kind_text}", feature=i, source_layer=layer_of[i - 1],
                      reason=reason, coordinate=_location(reason))
            keep_mask[k] = False
            continue
        deduped[k] = _as_multi(shapely.make_valid(deduped[k]))
        warnings.append({"code": "repaired", "message": f"{file}：{where}几何无效（{kind_text}），已按要求自动修复",
                         "detail": {"file": file, "role": role, "feature": i, "reason": reason,
                                    "coordinate": _location(reason)}})
    idx, deduped = idx[keep_mask], deduped[keep_mask]
    multis = _to_multi(deduped)
    _check_areas(multis, deduped, numbers[idx], layer_of, found, warnings, file=file, role=role, fmt=fmt)
    if open_lines and not len(idx):
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
    if not len(idx) and not found.errors:
        found.add("no_polygons", f"{file}中没有可用的面要素", feature=0)
    found.raise_if_any()
    return PolygonSet(list(multis), numbers[idx] - 1, warnings)


def _without_repeated_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop consecutive duplicate vertices; find them on the coordinate array first, so that only the
    geometries that have some are rebuilt."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    same = (coords[1:] == coords[:-1]).all(axis=1) & (owner[1:] == owner[:-1])
    affected = np.unique(owner[1:][same])
    if not len(affected):
        return geoms, np.zeros(len(geoms), dtype=int)
    out = geoms.copy()
    out[affected] = shapely.remove_repeated_points(geoms[affected])
    repeated = np.zeros(len(geoms), dtype=int)
    repeated[affected] = shapely.get_num_coordinates(geoms[affected]) - shapely.get_num_coordinates(out[affected])
    return out, repeated


def _non_polygons(arr, kind, mask, numbers, layer_of, found: Findings, *, fmt: str):
    open_lines: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for k in np.flatnonzero(mask):
        i, geom = int(numbers[k]), arr[k]
        if fmt == "dxf" and kind[k] in (1, 5):  # LineString, MultiLineString: an open polyline
            first = shapely.get_coordinates(geom)[0]
            open_lines.append({"feature": i, "source_layer": layer_of[i - 1],
                               "coordinate": [round(float(first[0]), 7), round(float(first[1]), 7)]})
        elif fmt in ("dxf", "kml", "kmz"):
            skipped[geom.geom_type] += 1
        else:
            found.add("wrong_geometry_type", f"{_label(layer_of[i - 1], i, fmt)}是{geom.geom_type}，应为面（Polygon）",
                      feature=i, source_layer=layer_of[i - 1])
    return open_lines, skipped


def _to_multi(geoms: np.ndarray) -> np.ndarray:
    """Each geometry as a MultiPolygon of its polygon parts; plain Polygons are wrapped in one vectorised call."""
    out = np.empty(len(geoms), dtype=object)
    if not len(geoms):
        return out
    kind = shapely.get_type_id(geoms)
    single = kind == 3
    if single.any():
        out[single] = shapely.multipolygons(geoms[single][:, None])
    for k in np.flatnonzero(~single):
        out[k] = _as_multi(geoms[k])
    return out


def _check_areas(multis: np.ndarray, geoms: np.ndarray, numbers: np.ndarray, layer_of, found: Findings,
                 warnings: list, *, file: str, role: str, fmt: str) -> None:
    """Zero-area parts are errors, slivers warnings. A planar estimate finds the candidates; only those
    get a geodesic area. ``geoms`` are the polygons ``multis`` were made of: a plain Polygon is its own only part,
    so that most features are measured without extracting (copying) a part."""
    if not len(multis):
        return
    multi_part = shapely.get_num_geometries(multis) > 1
    several = np.flatnonzero(multi_part)
    owner = np.flatnonzero(~multi_part)
    parts = geoms[owner]
    wrapped = shapely.get_type_id(parts) != 3  # a repaired or multi-part input: its one part is taken out
    if wrapped.any():
        parts[wrapped] = shapely.get_geometry(multis[owner[wrapped]], 0)
    if len(several):
        more, more_owner = shapely.get_parts(multis[several], return_index=True)
        parts = np.concatenate([parts, more])
        owner = np.concatenate([owner, several[more_owner]])
    lat = shapely.bounds(parts)[:, 1]
    approx_m2 = shapely.area(parts) * (111_320.0**2) * np.cos(np.radians(np.nan_to_num(lat)))
    for k in np.flatnonzero(approx_m2 < 2 * SLIVER_M2):
        i = int(numbers[owner[k]])
        where = _label(layer_of[i - 1], i, fmt)
        area = geodesic_area_m2(parts[k])
        point = [round(c, 7) for c in parts[k].representative_point().coords[0]]
        if area <= 1e-6:
            found.add("zero_area", f"{where}有面积为零的部分", feature=i, coordinate=point)
        elif area < SLIVER_M2:
            warnings.append({"code": "sliver", "message": f"{file}：{where}有面积仅{area:.2f}平方米的碎片",
                             "detail": {"file": file, "role": role, "feature": i, "coordinate": point}})


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
