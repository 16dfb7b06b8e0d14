"""Which CRS a layer's coordinates are in (given, declared or inferred) and bringing them to EPSG:4490."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError

from zonegeo.domain import chinacoords
from zonegeo.domain.crs import JIANGSU_BOUNDS, JIANGSU_GK_ZONES, STORAGE_EPSG, gk3_epsg, inside_jiangsu, transformer
from zonegeo.errors import InputError

# Geographic CRSs whose lon/lat are taken as CGCS2000 as they are (they differ by centimetres).
_SAME_AS_STORAGE = {4490, 4326, 4269, 4258}
_OFFSET_SYSTEMS = {"gcj02": "GCJ-02（高德/腾讯地图坐标）", "bd09": "BD-09（百度地图坐标）"}
# In Jiangsu, GK northings lie in 3.40–3.92 million metres; prefixed eastings are 39/40/41 million + 0–1 million.
_NORTHING = (3.3e6, 4.0e6)
_EASTING_BARE = (2.0e5, 8.0e5)


@dataclass(frozen=True)
class CrsChoice:
    """A CRS to read coordinates in: an EPSG/pyproj CRS, or one of the Chinese offset systems."""

    label: str
    crs: CRS | None = None
    offset: str | None = None  # "gcj02" or "bd09"
    how: str = "declared"  # declared | given | inferred
    warnings: list[dict[str, Any]] = field(default_factory=list)


# Named systems a user may give besides EPSG codes (the Chinese offset systems and two common names).
_NAMED_EPSG = {"cgcs2000": 4490, "wgs84": 4326}
_EPSG_TEXT = re.compile(r"^(?:epsg\s*:\s*)?(\d{4,6})$", re.IGNORECASE)


def parse_crs(text: str, *, file: str, role: str) -> CrsChoice:
    """A user-given CRS: ``EPSG:4549``, ``4549``, ``gcj02``, ``bd09``, ``cgcs2000`` or ``wgs84`` — nothing else.
    PROJ strings, WKT, URLs and file paths are refused: ``+nadgrids=`` or ``+init=`` make PROJ open files
    (or fetch grids) named by the user."""
    raw = str(text).strip()
    key = raw.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in _OFFSET_SYSTEMS:
        return CrsChoice(label=key, offset=key, how="given")
    match = _EPSG_TEXT.match(raw)
    code = int(match.group(1)) if match else _NAMED_EPSG.get(key)
    shown = raw if len(raw) <= 60 else raw[:60] + "…"
    where = {"file": file, "role": role, "crs": shown, "field": "crs"}
    if code is None:
        raise InputError("invalid_crs", f"坐标系“{shown}”不予接受：只能填写EPSG代码（如EPSG:4549）或gcj02、bd09、"
                         "cgcs2000、wgs84", where)
    try:
        crs = CRS.from_epsg(code)
    except CRSError as exc:
        raise InputError("invalid_crs", f"无法识别的坐标系“{shown}”：EPSG中没有代码{code}", where) from exc
    return _with_datum_warning(CrsChoice(label=crs_label(crs), crs=crs, how="given"), file)


def declared(crs: CRS, *, file: str) -> CrsChoice:
    return _with_datum_warning(CrsChoice(label=crs_label(crs), crs=crs), file)


def crs_label(crs: CRS | None) -> str:
    if crs is None:
        return "未声明"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def is_lonlat(label: str | None) -> bool:
    """Whether a layer read under ``label`` (a read's ``crs`` record: ``EPSG:4490`` …) was in longitude/latitude,
    where only the applicant knows whether the numbers came from a map with an offset (GCJ-02, BD-09)."""
    match = _EPSG_TEXT.match(str(label or "").strip())
    if not match:
        return False
    try:
        return bool(CRS.from_epsg(int(match.group(1))).is_geographic)
    except CRSError:
        return False


def _with_datum_warning(choice: CrsChoice, file: str) -> CrsChoice:
    name = choice.crs.name if choice.crs else ""
    if any(k in name.lower() for k in ("xian", "beijing", "1980", "1954")):
        choice.warnings.append({"code": "datum_shift_unknown",
                                "message": f"{file}使用{name}：PROJ中该坐标系与CGCS2000之间没有精确的"
                                           "转换参数，换算结果可能有数米偏差，请尽量提供CGCS2000坐标",
                                "detail": {"file": file, "crs": choice.label}})
    return choice


def _share(values: np.ndarray, low: float, high: float) -> bool:
    return bool(((values >= low) & (values <= high)).all())


def infer(xs: np.ndarray, ys: np.ndarray, *, file: str, role: str, axis_note: str = "",
          lonlat_possible: bool = True) -> CrsChoice:
    """Guess the CRS of coordinates that came without one — only where the numbers leave no doubt."""
    where = {"file": file, "role": role, "sample": [round(float(xs[0]), 3), round(float(ys[0]), 3)]}
    west, south, east, north = JIANGSU_BOUNDS
    if _share(xs, west, east) and _share(ys, south, north):
        return CrsChoice(label="EPSG:4490", crs=CRS.from_epsg(STORAGE_EPSG), how="inferred", warnings=[{
            "code": "crs_assumed",
            "message": f"{file}未声明坐标系，按CGCS2000经纬度读取；若坐标取自高德/腾讯（GCJ-02）或百度（BD-09）地图，"
                       "会有数百米偏差，请声明坐标系",
            "detail": {"file": file, "role": role}}])
    if _share(ys, west, east) and _share(xs, south, north):
        raise InputError("coordinates_swapped", f"{file}：经纬度似乎颠倒（第一个点为{xs[0]}, {ys[0]}），请确认经度在前、纬度在后",
                         where)
    for zone in JIANGSU_GK_ZONES:
        if _share(xs, zone * 1e6 + _EASTING_BARE[0], zone * 1e6 + _EASTING_BARE[1]) and _share(ys, *_NORTHING):
            epsg = gk3_epsg(zone, prefixed=True)
            return CrsChoice(label=f"EPSG:{epsg}", crs=CRS.from_epsg(epsg), how="inferred", warnings=[{
                "code": "crs_inferred",
                "message": f"{file}未声明坐标系；东坐标带有带号{zone}，按CGCS2000 3度带高斯-克吕格投影第{zone}带"
                           f"（EPSG:{epsg}）读取",
                "detail": {"file": file, "role": role, "crs": f"EPSG:{epsg}"}}])
        if _share(ys, zone * 1e6 + _EASTING_BARE[0], zone * 1e6 + _EASTING_BARE[1]) and _share(xs, *_NORTHING):
            raise InputError("coordinates_swapped",
                             f"{file}：坐标似乎颠倒（X应为北坐标约3,400,000–3,920,000，Y应为东坐标）{axis_note}", where)
    if _share(xs, *_EASTING_BARE) and _share(ys, *_NORTHING):
        candidates = [f"EPSG:{gk3_epsg(z, prefixed=False)}" for z in JIANGSU_GK_ZONES]
        named = "、".join(f"{c}（中央经线{cm}°E）" for c, cm in zip(candidates, (117, 120, 123), strict=True))
        raise InputError("crs_ambiguous",
                         f"{file}：坐标像是高斯-克吕格投影坐标，但东坐标没有带号，无法判断中央经线；请指定坐标系：{named}",
                         where | {"candidates": candidates})
    if _share(ys, *_EASTING_BARE) and _share(xs, *_NORTHING):
        raise InputError("coordinates_swapped",
                         f"{file}：坐标似乎颠倒（X应为北坐标约3,400,000–3,920,000，Y应为东坐标）{axis_note}", where)
    if lonlat_possible and _share(xs, -180, 180) and _share(ys, -90, 90):
        # lon/lat, but not in Jiangsu: the region check names the centroid
        return CrsChoice(label="EPSG:4490", crs=CRS.from_epsg(STORAGE_EPSG), how="inferred")
    raise InputError("crs_unknown",
                     f"{file}：未声明坐标系，坐标（如{xs[0]:.3f}, {ys[0]:.3f}）既不是江苏省内的经纬度，也不是高斯-克吕格"
                     "投影坐标（可能是CAD的本地坐标）；请提供带坐标系的文件或指定坐标系",
                     where)


def to_storage(xs: np.ndarray, ys: np.ndarray, choice: CrsChoice) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``choice`` (x = easting/lon) to CGCS2000 lon/lat."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if choice.offset == "gcj02":
        return chinacoords.gcj02_to_wgs84(xs, ys)
    if choice.offset == "bd09":
        return chinacoords.bd09_to_wgs84(xs, ys)
    assert choice.crs is not None
    if choice.crs.to_epsg() in _SAME_AS_STORAGE:
        return xs, ys
    lon, lat = transformer(choice.crs.to_wkt(), STORAGE_EPSG).transform(xs, ys)
    return np.asarray(lon), np.asarray(lat)


def check_in_jiangsu(lons: np.ndarray, lats: np.ndarray, *, file: str, role: str, crs: str) -> None:
    """Refuse coordinates that do not land in Jiangsu, saying whether lon/lat look swapped."""
    if len(lons) == 0:
        return
    lon_c, lat_c = float(np.mean(lons)), float(np.mean(lats))
    west, south, east, north = JIANGSU_BOUNDS
    ok = (lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)
    if ok.all():
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
    i = int(np.flatnonzero(~ok)[0])
    where["coordinate"] = [round(float(lons[i]), 6), round(float(lats[i]), 6)]
    raise InputError("outside_jiangsu",
                     f"{file}：有{int((~ok).sum())}个坐标点不在江苏省范围内，如（{lons[i]:.6f}, {lats[i]:.6f}）", where)
