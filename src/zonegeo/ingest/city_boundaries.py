"""The 设区市 boundaries the cross-zone check compares each zone with (services/integrity.py): a vector file the
bureau supplies from a source it may use (the project ships none), named by ``ZONEGEO_CITY_BOUNDARIES``. One
polygon (or multipolygon) per city, its name in a field called 名称, name or NAME ("南京市"); any CRS GDAL knows,
reprojected to CGCS2000 (EPSG:4490). Bounded: file size, features and vertices; read once per file version."""

from __future__ import annotations

import functools
from pathlib import Path

import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.errors import ConfigError

MAX_BYTES = 64 << 20
MAX_FEATURES = 200
MAX_VERTICES = 2_000_000
NAME_FIELDS = ("名称", "name", "NAME")


def load(path: str) -> dict[str, BaseGeometry]:
    """City name → its boundary (EPSG:4490). A missing, unreadable or unsuitable file is a Chinese ConfigError."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError("city_boundaries_missing", f"设区市边界文件“{path}”不存在（ZONEGEO_CITY_BOUNDARIES）",
                          {"path": path})
    stat = file.stat()
    return dict(_load(str(file), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _load(path: str, size: int, mtime_ns: int) -> tuple[tuple[str, BaseGeometry], ...]:
    if size > MAX_BYTES:
        raise ConfigError("city_boundaries_too_large", f"设区市边界文件“{path}”超过{MAX_BYTES >> 20} MB", {"path": path})
    try:
        info = pyogrio.read_info(path)
        if info["features"] > MAX_FEATURES:
            raise ConfigError("city_boundaries_too_many", f"设区市边界文件“{path}”有{info['features']}个要素，"
                              f"超过{MAX_FEATURES}个", {"path": path})
        field = next((f for f in NAME_FIELDS if f in list(info["fields"])), None)
        if field is None:
            raise ConfigError("city_boundaries_no_name", f"设区市边界文件“{path}”没有名称字段（{'、'.join(NAME_FIELDS)}）",
                              {"path": path, "fields": list(info["fields"])})
        frame = pyogrio.read_dataframe(path, columns=[field])
    except ConfigError:
        raise
    except Exception as exc:  # GDAL's many ways to say a file cannot be read
        raise ConfigError("city_boundaries_unreadable", f"无法读取设区市边界文件“{path}”：{exc}", {"path": path}) from None
    if frame.crs is None:
        raise ConfigError("city_boundaries_no_crs", f"设区市边界文件“{path}”没有坐标系", {"path": path})
    frame = frame.to_crs(4490)
    if int(shapely.get_num_coordinates(frame.geometry.values).sum()) > MAX_VERTICES:
        raise ConfigError("city_boundaries_too_detailed", f"设区市边界文件“{path}”的顶点超过{MAX_VERTICES:,}个",
                          {"path": path})
    out: dict[str, BaseGeometry] = {}
    for name, geom in zip(frame[field], frame.geometry, strict=True):
        name = str(name).strip()
        if name not in JIANGSU_CITIES or geom is None or geom.is_empty:
            continue  # another province's city, or nothing drawn: not a 设区市 of Jiangsu
        geom = shapely.make_valid(geom)
        out[name] = shapely.union(out[name], geom) if name in out else geom
    if not out:
        raise ConfigError("city_boundaries_empty", f"设区市边界文件“{path}”中没有江苏省设区市的边界", {"path": path})
    return tuple(out.items())
