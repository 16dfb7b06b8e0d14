"""pygeoapi's PostgreSQL provider with its coordinate transformations built once per process (``ogc.transforms``):
pygeoapi built a new pyproj Transformer for every request naming a ``crs``, about 1.2 s from CRS84 to EPSG:4549,
so GDAL reading a collection page by page in the Gauss-Kruger CRS waited seconds per page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pygeoapi.provider.sql import PostgreSQLProvider

from zonegeo.ogc.transforms import transform_geometry


class PublishedProvider(PostgreSQLProvider):  # type: ignore[misc]
    def _get_crs_transform(self, crs_transform_spec: Any = None) -> Callable[[Any], Any] | None:
        if crs_transform_spec is None:
            return None
        return transform_geometry(crs_transform_spec.source_crs_uri, crs_transform_spec.target_crs_uri)
