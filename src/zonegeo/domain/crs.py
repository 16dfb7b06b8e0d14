"""Coordinate reference systems: CGCS2000 (EPSG:4490) storage, Gauss-Kruger zones, cached transformers."""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

STORAGE_EPSG = 4490  # CGCS2000 geographic, lon/lat
# Jiangsu's extent in lon/lat, with a margin of about 0.3 degrees (30 km) for zones near the border.
JIANGSU_BOUNDS = (116.0, 30.4, 122.3, 35.5)


# First EPSG code of each datum's 3-degree GK series: (zone 25 with the zone prefix, CM 75°E without it).
GK3_SERIES = {"CGCS2000": (4513, 4534), "Xian1980": (2349, 2370), "Beijing1954": (2401, 2422)}
JIANGSU_GK_ZONES = (39, 40, 41)  # central meridians 117°E, 120°E, 123°E


def gk3_epsg(zone: int, *, prefixed: bool, datum: str = "CGCS2000") -> int:
    """EPSG code of a 3-degree Gauss-Kruger zone (zone 39 = CM 117°E) with or without the zone prefix."""
    with_prefix, without = GK3_SERIES[datum]
    return with_prefix + zone - 25 if prefixed else without + zone - 25


def gk_cm_epsg(lon_deg: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Kruger zone (central meridian, no zone prefix)
    that contains ``lon_deg``: EPSG:4534 is CM 75°E, one code per 3 degrees up to 4554 (CM 135°E)."""
    cm = 3 * round(lon_deg / 3)
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


@lru_cache(maxsize=64)
def transformer(src: str | int, dst: str | int) -> Transformer:
    """A lon/lat-ordered transformer, built once per process (creation costs ~80 ms)."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def inside_jiangsu(lon: float, lat: float) -> bool:
    west, south, east, north = JIANGSU_BOUNDS
    return west <= lon <= east and south <= lat <= north
