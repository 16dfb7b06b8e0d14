"""Resolving the CRS of a layer (declared, or given by the user) and bringing coordinates to EPSG:4490."""

from __future__ import annotations

import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError

from zonegeo.domain.crs import JIANGSU_BOUNDS, STORAGE_EPSG, inside_jiangsu, transformer
from zonegeo.errors import InputError

# Geographic CRSs whose lon/lat are taken as CGCS2000 as they are (they differ by centimetres).
_SAME_AS_STORAGE = {4490, 4326}  # CGCS2000, WGS84
_NON_EPSG = {"gcj02", "bd09"}


def parse_crs(text: str, *, file: str, role: str) -> CRS:
    """A user-given CRS (``EPSG:4549``, ``4549``…); GCJ-02/BD-09 come with the format work."""
    if text.strip().lower() in _NON_EPSG:
        raise InputError("crs_not_supported", f"暂不支持坐标系“{text}”（GCJ-02/BD-09转换尚未提供）",
                         {"file": file, "role": role, "crs": text})
    try:
        return CRS.from_user_input(text.strip())
    except CRSError as exc:
        raise InputError("invalid_crs", f"无法识别的坐标系“{text}”，应为EPSG代码（如EPSG:4549）",
                         {"file": file, "role": role, "crs": text}) from exc


def crs_label(crs: CRS | None) -> str:
    if crs is None:
        return "未声明"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def to_storage(xs: np.ndarray, ys: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``crs`` (x = easting/lon) to CGCS2000 lon/lat."""
    if crs.to_epsg() in _SAME_AS_STORAGE:
        return xs, ys
    return transformer(crs.to_wkt(), STORAGE_EPSG).transform(xs, ys)


def check_in_jiangsu(lons: np.ndarray, lats: np.ndarray, *, file: str, role: str, crs: str) -> None:
    """Refuse coordinates that do not land in Jiangsu, saying whether lon/lat look swapped."""
    if len(lons) == 0:
        return
    lon_c, lat_c = float(np.mean(lons)), float(np.mean(lats))
    west, south, east, north = JIANGSU_BOUNDS
    if ((lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)).all():
        return
    where = {"file": file, "role": role, "crs": crs, "centroid": [round(lon_c, 6), round(lat_c, 6)]}
    if inside_jiangsu(lat_c, lon_c):
        raise InputError("coordinates_swapped",
                         f"{file}：经纬度似乎颠倒（中心点为{lon_c:.6f}, {lat_c:.6f}，交换后才位于江苏省内），"
                         "请确认经度在前、纬度在后", where)
    if not inside_jiangsu(lon_c, lat_c):
        raise InputError("outside_jiangsu",
                         f"{file}：坐标不在江苏省范围内（按{crs}解读，中心点为{lon_c:.6f}, {lat_c:.6f}），"
                         "请检查坐标系", where)
    bad = np.flatnonzero(~((lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)))
    i = int(bad[0])
    where["coordinate"] = [round(float(lons[i]), 6), round(float(lats[i]), 6)]
    raise InputError("outside_jiangsu",
                     f"{file}：有{len(bad)}个坐标点不在江苏省范围内，如（{lons[i]:.6f}, {lats[i]:.6f}）", where)
