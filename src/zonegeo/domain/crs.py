"""Coordinate reference systems: CGCS2000 (EPSG:4490) storage, Gauss-Kruger zones, cached transformers."""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

STORAGE_EPSG = 4490  # CGCS2000 geographic, lon/lat
# Jiangsu's extent in lon/lat, with a margin of about 0.3 degrees (30 km) for zones near the border.
JIANGSU_BOUNDS = (116.0, 30.4, 122.3, 35.5)


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
