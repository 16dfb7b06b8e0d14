"""Coordinate transformations between the CRSs the OGC API offers, each built once per process.

Building a pyproj Transformer from CRS84 to EPSG:4549 costs about 1.2 s (PROJ searches the candidate operations),
and pygeoapi builds one per request that names a ``crs`` or a ``bbox-crs``. These are made once and shared under a
lock (a Transformer is not to be used by two threads at once). Axis order is the CRSs' own: CRS84 lon/lat,
EPSG:4490 lat/lon, EPSG:4549 northing/easting, as OGC API – Features Part 2 asks."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pyproj
from shapely import ops


@functools.cache
def _transformer(source_uri: str, target_uri: str) -> tuple[pyproj.Transformer, threading.Lock]:
    # pyproj reads OGC CRS URIs (http://www.opengis.net/def/crs/EPSG/0/4549) itself
    source, target = pyproj.CRS.from_user_input(source_uri), pyproj.CRS.from_user_input(target_uri)
    return pyproj.Transformer.from_crs(source, target), threading.Lock()


def transform_geometry(source_uri: str, target_uri: str) -> Callable[[Any], Any]:
    """A function transforming a shapely geometry from one CRS to the other."""
    transformer, lock = _transformer(source_uri, target_uri)

    def apply(geometry: Any) -> Any:
        with lock:
            return ops.transform(transformer.transform, geometry)

    return apply


def transform_points(source_uri: str, target_uri: str, xs: Sequence[float],
                     ys: Sequence[float]) -> tuple[list[float], list[float]]:
    transformer, lock = _transformer(source_uri, target_uri)
    with lock:
        out_x, out_y = transformer.transform(list(xs), list(ys))
    return list(out_x), list(out_y)
