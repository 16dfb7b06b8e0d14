"""Map HTML for the three audiences, and the public site."""

from __future__ import annotations

import json
import re

from tests.conftest import DEMO, import_demo_copy
from tests.factories import full_chain, institution, plan
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.check import check_plan
from zonegeo.domain.model import InstitutionKind
from zonegeo.maps.render import render, to_html
from zonegeo.services import disclosure
from zonegeo.services.publishing import publish

EXTERNAL = re.compile(r'<(?:script|link)[^>]+(?:src|href)="https?://')


def test_no_map_loads_anything_from_a_cdn(rules):
    p = plan()
    for policy in (disclosure.REVIEWER, disclosure.PUBLIC, disclosure.OFFLINE):
        page = to_html(render(p, check_plan(p, rules), title="t", policy=policy))
        assert not EXTERNAL.search(page), policy.audience
        for plugin in ("leaflet-measure.cn.js", "Control.FullScreen.js", "L.Control.Locate.min.js",
                       "Control.MiniMap.min.js", "zonegeo.js"):
            assert plugin in page


def test_self_contained_map_inlines_every_asset(rules):
    p = plan()
    page = to_html(render(p, check_plan(p, rules), title="t", policy=disclosure.OFFLINE), self_contained=True)
    assert "<script src=" not in page and '<link rel="stylesheet" href=' not in page
    assert "data:image/png;base64" in page  # the measure and layer icons


def test_many_institutions_are_clustered(rules):
    many = [institution(i, 20 + (i % 150), 20 + (i // 150)) for i in range(400)]
    p = plan(institutions=[*many, institution(999, 30, 30, chain=(), kind=InstitutionKind.SERVICE_WINDOW)])
    page = to_html(render(p, check_plan(p, rules), title="t"))
    assert page.count("L.markerClusterGroup") == 1 and "leaflet.markercluster.js" in page
    few = plan()
    assert "L.markerClusterGroup" not in to_html(render(few, check_plan(few, rules), title="t"))


def test_public_map_hides_natural_person_codes_and_invalid_flags(rules):
    person = institution(1, 30, 30, credit="92320105MA1XXXXX0Q")
    p = plan(institutions=[person, *full_chain(15)])
    public = to_html(render(p, check_plan(p, rules), title="t", policy=disclosure.PUBLIC))
    reviewer = to_html(render(p, check_plan(p, rules), title="t", policy=disclosure.REVIEWER))
    assert "92320105MA1XXXXX0Q" in reviewer and "92320105MA1XXXXX0Q" not in public
    assert "信用代码无效" in reviewer and "信用代码无效" not in public


def _zone(engine, tmp_path, rules, *, published: bool) -> str:
    return import_demo_copy(engine, tmp_path, "PUB", published=published)


def test_publish_writes_only_published_zones(engine, rules, tmp_path, settings):
    shown = _zone(engine, tmp_path, rules, published=True)
    hidden = _zone(engine, tmp_path, rules, published=False)
    out = tmp_path / "site"
    with transaction(session_factory(engine)) as session:
        result = publish(session=session, rules=rules, out_dir=out, tiles="OpenStreetMap")
    assert shown in result["zones"] and hidden not in result["zones"]
    assert (out / "zones" / f"{shown}.html").is_file() and not (out / "zones" / f"{hidden}.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert shown in index and hidden not in index and "南京市" in index
    geo = json.loads((out / "zones.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["code"] for f in geo["features"]]
    assert shown in codes and hidden not in codes
    assert set(geo["features"][0]["properties"]) >= {"name", "city", "builder", "land_m2"}
    page = (out / "zones" / f"{shown}.html").read_text(encoding="utf-8")
    assert '<script src="../assets/leaflet/leaflet.js"></script>' in page
    assert (out / "assets" / "leaflet" / "leaflet.js").is_file()
    assert not EXTERNAL.search(page) and not EXTERNAL.search((out / "province.html").read_text(encoding="utf-8"))


def test_the_app_serves_the_public_site(engine, rules, tmp_path, settings, tokens):
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    code = _zone(engine, tmp_path, rules, published=True)
    out = tmp_path / "site"
    with transaction(session_factory(engine)) as session:
        publish(session=session, rules=rules, out_dir=out, tiles="")
    with TestClient(create_app(settings.model_copy(update={"maps_dir": out}))) as c:
        assert "公开地图" in c.get("/public/").text
        assert c.get(f"/public/zones/{code}.html").status_code == 200
        assert c.get("/public/zones.geojson").status_code == 200


def test_offline_download(client):
    r = client.get("/zones/NJ-DEMO-01/map/offline")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "<script src=" not in r.text and "L.control.measure" in r.text


def test_map_bytes_stay_close_to_the_geojson(rules):
    """The overlay data is embedded about as compactly as minimal GeoJSON (the bench measures 10 000): each further
    building costs at most 1.3× its GeoJSON bytes, and the page around the data stays small (Leaflet and its
    plugins are linked, not inlined, unless an offline file is asked for)."""
    import sys

    sys.path.insert(0, str(DEMO.parents[1] / "bench"))
    from map_size import measure

    small, large = measure(10, rules), measure(1000, rules)
    assert small["html"] - small["geojson"] < 20_000  # the page template: 15.3 kB measured
    assert (large["html"] - small["html"]) / (large["geojson"] - small["geojson"]) < 1.3  # per building: 1.23
    assert large["ratio"] < 1.3  # 1.27 with the template


def test_the_public_report_hides_natural_persons_and_code_findings(rules):
    person = institution(1, 260, 30, credit="92320105MA1XXXXX0Q")  # outside the boundary, so it is listed
    bad = institution(2, 30, 30, credit="91320105000000000X")
    p = plan(institutions=[person, bad, *full_chain(15)])
    full = check_plan(p, rules).to_dict()
    assert full["institutions"]["outside"][0]["credit_code"] == "92320105MA1XXXXX0Q"
    assert full["institutions"]["invalid_credit_codes"]
    public = disclosure.report(disclosure.PUBLIC, full)
    assert "92320105MA1XXXXX0Q" not in json.dumps(public, ensure_ascii=False)
    assert public["institutions"]["invalid_credit_codes"] == []
    assert public["institutions"]["outside"][0]["distance_m"] == full["institutions"]["outside"][0]["distance_m"]


def test_published_zone_report_for_the_public(anon, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "PUBR", published=True)
    report = anon.get(f"/api/zones/{code}/report").json()
    assert report["institutions"]["invalid_credit_codes"] == []
    page = anon.get(f"/zones/{code}")
    invalid_code = "913201050506759460"  # the demo's mistyped code (its count may still be stated, not the code)
    assert page.status_code == 200 and invalid_code not in page.text and "上传空间布局文件" not in page.text


def test_the_public_never_sees_a_draft(anon, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DRAFT", published=True)
    from tests import formats

    path = formats.write_geojson(tmp_path / "b.geojson")  # another parcel, uploaded as a draft
    assert client.post(f"/api/zones/{code}/uploads", files=[("files", (path.name, path.read_bytes()))],
                       data={"roles": ["boundary"]}).status_code == 201
    assert client.get(f"/api/zones/{code}/report").json()["zone"]["version"] == 1  # approved still preferred
    public = anon.get(f"/api/zones/{code}/report").json()
    assert public["zone"]["version"] == 1 and public["zone"]["version_state"] == "approved"
    assert [v["number"] for v in anon.get(f"/api/zones/{code}").json()["versions"]] == [1]
    assert anon.get(f"/zones/{code}/versions/2/map", headers={"accept": "application/json"}).status_code == 401


def test_a_published_zone_with_only_a_draft_shows_nothing_to_the_public(anon, client, engine, tmp_path):
    import uuid

    from tests import formats
    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services.publishing import set_published

    code = f"ONLYDRAFT-{uuid.uuid4().hex[:6]}"
    assert client.post("/api/zones", json={"code": code, "name": "仅草稿（测试）", "city": "南京市",
                                           "builder": "测试"}).status_code == 201
    path = formats.write_geojson(tmp_path / "b.geojson")
    assert client.post(f"/api/zones/{code}/uploads", files=[("files", (path.name, path.read_bytes()))],
                       data={"roles": ["boundary"]}).json()["state"] == "draft"
    with transaction(session_factory(engine)) as session:
        set_published(session=session, code=code, published=True)
    assert client.get(f"/api/zones/{code}/report").status_code == 200  # the bureau sees the draft
    r = anon.get(f"/api/zones/{code}/report")
    assert r.status_code == 404 and r.json()["code"] == "zone_has_no_version"
    assert anon.get(f"/zones/{code}/map", headers={"accept": "application/json"}).status_code == 404


def test_the_four_sides_words_stand_in_every_map_of_the_zone(engine, rules, tmp_path, client):
    """The 申报表's 四至 words go into the title panel of the reviewer's map, the offline file and the public page
    (escaped), and into zones.geojson; a side left empty is said to be so."""
    from sqlalchemy import text

    code = _zone(engine, tmp_path, rules, published=True)
    words = {"east": "东至江东中路", "south": "南至<梦都大街>", "west": "西至扬子江大道", "north": ""}
    with engine.begin() as conn:
        conn.execute(text("UPDATE zone SET four_sides = CAST(:w AS jsonb) WHERE code = :c"),
                     {"w": json.dumps(words, ensure_ascii=False), "c": code})
    line = "四至（申报表）：东至江东中路；南至&lt;梦都大街&gt;；西至扬子江大道；北至（未填写）"
    assert line in client.get(f"/zones/{code}/map").text
    assert line in client.get(f"/zones/{code}/map/offline").text
    out = tmp_path / "site"
    with transaction(session_factory(engine)) as session:
        publish(session=session, rules=rules, out_dir=out, tiles="OpenStreetMap")
    assert line in (out / "zones" / f"{code}.html").read_text(encoding="utf-8")
    geo = json.loads((out / "zones.geojson").read_text(encoding="utf-8"))
    assert next(f for f in geo["features"] if f["properties"]["code"] == code)["properties"]["four_sides"] == words
    # a zone with no words recorded (the demo import) has no such line
    plain = _zone(engine, tmp_path, rules, published=False)
    assert "四至（申报表）" not in client.get(f"/zones/{plain}/map").text
