"""The two places where geometry crosses the database boundary."""

from __future__ import annotations

from typing import overload

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape as _from_shape
from geoalchemy2.shape import to_shape as _to_shape
from shapely.geometry.base import BaseGeometry

from zonegeo.db.models import SRID


def to_db(geom: BaseGeometry | None) -> WKBElement | None:
    return None if geom is None else _from_shape(geom, srid=SRID)


@overload
def from_db(element: WKBElement) -> BaseGeometry: ...
@overload
def from_db(element: None) -> None: ...
def from_db(element: WKBElement | None) -> BaseGeometry | None:
    return None if element is None else _to_shape(element)


def to_db_hex(geoms: np.ndarray) -> list[str]:
    """Many geometries at once as hex EWKB text with the storage SRID (what PostGIS reads for a geometry column in
    COPY or a bound parameter), the WKB made by one vectorised call. (GEOS's own hex writer is several times slower
    than its binary one followed by ``bytes.hex``.)"""
    return [wkb.hex() for wkb in shapely.to_wkb(shapely.set_srid(geoms, SRID), include_srid=True).tolist()]
