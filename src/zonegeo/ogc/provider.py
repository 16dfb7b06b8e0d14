"""pygeoapi's PostgreSQL provider with its coordinate transformations built once per process.

pygeoapi builds a new pyproj Transformer for every request that names a ``crs``; from CRS84 to EPSG:4549 that costs
about 1.2 s (PROJ searches the candidate operations each time), so GDAL reading a collection page by page in the
Gauss-Kruger CRS waited seconds per page. The transformations here are the same, made once and shared under a lock
(a Transformer is not to be used by two threads at once)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pyproj
from pygeoapi.provider.sql import PostgreSQLProvider
from pygeoapi.util import get_crs_from_uri
from shapely import ops


@functools.cache
def _transformer(source_uri: str, target_uri: str) -> tuple[pyproj.Transformer, threading.Lock]:
    # axis order as the CRSs define it: CRS84 lon/lat in, EPSG:4490 lat/lon and EPSG:4549 northing/easting out
    return pyproj.Transformer.from_crs(get_crs_from_uri(source_uri), get_crs_from_uri(target_uri)), threading.Lock()


def transform(source_uri: str, target_uri: str) -> Callable[[Any], Any]:
    transformer, lock = _transformer(source_uri, target_uri)

    def apply(geometry: Any) -> Any:
        with lock:
            return ops.transform(transformer.transform, geometry)

    return apply


class PublishedProvider(PostgreSQLProvider):  # type: ignore[misc]
    def _get_crs_transform(self, crs_transform_spec: Any = None) -> Callable[[Any], Any] | None:
        if crs_transform_spec is None:
            return None
        return transform(crs_transform_spec.source_crs_uri, crs_transform_spec.target_crs_uri)
