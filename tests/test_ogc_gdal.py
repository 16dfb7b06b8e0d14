"""GDAL's OAPIF driver, as GIS users have it (pyogrio's bundled GDAL), reads /ogc from a real server: every
collection listed, every feature read (following next links), counts and coordinates as stored, in CRS84 and in
EPSG:4549."""

from __future__ import annotations

from collections.abc import Iterator

import pyogrio
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import text

from tests.conftest import app_process
from tests.test_ogc_views import PERSON_CODE, build_scenario

pytestmark = pytest.mark.slow  # a real server and GDAL paging through every collection over HTTP

VIEWS = {"zones": "published_zones", "core_areas": "published_core_areas", "buildings": "published_buildings",
         "institutions": "published_institutions", "platforms": "published_platforms"}


@pytest.fixture(scope="module")
def scenario(engine, tmp_path_factory):
    return build_scenario(engine, tmp_path_factory.mktemp("ogc-gdal"))


@pytest.fixture(scope="module")
def server(database_url, scenario) -> Iterator[str]:
    """The app served by uvicorn in a process of its own, as `zonegeo serve` runs it: GDAL holds the GIL while it
    reads, so a server thread in this process would never answer."""
    with app_process({"ZONEGEO_DATABASE_URL": database_url, "ZONEGEO_PUBLIC_CACHE_TTL_S": "0"}) as url:
        yield f"OAPIF:{url}/ogc"


def stored(engine, view: str) -> dict[int, shapely.Geometry]:
    with engine.connect() as conn:
        return {fid: shapely.from_wkt(wkt) for fid, wkt in conn.execute(text(f"SELECT fid, ST_AsText(geom) FROM {view}"))}


def test_the_oapif_driver_is_bundled():
    assert "OAPIF" in pyogrio.list_drivers()


def test_gdal_lists_the_collections(server):
    layers = pyogrio.list_layers(server)
    assert set(layers[:, 0]) == set(VIEWS)


def test_gdal_reads_every_feature_with_the_stored_coordinates(server, engine, scenario):
    for layer, view in VIEWS.items():
        expected = stored(engine, view)
        df = pyogrio.read_dataframe(server, layer=layer, fid_as_index=True)
        assert len(df) == len(expected) > 0, layer
        assert set(df.index) == set(expected), layer
        assert df.crs.to_authority() == ("OGC", "CRS84"), df.crs
        for fid, geometry in zip(df.index, df.geometry, strict=True):
            got, want = shapely.get_coordinates(geometry), shapely.get_coordinates(expected[fid])
            assert got.shape == want.shape and abs(got - want).max() < 1e-9, (layer, fid)
        column = "code" if layer == "zones" else "zone_code"
        codes = set(df[column])
        assert scenario.published in codes
        assert not codes & {scenario.unpublished, scenario.revoked, scenario.unapproved}
        if "credit_code" in df:
            assert PERSON_CODE not in set(df["credit_code"])


def test_gdal_follows_next_links_page_by_page(server, engine):
    expected = stored(engine, "published_institutions")
    assert len(expected) > 5
    df = pyogrio.read_dataframe(server, layer="institutions", fid_as_index=True, PAGE_SIZE="5")  # limit=5 per page
    assert sorted(df.index) == sorted(expected)


def test_gdal_reads_epsg_4549_matching_pyproj(server, engine, scenario):
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    for layer in ("buildings", "institutions"):
        expected = stored(engine, VIEWS[layer])
        df = pyogrio.read_dataframe(server, layer=layer, fid_as_index=True, CRS="EPSG:4549")
        assert df.crs.to_epsg() == 4549 and len(df) == len(expected)
        for fid, geometry in zip(df.index, df.geometry, strict=True):
            lonlat = shapely.get_coordinates(expected[fid])
            east, north = to_gk.transform(lonlat[:, 0], lonlat[:, 1])
            got = shapely.get_coordinates(geometry)  # GDAL gives easting, northing (traditional GIS order)
            assert abs(got[:, 0] - east).max() < 1e-3 and abs(got[:, 1] - north).max() < 1e-3, (layer, fid)
            assert (got[:, 1] > 3_400_000).all() and (got[:, 1] < 3_920_000).all()
