"""Integrity across zones (issue 14), found by PostGIS: overlapping approved boundaries (the area checked against
pyproj's geodesic area on the CGCS2000 ellipsoid), a shared edge that is no overlap, slivers at the tolerance, one
credit code in two zones, two institutions at one point, a platform registered twice; revoked zones and departed
institutions claim nothing. Then the page (province all, city its own, others 403), the JSON API and the CLI.

The findings compare every pair of zones in the database, and the session's database fills with the other tests'
demo copies, which all overlap one another: this module has a database of its own. The zones are built far from the
demo zone's place, and the findings are read for these zones only."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import select

from tests.conftest import bearer, database_of_its_own
from zonegeo.db.geometry import to_db
from zonegeo.db.models import Institution, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import integrity

database_url, settings, engine, demo_zone, tokens = database_of_its_own("zonegeo_integrity")
GEOD = Geod(a=6378137.0, rf=298.257222101)  # the CGCS2000 ellipsoid
RUN = uuid.uuid4().hex[:6].upper()
LON, LAT = 119.50, 31.50  # away from the demo zone (南京); each case gets its own square of the map


def _code(name: str) -> str:
    return f"IG{RUN}-{name}"


def add_zone(engine, name: str, polygon, *, city: str = "南京市", status: str = "operating",
             institutions: list[dict] | None = None) -> str:
    code = _code(name)
    with transaction(session_factory(engine)) as s:
        zone = Zone(code=code, name=f"核查{name}集聚区", city=city, builder="", operator="运营公司", status=status,
                    dates={}, published=True, note="", four_sides={})
        s.add(zone)
        s.flush()
        s.add(ZoneVersion(zone_id=zone.id, number=1, state="approved", boundary=to_db(MultiPolygon([polygon])),
                          core=None, source_files=[], content_sha256=uuid.uuid4().hex * 2, ingest_warnings=[],
                          uploaded_by="test", effective_on=dt.date(2025, 1, 6)))
        for i in institutions or []:
            s.add(Institution(zone_id=zone.id, name=i["name"], credit_code=i.get("code", ""),
                              kind=i.get("kind", "institution"), services=[], chain=[],
                              location=to_db(Point(*i["at"])), address=i.get("address", ""),
                              entered_on=dt.date(2025, 1, 6), left_on=i.get("left_on")))
    return code


def square(dx: float, dy: float, size: float = 0.01):
    return box(LON + dx, LAT + dy, LON + dx + size, LAT + dy + size)


def mine(session, kind: str | None = None) -> list[dict]:
    """The findings naming this module's zones, asked zone by zone (the whole registry's would compare every pair
    of the zones the other tests add)."""
    found: list[dict] = []
    for code in session.scalars(select(Zone.code).where(Zone.code.startswith(f"IG{RUN}-")).order_by(Zone.code)):
        found += [f for f in integrity.findings(session, zone=code) if f not in found]
    return [f for f in found if kind is None or f["kind"] == kind]


@pytest.fixture(scope="module")
def layout(engine):
    """Every case once, for the module's read-only tests."""
    a = square(0, 0)
    codes = {
        "A": add_zone(engine, "A", a),
        "B": add_zone(engine, "B", square(0.01, 0)),  # shares A's east edge only
        "C": add_zone(engine, "C", box(LON + 0.009, LAT, LON + 0.015, LAT + 0.01), city="苏州市"),  # overlaps A
        "R": add_zone(engine, "R", square(0.002, 0.002, 0.004), status="revoked"),  # inside A, but revoked
    }
    # slivers: D overlaps E by ~0.9 m², F overlaps G by ~1.1 m² (the tolerance is 1 m²)
    metres_per_degree = GEOD.inv(LON, LAT + 0.05, LON + 0.001, LAT + 0.05)[2] / 0.001
    for left, right, area in (("D", "E", 0.9), ("F", "G", 1.1)):
        dy = 0.05 if left == "D" else 0.1
        width = area / (0.01 * 111_000) / metres_per_degree  # the overlap strip's width in degrees (about)
        codes[left] = add_zone(engine, left, square(0, dy))
        codes[right] = add_zone(engine, right, square(0.01 - width, dy))
    shared_code = f"91320100{RUN}TEST1"[:18]
    institutions_h = [
        {"name": "同码机构甲", "code": shared_code, "at": (LON + 0.2005, LAT + 0.0005), "address": "甲路1号"},
        {"name": "同点机构一", "code": "91320100MA1SAMEPT1", "at": (LON + 0.2003, LAT + 0.0003)},
        {"name": "稍远机构一", "code": "91320100MA1FARPT01", "at": (LON + 0.2007, LAT + 0.0007)},
        {"name": "南京知识产权保护中心", "kind": "protection_center", "at": (LON + 0.2001, LAT + 0.0001)},
        {"name": "已退出机构", "code": "91320100MA1LEFT001", "at": (LON + 0.2009, LAT + 0.0009),
         "left_on": dt.date(2025, 6, 1)},
    ]
    near = GEOD.fwd(LON + 0.2003, LAT + 0.0003, 90, 0.5)[:2]  # 0.5 m east: the same point
    far = GEOD.fwd(LON + 0.2007, LAT + 0.0007, 90, 1.5)[:2]  # 1.5 m east: not the same point
    institutions_i = [
        {"name": "同码机构乙", "code": shared_code.lower(), "at": (LON + 0.2015, LAT + 0.0005), "address": "乙路2号"},
        {"name": "同点机构二", "code": "91320100MA1SAMEPT2", "at": near},
        {"name": "稍远机构二", "code": "91320100MA1FARPT02", "at": far},
        {"name": "南京知识产权 保护中心", "kind": "protection_center", "at": (LON + 0.2011, LAT + 0.0011)},
        {"name": "已退出机构", "code": "91320100MA1LEFT001", "at": (LON + 0.2019, LAT + 0.0009)},
    ]
    codes["H"] = add_zone(engine, "H", square(0.2, 0, 0.001), institutions=institutions_h)
    codes["I"] = add_zone(engine, "I", square(0.2011, 0, 0.001),
                          city="苏州市", institutions=institutions_i)
    return codes | {"shared_code": shared_code}


def test_an_overlap_is_reported_with_its_geodesic_area_and_place(layout, session):
    found = mine(session, "zone_overlap")
    pairs = {tuple(f["zones"]): f for f in found}
    overlap = pairs[(layout["A"], layout["C"])]
    lons, lats = [LON + 0.009, LON + 0.01, LON + 0.01, LON + 0.009], [LAT, LAT, LAT + 0.01, LAT + 0.01]
    expected = abs(GEOD.polygon_area_perimeter(lons, lats)[0])
    assert overlap["area_m2"] == pytest.approx(expected, rel=1e-6)
    lon, lat = overlap["where"]
    assert LON + 0.009 <= lon <= LON + 0.01 and LAT <= lat <= LAT + 0.01
    assert overlap["cities"] == ["南京市", "苏州市"]
    assert "批准范围重叠" in overlap["message"] and layout["A"] in overlap["message"]


def test_a_shared_edge_a_sliver_and_a_revoked_zone_are_not_overlaps(layout, session):
    pairs = {tuple(f["zones"]) for f in mine(session, "zone_overlap")}
    assert (layout["A"], layout["B"]) not in pairs  # only an edge in common
    assert (layout["D"], layout["E"]) not in pairs  # ~0.9 m²: at most the tolerance
    assert (layout["F"], layout["G"]) in pairs  # ~1.1 m²: above it
    assert not any(layout["R"] in p for p in pairs)  # revoked: claims nothing
    sliver = next(f for f in mine(session, "zone_overlap") if f["zones"] == [layout["F"], layout["G"]])
    assert 1.0 < sliver["area_m2"] < 1.3


def test_one_credit_code_in_two_zones(layout, session):
    found = [f for f in mine(session, "duplicate_credit_code") if f["credit_code"] == layout["shared_code"].upper()]
    assert len(found) == 1
    claims = found[0]["claims"]
    assert [(c["zone"], c["name"], c["address"]) for c in claims] == [
        (layout["H"], "同码机构甲", "甲路1号"), (layout["I"], "同码机构乙", "乙路2号")]
    assert "同时登记于2个集聚区" in found[0]["message"] and "甲路1号" in found[0]["message"]
    # the one that left zone H claims nothing
    assert not [f for f in mine(session, "duplicate_credit_code") if f["credit_code"] == "91320100MA1LEFT001"]


def test_two_institutions_at_one_point_under_different_codes(layout, session):
    found = mine(session, "same_point")
    names = [{c["name"] for c in f["claims"]} for f in found]
    assert {"同点机构一", "同点机构二"} in names  # 0.5 m apart
    assert {"稍远机构一", "稍远机构二"} not in names  # 1.5 m apart
    hit = found[names.index({"同点机构一", "同点机构二"})]
    assert hit["distance_m"] == pytest.approx(0.5, abs=0.01)


def test_a_platform_registered_twice(layout, session):
    found = mine(session, "duplicate_platform")
    assert len(found) == 1 and found[0]["zones"] == [layout["H"], layout["I"]]
    assert found[0]["platform_kind"] == "知识产权保护中心"
    assert "登记了2次" in found[0]["message"]


def test_findings_of_one_zone_or_one_city_are_those_of_the_whole_registry_naming_it(layout, session):
    everything = integrity.findings(session)
    for name in ("A", "C", "D", "H", "I", "R"):
        expected = integrity.for_zone(everything, layout[name])
        assert integrity.findings(session, zone=layout[name]) == expected
        assert expected or name in ("D", "R")  # D: a sliver only; R: revoked
    for city in ("苏州市", "南京市", "无锡市"):
        assert integrity.for_city(integrity.findings(session, city=city), city) == integrity.for_city(everything, city)
    assert integrity.findings(session, zone=f"IG{RUN}-NONE") == []


def test_the_page_and_the_api_by_role(layout, web_as, client, anon, tokens):
    province = web_as("province-bureau")
    page = province.get("/integrity")
    assert page.status_code == 200
    assert layout["C"] in page.text and "集聚区范围重叠" in page.text and "未核查的事项" in page.text
    city = web_as("nanjing-bureau")  # 南京市: sees A×C (A is in 南京), and H×I (H is in 南京)
    body = client.get("/api/integrity", headers=bearer(tokens, "city")).json()
    assert all("南京市" in f["cities"] for f in body["findings"])
    assert any(f["zones"] == [layout["A"], layout["C"]] for f in body["findings"])
    assert city.get("/integrity").status_code == 200
    # another city's zone: its code and city only, never its names, institutions, addresses or credit codes
    overlap = next(f for f in body["findings"] if f["zones"] == [layout["A"], layout["C"]])
    assert overlap["redacted"] and "核查C集聚区" not in overlap["message"] and f"苏州市{layout['C']}" in overlap["message"]
    shared = next(f for f in body["findings"] if f["kind"] == "duplicate_credit_code" and layout["H"] in f["zones"])
    assert [c["name"] for c in shared["claims"]] == ["同码机构甲"] and "乙路2号" not in str(shared)
    assert "credit_code" not in shared
    page_h = city.get(f"/zones/{layout['H']}").text  # the zone page's section shows the city the same redaction
    section = re.search(r'<section id="integrity".*?</section>', page_h, re.S).group(0)
    assert "同码机构甲" in section and "乙路2号" not in section and "同码机构乙" not in section
    for role in ("applicant", "expert"):
        assert client.get("/api/integrity", headers=bearer(tokens, role)).status_code == 403
    assert anon.get("/api/integrity").status_code == 401
    full = client.get("/api/integrity", headers=bearer(tokens, "province")).json()
    assert full["total"] == len(full["findings"]) >= 5
    assert full["by_kind"]["zone_overlap"] >= 2


def test_the_cli_prints_json_and_exits_1(layout, cli, database_url):
    proc = cli("integrity", env={"ZONEGEO_DATABASE_URL": database_url})
    assert proc.returncode == 1, proc.stderr
    body = json.loads(proc.stdout)
    assert any(f["zones"] == [layout["A"], layout["C"]] for f in body["findings"])
    assert body["not_checked"]


def test_the_zone_page_shows_the_findings_to_the_bureaus_only(layout, web_as, anon):
    page = web_as("province-bureau").get(f"/zones/{layout['H']}").text
    assert 'id="integrity"' in page and "同一机构登记于两个集聚区" in page and "公共服务平台重复登记" in page
    assert 'id="integrity"' not in anon.get(f"/zones/{layout['H']}").text
    assert 'id="integrity"' not in web_as("province-bureau").get(f"/zones/{layout['D']}").text  # a sliver only


def test_a_submitted_version_shows_what_its_approval_would_overlap(layout, engine, web_as, session):
    code = add_zone(engine, "V", square(0.3, 0))
    other = add_zone(engine, "W", square(0.31, 0))  # shares an edge with V's approved layout
    with transaction(session_factory(engine)) as s:
        zone = s.query(Zone).filter_by(code=code).one()
        grown = box(LON + 0.3, LAT, LON + 0.312, LAT + 0.01)  # 0.002° into W
        s.add(ZoneVersion(zone_id=zone.id, number=2, state="submitted", boundary=to_db(MultiPolygon([grown])),
                          core=None, source_files=[], content_sha256=uuid.uuid4().hex * 2, ingest_warnings=[],
                          uploaded_by="test", effective_on=dt.date(2026, 1, 5)))
    assert not [f for f in mine(session, "zone_overlap") if code in f["zones"]]  # approved layouts: no overlap
    page = web_as("province-bureau").get(f"/zones/{code}/versions/2/decide")
    assert page.status_code == 200, page.text
    lons = [LON + 0.31, LON + 0.312, LON + 0.312, LON + 0.31]
    expected = abs(GEOD.polygon_area_perimeter(lons, [LAT, LAT, LAT + 0.01, LAT + 0.01])[0])
    assert 'id="overlaps"' in page.text and other in page.text
    assert f"{expected:,.1f}平方米" in page.text
    assert 'id="overlaps"' not in web_as("province-bureau").get(f"/zones/{code}/versions/1/decide").text


def test_a_register_under_review_names_codes_another_zone_holds(engine, tmp_path, client, web_as, demo_zone):
    from tests.conftest import DEMO, import_demo_copy

    code = import_demo_copy(engine, tmp_path, "IGR")
    lines = (DEMO / "institutions.csv").read_text(encoding="utf-8").splitlines()
    r = client.post(f"/api/zones/{code}/uploads", files=[("files", ("机构.csv", ("\n".join(lines[:3]) + "\n").encode()))],
                    data={"roles": ["institutions"], "crs": ["EPSG:4490"]})
    assert r.status_code in (200, 201), r.text
    number = r.json()["register_draft"]
    page = web_as("province-bureau").get(f"/zones/{code}/register-drafts/{number}").text
    assert 'id="claimed"' in page
    assert f"已登记于集聚区{demo_zone}（" in page  # the demo zone holds the same two institutions
    assert page.count('<li data-code="') >= 2


def test_the_cli_import_warns_of_what_names_the_zone(cli, database_url, demo_zone, tmp_path):
    from tests.conftest import demo_copy

    folder, _ = demo_copy(tmp_path, "IGCLI")  # the demo's layout and register under a new code
    proc = cli("import", str(folder), env={"ZONEGEO_DATABASE_URL": database_url})
    assert proc.returncode == 0, proc.stderr
    assert "跨集聚区核查（zone_overlap）" in proc.stderr and demo_zone in proc.stderr
    assert "跨集聚区核查（duplicate_credit_code）" in proc.stderr


def test_the_upload_result_page_warns_of_overlaps(engine, tmp_path, web_as, demo_zone):
    from tests.conftest import DEMO, import_demo_copy

    code = import_demo_copy(engine, tmp_path, "IGUP")  # the demo's layout: it overlaps the demo zone wholly
    province = web_as("province-bureau")
    r = province.post(f"/api/zones/{code}/uploads", headers={"X-CSRF-Token": province.csrf},
                      files=[("files", ("core.geojson", (DEMO / "core.geojson").read_bytes()))],
                      data={"roles": ["core"], "crs": ["EPSG:4490"]})
    assert r.status_code in (200, 201), r.text
    page = province.get(f"/zones/{code}/upload?draft={r.json()['version']}").text
    assert 'class="note overlap"' in page and demo_zone in page


def _city_file(path, features: dict[str, object]):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"名称": name}, "geometry": json.loads(json.dumps(geom.__geo_interface__))}
        for name, geom in features.items()]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_zone_reaching_outside_its_city_when_the_bureau_supplies_the_boundaries(layout, settings, tokens, tmp_path,
                                                                                 cli, database_url):
    from tests.conftest import app_client

    # 南京市 ends 0.006° east of A's west edge; 苏州市 holds C whole; a city of another province is ignored
    cities = _city_file(tmp_path / "设区市.geojson", {
        "南京市": box(LON - 1, LAT - 1, LON + 0.006, LAT + 1), "苏州市": box(LON + 0.005, LAT - 1, LON + 1, LAT + 1),
        "上海市": box(LON - 5, LAT - 5, LON + 5, LAT + 5)})
    configured = settings.model_copy(update={"city_boundaries": str(cities)})
    with app_client(configured, headers=bearer(tokens, "province")) as c:
        body = c.get("/api/integrity").json()
    assert body["cities_checked"] is True and body["not_checked"] == []
    outside = {f["zones"][0]: f for f in body["findings"] if f["kind"] == "outside_city"}
    lons = [LON + 0.006, LON + 0.01, LON + 0.01, LON + 0.006]
    expected = abs(GEOD.polygon_area_perimeter(lons, [LAT, LAT, LAT + 0.01, LAT + 0.01])[0])
    assert outside[layout["A"]]["area_m2"] == pytest.approx(expected, rel=1e-6)
    assert "在南京市的行政区域之外" in outside[layout["A"]]["message"]
    assert layout["C"] not in outside  # within 苏州市
    proc = cli("integrity", env={"ZONEGEO_DATABASE_URL": database_url, "ZONEGEO_CITY_BOUNDARIES": str(cities)})
    assert proc.returncode == 1 and any(f["kind"] == "outside_city" for f in json.loads(proc.stdout)["findings"])
    # without the file the check is named as not done
    with app_client(settings, headers=bearer(tokens, "province")) as c:
        plain = c.get("/api/integrity").json()
    assert plain["cities_checked"] is False and "ZONEGEO_CITY_BOUNDARIES" in plain["not_checked"][0]
    assert not [f for f in plain["findings"] if f["kind"] == "outside_city"]


def test_a_city_boundaries_file_that_cannot_be_used_is_a_chinese_configuration_error(tmp_path):
    from zonegeo.errors import ConfigError
    from zonegeo.ingest.city_boundaries import load

    with pytest.raises(ConfigError) as missing:
        load(str(tmp_path / "无此文件.geojson"))
    assert missing.value.code == "city_boundaries_missing" and "不存在" in missing.value.message
    nameless = tmp_path / "无名称.geojson"
    nameless.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"城市": "南京市"}, "geometry": box(0, 0, 1, 1).__geo_interface__}]}),
        encoding="utf-8")
    with pytest.raises(ConfigError) as no_name:
        load(str(nameless))
    assert no_name.value.code == "city_boundaries_no_name"
    elsewhere = _city_file(tmp_path / "外省.geojson", {"上海市": box(0, 0, 1, 1)})
    with pytest.raises(ConfigError) as empty:
        load(str(elsewhere))
    assert empty.value.code == "city_boundaries_empty"
