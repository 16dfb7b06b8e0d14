"""Downloads of a published zone's approved layout: /zones/{code}/layout.gpkg and layout.geojson, public, with the
public's disclosure policy for everyone; 404 for what the public may not see."""

from __future__ import annotations

import io

import orjson
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import bearer
from tests.test_ogc_views import BAD_CODE, PERSON_CODE, build_scenario
from zonegeo.api.app import create_app

LAYERS = {"boundary": "published_zones", "core": "published_core_areas", "buildings": "published_buildings",
          "institutions": "published_institutions", "platforms": "published_platforms"}


@pytest.fixture(scope="module")
def scenario(engine, tmp_path_factory):
    return build_scenario(engine, tmp_path_factory.mktemp("downloads"))


@pytest.fixture(scope="module")
def public(settings, scenario):
    with TestClient(create_app(settings)) as c:
        yield c


def stored(engine, view: str, code: str) -> list[shapely.Geometry]:
    column = "code" if view == "published_zones" else "zone_code"
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT ST_AsText(geom) FROM {view} WHERE {column} = :c ORDER BY fid"), {"c": code})
        return [shapely.from_wkt(wkt) for (wkt,) in rows]


def same_coordinates(got: shapely.Geometry, want: shapely.Geometry, tolerance: float) -> bool:
    a, b = shapely.get_coordinates(got), shapely.get_coordinates(want)
    return a.shape == b.shape and float(abs(a - b).max()) <= tolerance


def test_geopackage_holds_each_layer_as_stored(public, engine, scenario, tmp_path):
    r = public.get(f"/zones/{scenario.published}/layout.gpkg")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
    assert f'filename="{scenario.published}-layout.gpkg"' in r.headers["content-disposition"]
    path = tmp_path / "layout.gpkg"
    path.write_bytes(r.content)
    assert [tuple(row) for row in pyogrio.list_layers(path)] == [
        ("boundary", "MultiPolygon"), ("core", "MultiPolygon"), ("buildings", "MultiPolygon"),
        ("institutions", "Point"), ("platforms", "Point")]
    for layer, view in LAYERS.items():
        df = pyogrio.read_dataframe(path, layer=layer)
        assert df.crs.to_epsg() == 4490
        want = stored(engine, view, scenario.published)
        assert len(df) == len(want) > 0, layer
        for got, expected in zip(df.geometry, want, strict=True):
            assert same_coordinates(got, expected, 1e-12), layer
    buildings = pyogrio.read_dataframe(path, layer="buildings")
    assert {"name", "floors", "floors_used", "declared_floor_area_m2"} <= set(buildings.columns)
    assert "草稿楼" not in set(buildings["name"])  # the draft v2 is not the approved layout
    institutions = pyogrio.read_dataframe(path, layer="institutions")
    assert len(institutions) == 17 and "address" not in institutions.columns
    assert PERSON_CODE not in set(institutions["credit_code"]) and BAD_CODE not in set(institutions["credit_code"])


def test_geojson_is_one_rfc7946_collection_naming_each_layer(public, engine, scenario):
    r = public.get(f"/zones/{scenario.published}/layout.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = orjson.loads(r.content)
    assert body["type"] == "FeatureCollection" and "crs" not in body  # RFC 7946: lon/lat WGS 84, no crs member
    by_layer: dict[str, list] = {}
    for feature in body["features"]:
        by_layer.setdefault(feature["properties"]["layer"], []).append(feature)
    assert {k: len(v) for k, v in by_layer.items()} == {"boundary": 1, "core": 1, "buildings": 7, "institutions": 17,
                                                         "platforms": 2}
    assert by_layer["boundary"][0]["properties"]["version"] == 1  # an integer, as stored
    for layer, view in LAYERS.items():
        for feature, expected in zip(by_layer[layer], stored(engine, view, scenario.published), strict=True):
            got = shapely.geometry.shape(feature["geometry"])
            assert same_coordinates(shapely.normalize(got), shapely.normalize(expected), 1e-7), layer  # 7 decimals
    codes = {f["properties"]["credit_code"] for f in body["features"] if "credit_code" in f["properties"]}
    assert PERSON_CODE not in codes and BAD_CODE not in codes and "" in codes
    assert pyogrio.read_info(io.BytesIO(r.content))["features"] == 28


def test_logged_in_users_download_the_public_layout_too(settings, scenario, tokens):
    with TestClient(create_app(settings), headers=bearer(tokens, "province")) as province:
        r = province.get(f"/zones/{scenario.published}/layout.geojson")
        assert r.status_code == 200 and PERSON_CODE.encode() not in r.content
        assert province.get(f"/zones/{scenario.unpublished}/layout.gpkg").status_code == 404


@pytest.mark.parametrize("suffix", ["gpkg", "geojson"])
def test_what_the_public_may_not_see_is_not_found(public, scenario, suffix):
    for hidden in (scenario.unpublished, scenario.revoked, scenario.unapproved, "NO-SUCH-ZONE"):
        r = public.get(f"/zones/{hidden}/layout.{suffix}")
        assert r.status_code == 404, hidden
        assert r.json()["code"] == "zone_not_published" and hidden in r.json()["message"]


def test_a_malformed_code_is_refused(public):
    r = public.get("/zones/%E4%B8%AD-bad/layout.gpkg")
    assert r.status_code == 422
    too_long = public.get("/zones/" + "A" * 65 + "/layout.geojson")
    assert too_long.status_code == 422


def test_the_zone_page_links_the_downloads_only_where_they_answer(public, settings, scenario, tokens):
    page = public.get(f"/zones/{scenario.published}").text
    for suffix in ("gpkg", "geojson"):
        assert f'href="/zones/{scenario.published}/layout.{suffix}"' in page
        assert public.get(f"/zones/{scenario.published}/layout.{suffix}").status_code == 200
    with TestClient(create_app(settings), headers=bearer(tokens, "province")) as c:
        assert 'id="layout-downloads"' not in c.get(f"/zones/{scenario.unpublished}").text  # would be a 404
