"""/statistics on real PostGIS: the numbers against zones set up in several cities and states, a fixed number of SQL
statements whatever the zone count, the page's tables and chart data, the map coloured by state, who may see it."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
import shapely
from geoalchemy2 import WKTElement
from sqlalchemy import select

from tests.conftest import count_statements, demo_copy, role_clients
from zonegeo.db.models import Building, ChangeEvent, Institution, LifecycleEvent, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.services import statistics
from zonegeo.services.exports import Scope

TODAY = dt.date(2026, 11, 26)
SQUARE = shapely.box(119.50, 31.50, 119.51, 31.51)
HOUSE = shapely.box(119.502, 31.502, 119.503, 31.503)


def wkt(geom) -> WKTElement:
    return WKTElement(shapely.MultiPolygon([geom]).wkt, srid=4490)


def add_zone(s, city: str, status: str, *, approved: bool = True) -> Zone:
    z = Zone(code=f"ST-{uuid.uuid4().hex[:10]}", name=f"统计测试{city}", city=city, builder="建设主体", status=status,
             dates={}, four_sides={})
    s.add(z)
    s.flush()
    if approved:
        v = ZoneVersion(zone_id=z.id, number=1, state="approved", boundary=wkt(SQUARE), core=wkt(HOUSE),
                        content_sha256="0" * 64, effective_on=TODAY)
        s.add(v)
        s.flush()
        s.add(Building(version_id=v.id, name="甲楼", footprint=wkt(HOUSE), floors=10, floors_used=4))
    return z


def add_institution(s, z: Zone, kind: str, chain: list[str], entered: dt.date, left: dt.date | None = None) -> None:
    s.add(Institution(zone_id=z.id, name=f"机构{uuid.uuid4().hex[:6]}", kind=kind, chain=chain, services=["代理"],
                      location=WKTElement("POINT(119.505 31.505)", srid=4490), entered_on=entered, left_on=left))


def add_change(s, z: Zone, due: dt.date, reported: dt.date | None) -> None:
    s.add(ChangeEvent(zone_id=z.id, kind="operator", occurred_on=due - dt.timedelta(days=21), report_due=due,
                      reported_on=reported))


def add_event(s, z: Zone, action: str, on: dt.date, **data) -> None:
    s.add(LifecycleEvent(zone_id=z.id, action=action, from_state="operating", to_state="operating", on_date=on,
                         actor="x", role="province", data=data))


def scenario(s) -> dict[str, Zone]:
    """无锡市: two zones in construction, one operating; 常州市: one application (no layout)."""
    a, b = add_zone(s, "无锡市", "construction"), add_zone(s, "无锡市", "construction")
    c, d = add_zone(s, "无锡市", "operating"), add_zone(s, "常州市", "submitted", approved=False)
    add_institution(s, a, "institution", ["创造", "运用"], dt.date(2025, 3, 1))
    add_institution(s, a, "institution", ["创造"], dt.date(2026, 3, 1))
    add_institution(s, b, "protection_center", ["保护"], dt.date(2026, 4, 1))  # a platform: no chain count
    add_institution(s, c, "institution", ["人才"], dt.date(2025, 1, 1), left=dt.date(2026, 1, 1))  # left
    add_change(s, a, TODAY - dt.timedelta(days=5), TODAY - dt.timedelta(days=2))  # late
    add_change(s, a, TODAY - dt.timedelta(days=5), TODAY - dt.timedelta(days=5))  # on time (on the day)
    add_change(s, b, TODAY - dt.timedelta(days=1), None)  # overdue
    add_change(s, d, TODAY, None)  # due today: not overdue yet
    add_event(s, a, "approve", dt.date(2025, 6, 30))
    add_event(s, b, "approve", dt.date(2026, 2, 1))
    add_event(s, c, "evaluate", dt.date(2025, 5, 1), grade="excellent")
    add_event(s, c, "evaluate", dt.date(2026, 5, 1), grade="fail", rectification_months=6)
    add_event(s, a, "evaluate", dt.date(2026, 5, 2), grade="pass")
    s.flush()
    return {"a": a, "b": b, "c": c, "d": d}


def row(table: list[dict], key: str) -> list[int]:
    return next((r["values"] for r in table if r["key"] == key), [])


def minus(after: list[int], before: list[int]) -> list[int]:
    before = before or [0] * len(after)
    return [x - y for x, y in zip(after, before, strict=True)]


def test_the_numbers_match_the_zones_set_up(session, rules):
    scope = Scope()
    before = statistics.compute(session=session, scope=scope, rules=rules, today=TODAY)
    scenario(session)
    after = statistics.compute(session=session, scope=scope, rules=rules, today=TODAY)
    states = [s["key"] for s in after["states"]]
    by_state = dict(zip(states, row(after["zones_by_state"], "无锡市"), strict=True))
    old = dict(zip([s["key"] for s in before["states"]], row(before["zones_by_state"], "无锡市"), strict=False))
    assert by_state["construction"] - old.get("construction", 0) == 2
    assert by_state["operating"] - old.get("operating", 0) == 1
    assert after["zone_count"] - before["zone_count"] == 4
    # areas: three approved layouts in 无锡市, measured as the reports measure them
    wx_after = next(a for a in after["areas"] if a["city"] == "无锡市")
    wx_before = next((a for a in before["areas"] if a["city"] == "无锡市"), {"zones": 0, "land_m2": 0, "floor_m2": 0})
    assert wx_after["zones"] - wx_before["zones"] == 3
    assert wx_after["land_m2"] - wx_before["land_m2"] == pytest.approx(3 * geodesic_area_m2(SQUARE), rel=1e-9)
    assert wx_after["floor_m2"] - wx_before["floor_m2"] == pytest.approx(3 * 4 * geodesic_area_m2(HOUSE), rel=1e-6)
    assert "常州市" not in {a["city"] for a in after["areas"]} - {a["city"] for a in before["areas"]}
    # institutions: active service institutions by chain link; platforms by kind only; the one that left not at all
    assert minus(row(after["by_chain"], "无锡市"), row(before["by_chain"], "无锡市")) == [2, 1, 0, 0]
    kinds = [k["key"] for k in after["kinds"]]
    kind_delta = dict(zip(kinds, minus(row(after["by_kind"], "无锡市"), row(before["by_kind"], "无锡市")), strict=True))
    assert kind_delta["institution"] == 2 and kind_delta["protection_center"] == 1 and sum(kind_delta.values()) == 3
    # change reports: 按时报告, 逾期报告, 已逾期, 未到期
    assert minus(row(after["changes"], "无锡市"), row(before["changes"], "无锡市")) == [1, 1, 1, 0]
    assert minus(row(after["changes"], "常州市"), row(before["changes"], "常州市")) == [0, 0, 0, 1]
    # evaluations by grade and year (优秀, 合格, 不合格)
    grades = {r["year"]: r["values"] for r in after["by_grade"]}
    old_grades = {r["year"]: r["values"] for r in before["by_grade"]}
    assert minus(grades[2025], old_grades.get(2025, [])) == [1, 0, 0]
    assert minus(grades[2026], old_grades.get(2026, [])) == [0, 1, 1]
    # year on year
    years = {r["year"]: r for r in after["years"]}
    old_years = {r["year"]: r["values"] for r in before["years"]}

    def grew(year: int, metric: str) -> int:
        return years[year]["values"][metric] - old_years.get(year, {}).get(metric, 0)

    assert (grew(2025, "approved"), grew(2026, "approved")) == (1, 1)
    assert (grew(2025, "entered"), grew(2026, "entered"), grew(2026, "left")) == (2, 2, 1)
    assert (grew(2025, "evaluated"), grew(2026, "evaluated")) == (1, 2)
    assert years[2026]["delta"]["approved"] == years[2026]["values"]["approved"] - years[2025]["values"]["approved"]
    assert after["years"][0]["delta"]["approved"] is None


def test_a_city_scope_counts_its_city_only(session, rules):
    scenario(session)
    data = statistics.compute(session=session, scope=Scope(city="常州市"), rules=rules, today=TODAY)
    assert data["scope"] == "常州市" and data["cities"] == ["常州市"]
    assert {r["key"] for r in data["zones_by_state"]} == {"常州市"}
    assert all(r["key"] == "常州市" for r in data["changes"] + data["by_kind"] + data["by_chain"])


def test_the_number_of_statements_does_not_grow_with_the_zones(session, engine, rules):
    scenario(session)
    session.expire_all()
    few = count_statements(engine, lambda: statistics.compute(session=session, scope=Scope(), rules=rules, today=TODAY))
    for _ in range(10):
        scenario(session)
    session.expire_all()
    many = count_statements(engine, lambda: statistics.compute(session=session, scope=Scope(), rules=rules, today=TODAY))
    assert few == many == statistics.STATEMENTS


def test_the_charts_carry_the_tables_numbers(session, rules):
    scenario(session)
    data = statistics.compute(session=session, scope=Scope(), rules=rules, today=TODAY)
    charts = {c["id"]: c for c in statistics.charts(data)}
    assert len(charts) == 7
    states = charts["chart-states"]
    assert states["labels"] == [r["key"] for r in data["zones_by_state"]] and states["stacked"]
    construction = next(d for d in states["datasets"] if d["label"] == "建设期")
    i = states["labels"].index("无锡市")
    assert construction["data"][i] == row(data["zones_by_state"], "无锡市")[
        [s["key"] for s in data["states"]].index("construction")]
    assert charts["chart-chains"]["datasets"][0]["data"] == data["chain_totals"]
    assert charts["chart-years"]["labels"] == [str(r["year"]) for r in data["years"]]


# ---- over HTTP ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def suzhou(engine, tmp_path_factory, demo_zone, tokens) -> str:
    """A committed demo copy in 苏州市 (not the city user's 南京市)."""
    from zonegeo.services.zones import import_zone

    folder, code = demo_copy(tmp_path_factory.mktemp("stat"), "STAT")
    toml = folder / "zone.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('city = "南京市"', 'city = "苏州市"'), encoding="utf-8")
    with transaction(session_factory(engine)) as s:
        import_zone(session=s, folder=folder)
    return code


@pytest.fixture(scope="module")
def as_role(settings, tokens, suzhou):
    yield from role_clients(settings, tokens)


def chart_data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="stat-data">(.*?)</script>', html, re.S)
    assert block
    return json.loads(block.group(1))


def test_the_province_page_shows_tables_charts_and_the_map(as_role, engine, suzhou):
    r = as_role("province").get("/statistics")
    assert r.status_code == 200
    html = r.text
    for table in ("states", "areas", "chains", "kinds", "changes", "grades", "years"):
        assert f'id="table-{table}"' in html and f'<canvas id="chart-{table}" role="img"' in html
    assert [c["id"] for c in chart_data(html)["charts"]] == [f"chart-{t}" for t in (
        "states", "areas", "chains", "kinds", "changes", "grades", "years")]
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js">' in html and "cdn" not in html.lower()
    assert 'src="/statistics/map"' in html and 'data-city="苏州市"' in html and 'id="stat-scope"' in html
    with session_factory(engine)() as s:
        total = len(s.scalars(select(Zone.id)).all())
    assert f"共{total}个集聚区" in html
    # the script and the library are served from this site
    assert as_role("province").get("/static/statistics.js").status_code == 200
    lib = as_role("province").get("/static/vendor/chartjs/chart.umd.min.js")
    assert lib.status_code == 200 and "Chart.js v4" in lib.text[:200]


def test_the_province_picks_a_city(as_role, suzhou):
    r = as_role("province").get("/statistics", params={"city": "苏州市"})
    assert r.status_code == 200 and "统计（苏州市）" in r.text and 'src="/statistics/map?city=' in r.text
    assert set(re.findall(r'<tr data-city="([^"]+)"', r.text)) == {"苏州市"}
    bad = as_role("province").get("/statistics", params={"city": "杭州市"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_city"


def test_the_map_is_coloured_by_state_with_a_legend(as_role, suzhou):
    r = as_role("province").get("/statistics/map", params={"city": "苏州市"})
    assert r.status_code == 200 and "苏州市集聚区分布（按状态着色）" in r.text
    assert statistics.STATE_COLOURS["construction"] in r.text and "建设期（" in r.text and "zg-legend" in r.text
    assert "unpkg" not in r.text and "cdn.jsdelivr" not in r.text  # Leaflet from /assets


def test_a_city_sees_its_own_city(as_role, suzhou, demo_zone):
    r = as_role("city").get("/statistics", params={"city": "苏州市"})
    assert r.status_code == 200 and "统计（南京市）" in r.text and 'id="stat-scope"' not in r.text
    assert set(re.findall(r'<tr data-city="([^"]+)"', r.text)) == {"南京市"}
    m = as_role("city").get("/statistics/map", params={"city": "苏州市"})
    assert m.status_code == 200 and "南京市集聚区分布" in m.text and "演示数据" in m.text and suzhou not in m.text


@pytest.mark.parametrize("role", ["applicant", "expert", "public"])
@pytest.mark.parametrize("path", ["/statistics", "/statistics/map"])
def test_others_may_not_see_the_statistics(as_role, role, path):
    r = as_role(role).get(path)
    assert r.status_code == (401 if role == "public" else 403)
    if role != "public":
        assert "nav-statistics" not in as_role(role).get("/worklist").text  # no link to it either
