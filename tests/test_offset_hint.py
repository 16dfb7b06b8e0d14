"""The GCJ-02 hint: institutions and buildings copied from Amap (GCJ-02) and read as WGS84 lie a few hundred
metres off; the hint appears only when every one is outside the 四至 and most come inside once converted.
Checked with the reference pairs of tests/data/gcj02_bd09.csv (made by prcoords, not by zonegeo)."""

from __future__ import annotations

import csv

from shapely.geometry import MultiPolygon, box

from tests.conftest import PROJECT_ROOT
from zonegeo.domain.offset_hint import gcj02_hint

HALF = 0.001  # a 四至 box of about ±100 m around each true (WGS84) position; GCJ-02 is 300-600 m off here


def pairs(n: int = 12) -> list[dict[str, float]]:
    with (PROJECT_ROOT / "tests" / "data" / "gcj02_bd09.csv").open(encoding="utf-8") as f:
        rows = [{k: float(v) for k, v in r.items() if v} for r in csv.DictReader(f)]
    return [r for r in rows if r.get("bd09_lon")][:n]


def boundary_around(rows) -> MultiPolygon:
    return MultiPolygon([box(r["wgs84_lon"] - HALF, r["wgs84_lat"] - HALF, r["wgs84_lon"] + HALF,
                             r["wgs84_lat"] + HALF) for r in rows])


def square(lon: float, lat: float, half: float = 0.0001):
    return box(lon - half, lat - half, lon + half, lat + half)


def test_amap_points_and_buildings_all_outside_come_inside_after_conversion():
    rows = pairs()
    gcj = [(r["gcj02_lon"], r["gcj02_lat"]) for r in rows]
    hint = gcj02_hint(boundary_around(rows), gcj[:8], [square(*p) for p in gcj[8:]])
    assert hint is not None
    assert (hint.total, hint.inside_after, hint.roles) == (12, 12, ("institutions", "buildings"))
    assert hint.message == "全部机构和建筑都在四至范围外；若坐标取自高德/腾讯地图（GCJ-02），换算后有12个落在范围内。"
    assert hint.to_dict()["code"] == "gcj02_offset_likely"


def test_only_institutions_names_only_that_row():
    rows = pairs(5)
    hint = gcj02_hint(boundary_around(rows), [(r["gcj02_lon"], r["gcj02_lat"]) for r in rows], [])
    assert hint is not None and hint.roles == ("institutions",) and hint.inside_after == 5


def test_no_hint_when_one_is_already_inside():
    rows = pairs(6)
    points = [(r["gcj02_lon"], r["gcj02_lat"]) for r in rows[:5]] + [(rows[5]["wgs84_lon"], rows[5]["wgs84_lat"])]
    assert gcj02_hint(boundary_around(rows), points, []) is None


def test_no_hint_when_the_points_are_true_wgs84():
    rows = pairs(6)
    assert gcj02_hint(boundary_around(rows), [(r["wgs84_lon"], r["wgs84_lat"]) for r in rows], []) is None


def test_no_hint_for_baidu_points_the_gcj02_reading_does_not_bring_in():
    rows = pairs()
    assert gcj02_hint(boundary_around(rows), [(r["bd09_lon"], r["bd09_lat"]) for r in rows], []) is None


def test_no_hint_when_only_half_come_inside():
    rows = pairs(8)
    far = [(r["gcj02_lon"] + 0.05, r["gcj02_lat"]) for r in rows[4:]]  # 5 km off: not an offset at all
    points = [(r["gcj02_lon"], r["gcj02_lat"]) for r in rows[:4]] + far
    assert gcj02_hint(boundary_around(rows), points, []) is None
    points = [(r["gcj02_lon"], r["gcj02_lat"]) for r in rows[:5]] + far[1:]
    hint = gcj02_hint(boundary_around(rows), points, [])
    assert hint is not None and (hint.inside_after, hint.total) == (5, 8)


def test_nothing_to_look_at():
    rows = pairs(2)
    assert gcj02_hint(boundary_around(rows), [], []) is None
    assert gcj02_hint(None, [(rows[0]["gcj02_lon"], rows[0]["gcj02_lat"])], []) is None
    assert gcj02_hint(MultiPolygon(), [(rows[0]["gcj02_lon"], rows[0]["gcj02_lat"])], []) is None
