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
    return float(geodesic_areas_m2([geom])[0])


def geodesic_areas_m2(geoms: Sequence[BaseGeometry | None] | np.ndarray) -> np.ndarray:
    """Areas of many (Multi)Polygons: one Geod call per ring on slices of one coordinate array."""
    arr = np.asarray(geoms, dtype=object)
    areas = np.zeros(len(arr))
    if len(arr) == 0:
        return areas
    arr = np.where(shapely.is_missing(arr), shapely.Polygon(), arr)
    parts, part_owner = shapely.get_parts(arr, return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, part_owner = parts[polygons], part_owner[polygons]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    starts = np.searchsorted(ring_of_coord, np.arange(len(rings) + 1))
    # The first ring of each polygon is its shell; the others are holes.
    is_shell = np.ones(len(rings), dtype=bool)
    is_shell[1:] = ring_part[1:] != ring_part[:-1]
    lons, lats = np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1])
    for r in range(len(rings)):
        a, b = starts[r], starts[r + 1]
        ring_area = abs(CGCS2000_GEOD.polygon_area_perimeter(lons[a:b], lats[a:b])[0])
        areas[part_owner[ring_part[r]]] += ring_area if is_shell[r] else -ring_area
    return areas


def metric_crs_for(geom: BaseGeometry) -> int:
    """The Gauss-Kruger zone (no prefix) in which lengths and distances of ``geom`` are measured."""
    return gk_cm_epsg(shapely.centroid(geom).x)


def to_metric(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    t = transformer(STORAGE_EPSG, epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def distances_m(area: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Distance in metres from each point to ``area`` (0 inside), measured in the area's GK zone.

    Uses a spatial index over the area's edges, so thousands of points against a detailed red line
    cost a nearest-neighbour query each instead of a scan of every edge."""
    if len(lons) == 0:
        return np.zeros(0)
    epsg = metric_crs_for(area)
    xs, ys = transformer(STORAGE_EPSG, epsg).transform(np.asarray(lons), np.asarray(lats))
    metric = to_metric(area, epsg)
    points = shapely.points(xs, ys)
    inside = shapely.intersects(metric, points)
    coords, ring = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(metric)), return_index=True)
    same_ring = ring[1:] == ring[:-1]
    edges = shapely.linestrings(np.stack([coords[:-1][same_ring], coords[1:][same_ring]], axis=1))
    _, dist = shapely.STRtree(edges).query_nearest(points, return_distance=True, all_matches=False)
    return np.where(inside, 0.0, dist)


def largest_gap_m(geom: BaseGeometry | None) -> tuple[float, tuple[int, int] | None]:
    """The largest gap that must be crossed to connect all parts of a MultiPolygon (metres, GK zone).

    This is the longest edge of the minimum spanning tree over the parts' mutual distances (single
    linkage): two close pairs far from each other show their distance, not the small gaps inside each pair.
    Returns (gap, (i, j)) with the indices of the two parts, or (0.0, None) for fewer than two parts."""
    if geom is None or geom.is_empty:
        return 0.0, None
    parts = shapely.get_parts(to_metric(geom, metric_crs_for(geom)))
    n = len(parts)
    if n < 2:
        return 0.0, None
    dist = shapely.distance(parts[:, None], parts[None, :])
    # Prim's algorithm on the dense matrix: n is a handful of parcels.
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = dist[0].copy()
    via = np.zeros(n, dtype=int)
    gap, pair = 0.0, None
    for _ in range(n - 1):
        candidates = np.where(in_tree, np.inf, best)
        k = int(np.argmin(candidates))
        if candidates[k] >= gap:
            gap, pair = float(candidates[k]), (int(via[k]), k)
        in_tree[k] = True
        closer = dist[k] < best
        best[closer], via[closer] = dist[k][closer], k
    return gap, pair
