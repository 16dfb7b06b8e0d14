"""OGC API – Features at /ogc (pygeoapi over the published views): landing page, conformance, collections, items with
the right counts and coordinates, what is unpublished never there, bbox, paging with next links, datetime, CQL2,
the CRSs offered (EPSG:4549 against pyproj), JSON only, read only."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import text

from tests.test_ogc_views import BAD_CODE, PERSON_CODE, build_scenario
from zonegeo.api.app import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG4549 = "http://www.opengis.net/def/crs/EPSG/0/4549"
COLLECTIONS = {"zones": "published_zones", "core_areas": "published_core_areas", "buildings": "published_buildings",
               "institutions": "published_institutions", "platforms": "published_platforms"}
ZONE_COLUMN = {"zones": "code"}


@pytest.fixture(scope="module")
def scenario(engine, tmp_path_factory):
    return build_scenario(engine, tmp_path_factory.mktemp("ogc"))


@pytest.fixture(scope="module")
def ogc(settings, scenario):
    """The public (no login): every OGC read is anonymous."""
    with TestClient(create_app(settings)) as c:
        yield c


def items(ogc, collection: str, **params) -> dict:
    r = ogc.get(f"/ogc/collections/{collection}/items", params={"f": "json", **params})
    assert r.status_code == 200, r.text
    return r.json()


def zone_items(ogc, collection: str, code: str, **params) -> dict:
    return items(ogc, collection, **{ZONE_COLUMN.get(collection, "zone_code"): code, "limit": 1000, **params})


def db_coords(engine, view: str, column: str, code: str) -> dict[object, list]:
    """Every vertex of every feature of one zone in a view, by feature id, as stored (lon/lat)."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT fid, ST_AsText(geom) FROM {view} WHERE {column} = :c"), {"c": code}).all()
    import shapely

    return {fid: shapely.get_coordinates(shapely.from_wkt(wkt)).tolist() for fid, wkt in rows}


def feature_coords(feature: dict) -> list:
    import shapely
    from shapely.geometry import shape

    return shapely.get_coordinates(shape(feature["geometry"])).tolist()


def flat(coords: list) -> list[float]:
    return [v for point in coords for v in point]


def test_landing_page_links_conformance_collections_and_openapi(ogc):
    r = ogc.get("/ogc", params={"f": "json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert "江苏省" in body["title"]
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels["conformance"] == "http://testserver/ogc/conformance"
    assert rels["data"] == "http://testserver/ogc/collections"
    assert rels["service-desc"].startswith("http://testserver/ogc/openapi")
    api = ogc.get("/ogc/openapi", params={"f": "json"})
    assert api.status_code == 200 and api.json()["openapi"].startswith("3.0")
    assert "/collections/institutions/items" in api.json()["paths"]


def test_conformance_names_core_geojson_openapi_and_crs(ogc):
    classes = set(ogc.get("/ogc/conformance").json()["conformsTo"])
    for needed in ("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                   "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                   "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                   "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"):
        assert needed in classes
    # JSON only and read only: pygeoapi's HTML and create-replace-delete classes are not claimed
    assert not any(c.endswith(("/conf/html", "/conf/create-replace-delete")) for c in classes)


def test_conformance_does_not_grow_pygeoapis_list(ogc):
    from pygeoapi import api as core

    ogc.get("/ogc/conformance")
    size = len(core.CONFORMANCE_CLASSES)
    for _ in range(3):
        assert ogc.get("/ogc/conformance").status_code == 200
    assert len(core.CONFORMANCE_CLASSES) == size


def test_collections_offer_the_three_crss(ogc):
    body = ogc.get("/ogc/collections").json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert set(by_id) == set(COLLECTIONS)
    assert by_id["zones"]["title"] == "集聚区四至范围"
    for c in by_id.values():
        assert {CRS84, EPSG4490, EPSG4549} <= set(c["crs"])
        assert c["storageCrs"] == CRS84
        assert c["extent"]["spatial"]["bbox"][0][0] == pytest.approx(116.35)


def test_items_of_the_published_zone_have_the_stored_counts_and_coordinates(ogc, engine, scenario):
    for collection, view in COLLECTIONS.items():
        column = ZONE_COLUMN.get(collection, "zone_code")
        expected = db_coords(engine, view, column, scenario.published)
        body = zone_items(ogc, collection, scenario.published)
        assert body["numberMatched"] == body["numberReturned"] == len(expected), collection
        got = {f["id"]: feature_coords(f) for f in body["features"]}
        assert got.keys() == expected.keys()
        for fid, coords in got.items():
            assert flat(coords) == pytest.approx(flat(expected[fid]), abs=1e-9), (collection, fid)
    counts = {c: zone_items(ogc, c, scenario.published)["numberMatched"] for c in COLLECTIONS}
    assert counts == {"zones": 1, "core_areas": 1, "buildings": 7, "institutions": 17, "platforms": 2}


def test_what_is_unpublished_never_appears(ogc, scenario):
    for hidden in (scenario.unpublished, scenario.revoked, scenario.unapproved):
        for collection in COLLECTIONS:
            assert zone_items(ogc, collection, hidden)["numberMatched"] == 0, (hidden, collection)
    zones = zone_items(ogc, "zones", scenario.published)["features"]
    assert [f["properties"]["version"] for f in zones] == [1]  # the approved layout, not the draft v2
    buildings = zone_items(ogc, "buildings", scenario.published)["features"]
    assert "草稿楼" not in {f["properties"]["name"] for f in buildings}
    codes = set()
    for collection in ("institutions", "platforms"):
        offset = 0
        while True:
            page = items(ogc, collection, limit=1000, offset=offset)
            codes |= {f["properties"]["credit_code"] for f in page["features"]}
            offset += 1000
            if offset >= page["numberMatched"]:
                break
    assert PERSON_CODE not in codes and BAD_CODE not in codes
    assert not any(c.startswith("92") for c in codes)
    assert "" in codes  # the person's and the invalid code are there, blanked


def test_no_private_properties(ogc, scenario):
    feature = zone_items(ogc, "institutions", scenario.published)["features"][0]
    assert set(feature["properties"]) == {"zone_code", "zone_name", "name", "credit_code", "services", "chain",
                                          "building", "floor", "entered_on"}


def test_one_item_by_id(ogc, scenario):
    feature = zone_items(ogc, "buildings", scenario.published)["features"][0]
    r = ogc.get(f"/ogc/collections/buildings/items/{feature['id']}", params={"f": "json"})
    assert r.status_code == 200 and r.json()["properties"]["name"] == feature["properties"]["name"]
    missing = ogc.get("/ogc/collections/buildings/items/999999999", params={"f": "json"})
    assert missing.status_code == 404 and "未找到" in missing.json()["message"]


def test_bbox_selects_by_place(ogc, engine, scenario):
    with engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(text("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                                           "FROM published_zones WHERE code = :c"), {"c": scenario.published}).one()
        inside = conn.scalar(text("SELECT count(*) FROM published_institutions WHERE zone_code = :c AND "
                                  "ST_Intersects(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"),
                             {"c": scenario.published, "x0": x0 - 1e-4, "y0": y0 - 1e-4, "x1": x1 + 1e-4,
                              "y1": y1 + 1e-4})
    around = f"{x0 - 1e-4},{y0 - 1e-4},{x1 + 1e-4},{y1 + 1e-4}"
    assert inside == 16  # the demo's one institution about 60 m outside the boundary is outside its bbox too
    assert zone_items(ogc, "institutions", scenario.published, bbox=around)["numberMatched"] == inside
    west_half = f"{x0 - 1e-4},{y0 - 1e-4},{(x0 + x1) / 2},{y1 + 1e-4}"
    some = zone_items(ogc, "institutions", scenario.published, bbox=west_half)
    assert 0 < some["numberMatched"] < inside
    assert all(f["geometry"]["coordinates"][0] <= (x0 + x1) / 2 for f in some["features"])
    far = "120.5,33.5,120.6,33.6"
    assert zone_items(ogc, "zones", scenario.published, bbox=far)["numberMatched"] == 0
    bad = ogc.get("/ogc/collections/zones/items", params={"bbox": "1,2"})
    assert bad.status_code == 400 and bad.json()["message"].startswith("请求参数不正确")


def test_bbox_in_epsg_4549_selects_as_its_crs84_envelope(ogc, engine, scenario):
    with engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(text("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                                           "FROM published_zones WHERE code = :c"), {"c": scenario.published}).one()
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    east, north = to_gk.transform([x0, x0, x1, x1], [y0, y1, y0, y1])
    n0, e0, n1, e1 = min(north) - 5, min(east) - 5, max(north) + 5, max(east) + 5  # northing first: EPSG axis order
    back = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
    lons, lats = back.transform([e0, e0, e1, e1], [n0, n1, n0, n1])
    with engine.connect() as conn:
        expected = conn.scalar(text("SELECT count(*) FROM published_institutions WHERE zone_code = :c AND "
                                    "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c2, :d, 4326))"),
                               {"c": scenario.published, "a": min(lons), "b": min(lats), "c2": max(lons), "d": max(lats)})
    body = zone_items(ogc, "institutions", scenario.published, bbox=f"{n0},{e0},{n1},{e1}", **{"bbox-crs": EPSG4549})
    assert body["numberMatched"] == expected >= 16
    far = zone_items(ogc, "institutions", scenario.published, bbox="3400000,500000,3401000,501000",
                     **{"bbox-crs": EPSG4549})
    assert far["numberMatched"] == 0


def test_crs_transformations_are_built_once(ogc, scenario):
    from zonegeo.ogc.transforms import _transformer

    for _ in range(3):
        zone_items(ogc, "zones", scenario.published, crs=EPSG4549)
    info = _transformer.cache_info()
    assert info.hits >= 2 and info.currsize <= 6


def test_paging_follows_next_links_to_every_feature(ogc, scenario):
    seen, pages = [], 0
    url = f"/ogc/collections/institutions/items?f=json&zone_code={scenario.published}&limit=5"
    while url:
        body = ogc.get(url.replace("http://testserver", "")).json()
        seen += [f["id"] for f in body["features"]]
        pages += 1
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert len(nxt) <= 1
        url = nxt[0] if nxt else ""
        assert pages <= 10
    assert pages == 4 and len(seen) == len(set(seen)) == 17  # 5 + 5 + 5 + 2
    last = ogc.get(f"/ogc/collections/institutions/items?f=json&zone_code={scenario.published}&limit=5&offset=15").json()
    assert last["numberReturned"] == 2 and "next" not in {link["rel"] for link in last["links"]}


def test_limit_is_bounded(ogc, scenario):
    body = items(ogc, "institutions", limit=100000)
    assert body["numberReturned"] <= 1000


def test_datetime_filters_by_the_layouts_date(ogc, engine, scenario):
    with engine.connect() as conn:
        day = conn.scalar(text("SELECT effective_on FROM published_zones WHERE code = :c"), {"c": scenario.published})
    assert zone_items(ogc, "zones", scenario.published, datetime=f"{day.isoformat()}/..")["numberMatched"] == 1
    assert zone_items(ogc, "zones", scenario.published, datetime="../2000-01-01")["numberMatched"] == 0


def test_cql_text_filter(ogc, scenario):
    body = items(ogc, "buildings", limit=1000, **{"filter-lang": "cql-text",
                                                  "filter": f"zone_code = '{scenario.published}' AND floors > 10"})
    all_buildings = zone_items(ogc, "buildings", scenario.published)["features"]
    expected = {f["id"] for f in all_buildings if f["properties"]["floors"] > 10}
    assert {f["id"] for f in body["features"]} == expected and 0 < len(expected) < 7


def test_epsg_4549_coordinates_match_pyproj(ogc, engine, scenario):
    stored = db_coords(engine, "published_buildings", "zone_code", scenario.published)
    r = ogc.get("/ogc/collections/buildings/items",
                params={"f": "json", "zone_code": scenario.published, "crs": EPSG4549, "limit": 100})
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{EPSG4549}>"
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    for feature in r.json()["features"]:
        lonlat = stored[feature["id"]]
        easting, northing = to_gk.transform([p[0] for p in lonlat], [p[1] for p in lonlat])
        # EPSG:4549's axis order is northing, easting (OGC API Features Part 2 follows the CRS)
        expected = [[n, e] for e, n in zip(easting, northing, strict=True)]
        assert flat(feature_coords(feature)) == pytest.approx(flat(expected), abs=1e-3)
        assert 3_400_000 < feature_coords(feature)[0][0] < 3_920_000


def test_epsg_4490_is_latitude_first(ogc, engine, scenario):
    stored = db_coords(engine, "published_institutions", "zone_code", scenario.published)
    body = zone_items(ogc, "institutions", scenario.published, crs=EPSG4490)
    for feature in body["features"]:
        (lon, lat), = stored[feature["id"]]
        assert feature["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-9)


@pytest.mark.parametrize("value", ["garbage", "2020-13-45", "2020-01-01/", "/..", "2020-01-01/2021-02-30"])
def test_a_malformed_datetime_is_a_400_in_chinese(ogc, value):
    r = ogc.get("/ogc/collections/zones/items", params={"datetime": value})
    assert r.status_code == 400 and "datetime" in r.json()["message"] and r.json()["code"] == "InvalidParameterValue"


@pytest.mark.parametrize("item_id", ["abc", "1.5", "2147483648", "99999999999999999999", "-1"])
def test_a_feature_id_that_is_no_number_is_not_found(ogc, item_id):
    r = ogc.get(f"/ogc/collections/institutions/items/{item_id}")
    assert r.status_code == 404 and "未找到要素" in r.json()["message"]


def test_an_unoffered_crs_is_refused(ogc):
    r = ogc.get("/ogc/collections/zones/items", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"})
    assert r.status_code == 400 and "message" in r.json()


def test_html_is_answered_with_json_without_scripts(ogc):
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/zones/items?f=html"):
        r = ogc.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 200
        assert "json" in r.headers["content-type"] and "<script" not in r.text


def test_read_only_and_bounded(ogc):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = ogc.request(method, "/ogc/collections/zones/items", json={"type": "Feature"})
        assert r.status_code == 405 and "只读" in r.json()["message"]
    r = ogc.get("/ogc/collections/zones/items?filter=" + quote("name = '" + "长" * 3000 + "'"))
    assert r.status_code == 414 and r.json()["code"] == "query_too_long"
    assert ogc.get("/ogc/collections/nope/items").status_code == 404
    assert ogc.options("/ogc/collections").headers["access-control-allow-origin"] == "*"


def test_landing_page_of_the_app_links_ogc(anon):
    r = anon.get("/")
    assert r.status_code == 200 and 'href="/ogc"' in r.text


def test_served_as_the_least_privileged_app_role_in_read_only_transactions(settings, database_url, scenario):
    """What scripts/demo and Docker run: the app connects as zonegeo_app, and pygeoapi with it (from the settings)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from zonegeo.ogc.config import connection

    app_url = make_url(database_url).set(username="zonegeo_app", password=None).render_as_string(hide_password=False)
    as_app = settings.model_copy(update={"database_url": app_url})
    data, options = connection(as_app)
    assert data["user"] == "zonegeo_app" and "default_transaction_read_only=on" in options["options"]
    with TestClient(create_app(as_app)) as c:
        body = c.get("/ogc/collections/institutions/items",
                     params={"f": "json", "zone_code": scenario.published}).json()
        assert body["numberMatched"] == 17
    engine = create_engine(app_url, connect_args={"options": options["options"]})
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW default_transaction_read_only")) == "on"
            assert conn.scalar(text("SELECT current_user")) == "zonegeo_app"
    finally:
        engine.dispose()
