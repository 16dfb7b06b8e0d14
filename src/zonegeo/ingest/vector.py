"""Polygon layers (四至 boundary, 核心区 core, buildings) read with GDAL through pyogrio."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon

from zonegeo.errors import InputError
from zonegeo.ingest.crs_resolve import check_in_jiangsu, crs_label, parse_crs, to_storage
from zonegeo.ingest.findings import Findings


@dataclass
class VectorLayer:
    """Geometries in EPSG:4490 with their attribute rows and what was read."""

    geometries: list[Any]
    rows: list[dict[str, Any]]
    crs: str
    warnings: list[dict[str, Any]]


def read_vector(path: Path, *, role: str, crs: str | None = None) -> VectorLayer:
    file = path.name
    try:
        df = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio/GDAL errors: translated here, at the edge where they arise
        raise InputError("unreadable_file", f"{file}：文件无法解析（{exc}）", {"file": file, "role": role}) from exc
    if len(df) == 0:
        raise InputError("empty_layer", f"{file}：图层中没有要素", {"file": file, "role": role})
    source_crs = parse_crs(crs, file=file, role=role) if crs else (df.crs if df.crs is not None else None)
    warnings: list[dict[str, Any]] = []
    if source_crs is None:
        source_crs = CRS.from_epsg(4490)
        warnings.append({"code": "crs_assumed", "message": f"{file}未声明坐标系，按CGCS2000经纬度读取",
                         "detail": {"file": file, "role": role}})
    geoms = np.asarray(df.geometry.values, dtype=object)
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        warnings.append({"code": "z_dropped", "message": f"{file}中的高程（Z）值已忽略",
                         "detail": {"file": file, "role": role}})
    coords = shapely.get_coordinates(geoms)
    lon, lat = to_storage(coords[:, 0], coords[:, 1], source_crs)
    label = crs_label(source_crs)
    check_in_jiangsu(np.asarray(lon), np.asarray(lat), file=file, role=role, crs=label)
    geoms = shapely.set_coordinates(geoms.copy(), np.column_stack([lon, lat]))
    rows = df.drop(columns="geometry").to_dict("records")
    return VectorLayer(list(geoms), rows, label, warnings)


def _location(reason: str) -> list[float] | None:
    """The coordinate GEOS puts in an invalidity reason, e.g. ``Self-intersection[118.1 32.0]``."""
    if "[" not in reason:
        return None
    try:
        x, y = reason[reason.index("[") + 1 : reason.index("]")].split()[:2]
        return [round(float(x), 7), round(float(y), 7)]
    except ValueError:
        return None


_REASONS = {"Self-intersection": "边界自相交", "Ring Self-intersection": "环自相交",
            "Too few points": "顶点过少", "Hole lies outside shell": "内环位于外环之外",
            "Nested shells": "多个外环相互嵌套", "Interior is disconnected": "内部不连通",
            "Duplicate Rings": "重复的环", "Nested holes": "内环相互嵌套"}


def polygons(layer: VectorLayer, *, file: str, role: str) -> list[MultiPolygon]:
    """Each feature as a valid MultiPolygon; anything else is a located finding."""
    found = Findings(file=file, layer=role)
    out: list[MultiPolygon] = []
    for i, geom in enumerate(layer.geometries, start=1):
        if geom is None or geom.is_empty:
            found.add("empty_geometry", f"第{i}个要素没有几何图形", feature=i)
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            found.add("wrong_geometry_type", f"第{i}个要素是{geom.geom_type}，应为面（Polygon）", feature=i)
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            kind = reason.split("[")[0]
            found.add("invalid_geometry", f"第{i}个要素几何无效：{_REASONS.get(kind, kind)}", feature=i,
                      reason=reason, coordinate=_location(reason))
            continue
        out.append(geom if geom.geom_type == "MultiPolygon" else MultiPolygon([geom]))
    found.raise_if_any()
    return out
