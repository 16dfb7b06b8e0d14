"""A published zone's approved layout as files (GeoPackage, GeoJSON), read from the same published views as the OGC
API (migration 0013), so a download shows exactly what the public may see."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd  # type: ignore[import-untyped]
import orjson
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from zonegeo.errors import NotFoundError

CRS = "EPSG:4490"  # the stored CGCS2000 (the views label it 4326 for pygeoapi; the numbers are the same)
# layer (named like the roles of a zone folder, so the GeoPackage can be imported again) -> (view, zone column)
LAYERS = {
    "boundary": ("published_zones", "code"),
    "core": ("published_core_areas", "zone_code"),
    "buildings": ("published_buildings", "zone_code"),
    "institutions": ("published_institutions", "zone_code"),
    "platforms": ("published_platforms", "zone_code"),
}
GPKG_TYPE = "application/geopackage+sqlite3"
GEOJSON_TYPE = "application/geo+json"


def _frame(session: Session, view: str, column: str, code: str) -> gpd.GeoDataFrame:
    # view and column come from LAYERS, never from the request; the code is a bound parameter
    rows = session.execute(text(f"SELECT * FROM {view} WHERE {column} = :code ORDER BY fid"),
                           {"code": code}).mappings().all()
    records: list[dict[str, Any]] = []
    for row in rows:
        record = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if k not in ("fid", "geom")}
        records.append(record)
    geometry = shapely.from_wkb([bytes.fromhex(row["geom"]) for row in rows]) if rows else []
    return gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry=list(geometry), crs=CRS)


def published_layout(session: Session, code: str) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the zone's approved layout as the public sees it; NotFoundError when the public sees no such
    zone (unknown, unpublished, revoked, or with no approved layout)."""
    frames = {layer: _frame(session, view, column, code) for layer, (view, column) in LAYERS.items()}
    if frames["boundary"].empty:
        raise NotFoundError("zone_not_published", f"集聚区“{code}”不存在或未公开，没有可下载的空间布局",
                            {"code": code})
    return frames


def to_gpkg(frames: dict[str, gpd.GeoDataFrame]) -> bytes:
    """One GeoPackage, a layer per role (empty layers left out), in CGCS2000 (EPSG:4490)."""
    with tempfile.TemporaryDirectory(prefix="zonegeo-layout-") as folder:
        path = Path(folder) / "layout.gpkg"
        for layer, frame in frames.items():
            if not frame.empty:
                pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", append=path.exists())
        return path.read_bytes()


def to_geojson(frames: dict[str, gpd.GeoDataFrame]) -> bytes:
    """One RFC 7946 FeatureCollection with every layer, each feature naming its ``layer``: GDAL writes each layer
    (its own fields and types), and their features are put together."""
    features: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="zonegeo-layout-") as folder:
        for layer, frame in frames.items():
            if frame.empty:
                continue
            path = Path(folder) / f"{layer}.geojson"
            pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
            for feature in orjson.loads(path.read_bytes())["features"]:
                feature["properties"] = {"layer": layer, **feature["properties"]}
                features.append(feature)
    return orjson.dumps({"type": "FeatureCollection", "features": features})
