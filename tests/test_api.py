"""The HTTP API and pages, through the real app and a real PostGIS."""

from __future__ import annotations

import re

from tests.conftest import DEMO
from zonegeo.ingest.plan import read_zone_dir


def test_zone_list(client):
    r = client.get("/api/zones")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == len(body["data"]) >= 1
    demo = next(z for z in body["data"] if z["code"] == "NJ-DEMO-01")
    assert demo["city"] == "南京市" and demo["version"] == 1 and demo["institutions"] == 20


def test_one_zone_with_its_versions(client):
    r = client.get("/api/zones/NJ-DEMO-01")
    assert r.status_code == 200
    body = r.json()
    assert body["name"].startswith("河西知识产权服务业集聚区")
    assert [v["number"] for v in body["versions"]] == [1]
    assert {f["role"] for f in body["versions"][0]["source_files"]} == {"boundary", "core", "buildings",
                                                                        "institutions"}


def test_report_endpoint(client):
    r = client.get("/api/zones/NJ-DEMO-01/report")
    assert r.status_code == 200
    report = r.json()
    assert report["eligible"] is True
    assert report["zone"]["code"] == "NJ-DEMO-01"
    assert len(report["rules"]) == 7
    assert report["institutions"]["outside"][0]["distance_m"] > 50


def test_unknown_zone_is_a_json_404(client):
    for path in ("/api/zones/NOPE", "/api/zones/NOPE/report"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json() == {"code": "zone_not_found", "message": "集聚区“NOPE”不存在", "detail": {"code": "NOPE"}}


def test_unknown_route_is_a_json_404(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_pages_are_chinese_html(client):
    index = client.get("/")
    assert index.status_code == 200 and "集聚区列表" in index.text and 'href="/zones/NJ-DEMO-01"' in index.text
    page = client.get("/zones/NJ-DEMO-01")
    assert page.status_code == 200
    assert "申报条件核验" in page.text and "结论：量化条件全部符合" in page.text  # issue 9: never "符合全部申报条件"
    assert page.text.count('data-rule="') == 7
    assert 'src="/zones/NJ-DEMO-01/map"' in page.text


def test_missing_zone_page_is_a_chinese_html_404(client):
    r = client.get("/zones/NOPE", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"] and "集聚区“NOPE”不存在" in r.text


def test_map_contains_every_building_and_institution(client):
    r = client.get("/zones/NJ-DEMO-01/map")
    assert r.status_code == 200
    html = r.text
    plan = read_zone_dir(DEMO).read.plan
    # folium writes GeoJSON with ASCII escapes; names appear either way.
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    for b in plan.buildings:
        assert b.name in decoded, b.name
    for i in plan.institutions:
        assert i.name in decoded, i.name
    assert '<script src="/assets/leaflet/leaflet.js"></script>' in html
    assert not re.search(r'(src|href)="https?://', html), "the map must not load scripts or styles from CDNs"


def test_leaflet_is_served_locally(client):
    r = client.get("/assets/leaflet/leaflet.js")
    assert r.status_code == 200 and "Leaflet" in r.text[:2000]


def test_health_check_touches_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/zones", "/api/zones/{code}", "/api/zones/{code}/report"} <= set(paths)
