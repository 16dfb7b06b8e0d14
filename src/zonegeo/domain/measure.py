"""Every number the registry reports about geometry: geodesic areas and metric distances."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from zonegeo.domain.crs import STORAGE_EPSG, gk_cm_epsg, transformer

# The CGCS2000 ellipsoid (same a as GRS80/WGS84; 1/f = 298.257222101).
CGCS2000_GEOD = Geod(a=6378137.0, rf=298.257222101)


def geodesic_area_m2(geom: BaseGeometry | None) -> float:
    """Area on the CGCS2000 ellipsoid (Karney's algorithm) of a lon/lat (Multi)Polygon, holes removed."""
    if geom is None or geom.is_empty:
        return 0.0
    total = 0.0
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        exterior, _ = CGCS2000_GEOD.polygon_area_perimeter(*poly.exterior.xy)
        holes = sum(abs(CGCS2000_GEOD.polygon_area_perimeter(*ring.xy)[0]) for ring in poly.interiors)
        total += abs(exterior) - holes
    return total


def geodesic_areas_m2(geoms: Sequence[BaseGeometry | None]) -> np.ndarray:
    return np.fromiter((geodesic_area_m2(g) for g in geoms), dtype=float, count=len(geoms))


def metric_crs_for(geom: BaseGeometry) -> int:
    """The Gauss-Kruger zone (no prefix) in which lengths and distances of ``geom`` are measured."""
    return gk_cm_epsg(shapely.centroid(geom).x)


def to_metric(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    t = transformer(STORAGE_EPSG, epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def distances_m(area: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Distance in metres from each point to ``area`` (0 inside), measured in the area's GK zone."""
    if len(lons) == 0:
        return np.zeros(0)
    epsg = metric_crs_for(area)
    xs, ys = transformer(STORAGE_EPSG, epsg).transform(np.asarray(lons), np.asarray(lats))
    return shapely.distance(to_metric(area, epsg), shapely.points(xs, ys))
