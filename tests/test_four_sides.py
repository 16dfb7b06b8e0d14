"""The 四至 beside the drawing: extreme points of a boundary (pure), the words as stored, the service against the
database, and the partial rendered with Jinja."""

from __future__ import annotations

import json

import pytest
from jinja2 import Environment, FileSystemLoader
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from tests.conftest import DEMO
from zonegeo.api.app import TEMPLATES
from zonegeo.db import repo
from zonegeo.domain.four_sides import MAX_WORDS, Extreme, check_words, extremes
from zonegeo.errors import InputError
from zonegeo.services import disclosure, four_sides

SQUARE = Polygon([(118.0, 32.0), (118.01, 32.0), (118.01, 32.01), (118.0, 32.01)])


def test_a_square_ties_on_every_side_and_breaks_them_clockwise():
    got = extremes(SQUARE)
    assert got == {"east": Extreme(118.01, 32.0, 2), "south": Extreme(118.0, 32.0, 2),
                   "west": Extreme(118.0, 32.01, 2), "north": Extreme(118.01, 32.01, 2)}


def test_a_diamond_has_one_vertex_per_direction():
    diamond = Polygon([(118.0, 32.0), (118.1, 32.1), (118.0, 32.2), (117.9, 32.1)])
    got = {k: (e.lon, e.lat, e.tied) for k, e in extremes(diamond).items()}
    assert got == {"east": (118.1, 32.1, 1), "south": (118.0, 32.0, 1), "west": (117.9, 32.1, 1),
                   "north": (118.0, 32.2, 1)}


def test_a_multipolygon_takes_each_extreme_from_the_part_that_reaches_it():
    west_part = Polygon([(118.0, 32.0), (118.01, 31.99), (118.02, 32.0), (118.01, 32.01)])
    east_part = Polygon([(118.1, 32.05), (118.12, 32.06), (118.11, 32.08)])
    got = extremes(MultiPolygon([west_part, east_part]))
    assert (got["east"].lon, got["east"].lat) == (118.12, 32.06)
    assert (got["north"].lon, got["north"].lat) == (118.11, 32.08)
    assert (got["west"].lon, got["west"].lat) == (118.0, 32.0)
    assert (got["south"].lon, got["south"].lat) == (118.01, 31.99)


def test_ties_within_a_millimetre_count_and_further_ones_do_not():
    near = Polygon([(118.0, 32.0), (118.01, 32.0), (118.01 - 5e-9, 32.005), (118.01, 32.01), (118.0, 32.01)])
    assert extremes(near)["east"].tied == 3
    far = Polygon([(118.0, 32.0), (118.01, 32.0), (118.01 - 1e-6, 32.005), (118.01, 32.01), (118.0, 32.01)])
    assert extremes(far)["east"].tied == 2
    assert extremes(far)["east"].lat == 32.0  # east ties: the southern-most


def test_a_hole_never_counts_and_the_closing_vertex_counts_once():
    shell = [(118.0, 32.0), (118.01, 32.0), (118.01, 32.01), (118.0, 32.01), (118.0, 32.0)]
    hole = [(118.002, 32.002), (118.008, 32.002), (118.008, 32.008)]
    got = extremes(Polygon(shell, [hole]))
    assert got["east"].tied == 2 and got["west"].tied == 2  # (118.0, 32.0) is first and last: one vertex


def test_empty_and_non_polygonal_geometries():
    assert extremes(None) is None
    assert extremes(Polygon()) is None
    assert extremes(MultiPolygon()) is None
    with pytest.raises(TypeError):
        extremes(Point(118, 32))


def test_the_demo_boundary_extremes_are_its_vertices():
    geom = shape(json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"])
    got = extremes(geom)
    xs, ys = zip(*geom.exterior.coords, strict=True)
    assert got["east"].lon == max(xs) and got["west"].lon == min(xs)
    assert got["north"].lat == max(ys) and got["south"].lat == min(ys)


# --- the words --------------------------------------------------------------------------------------------------

def test_words_get_their_direction_unless_they_start_with_it():
    got = check_words({"east": " 江东中路 ", "south": "南至河西大街", "west": "西侧以滨江公园为界", "north": "北至 梦都大街"})
    assert got == {"east": "东至江东中路", "south": "南至河西大街", "west": "西侧以滨江公园为界", "north": "北至 梦都大街"}


def test_every_missing_or_long_side_is_named_in_one_error():
    with pytest.raises(InputError) as e:
        check_words({"east": "江东中路", "south": "  ", "west": "x" * (MAX_WORDS + 1), "north": None})
    assert e.value.code == "bad_four_sides"
    assert e.value.detail["empty"] == ["south", "north"] and e.value.detail["too_long"] == ["west"]
    assert "南至、北至" in e.value.message and f"超过{MAX_WORDS}个字符" in e.value.message
    assert check_words({"east": "x" * MAX_WORDS, "south": "a", "west": "b", "north": "c"})["east"] == "东至" + "x" * MAX_WORDS


def test_words_optional_only_when_not_required():
    assert check_words(None, required=False) == {}
    assert check_words({"east": "", "south": "", "west": "", "north": ""}, required=False) == {}
    with pytest.raises(InputError):
        check_words({"east": "江东中路"}, required=False)  # some given: all four
    with pytest.raises(InputError):
        check_words(None)
    with pytest.raises(InputError) as e:
        check_words({"east": "a", "south": "b", "west": "c", "north": "d", "up": "e"})
    assert e.value.detail["unknown"] == ["up"]


# --- the service and the partial ---------------------------------------------------------------------------------

def test_for_zone_reads_the_words_and_the_layout_in_force(session, demo_zone):
    zone = repo.get_zone(session, demo_zone)
    zone.four_sides = {"east": "东至江东中路", "south": "南至河西大街", "west": "西至滨江", "north": "北至梦都大街"}
    session.flush()
    got = four_sides.for_zone(session, zone)
    version = repo.approved_version(session, zone) or repo.latest_version(session, zone)
    assert got["version"] == version.number
    assert got["words"]["east"] == "东至江东中路"
    geom = shape(json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"])
    assert got["extremes"]["east"]["lon"] == pytest.approx(geom.bounds[2], abs=1e-9)
    assert got["extremes"]["north"]["lat"] == pytest.approx(geom.bounds[3], abs=1e-9)
    assert [d for d, _ in got["directions"]] == ["east", "south", "west", "north"]


def test_for_zone_of_a_new_application_has_words_but_no_drawing(session):
    from zonegeo.db.models import Zone

    zone = Zone(code="FS-NEW-1", name="新申报", city="南京市", builder="某区政府", status="draft", dates={},
                four_sides={"east": "东至甲路", "south": "南至乙路", "west": "西至丙路", "north": "北至丁路"})
    session.add(zone)
    session.flush()
    got = four_sides.for_zone(session, zone)
    assert got["extremes"] is None and got["version"] is None and got["words"]["west"] == "西至丙路"
    zone.four_sides = {}
    assert four_sides.for_zone(session, zone) is None


def test_public_pages_see_the_approved_layout_only(session, demo_zone):
    zone = repo.get_zone(session, demo_zone)
    approved = repo.approved_version(session, zone)
    assert four_sides.for_zone(session, zone, policy=disclosure.PUBLIC)["version"] == approved.number
    approved.state = "superseded"  # no layout in force: a draft is not shown to the public
    session.flush()
    zone.four_sides = {"east": "东至甲", "south": "南至乙", "west": "西至丙", "north": "北至丁"}
    got = four_sides.for_zone(session, zone, policy=disclosure.PUBLIC)
    assert got["extremes"] is None and got["words"]["east"] == "东至甲"
    assert four_sides.for_zone(session, zone)["version"] is not None


def _render(context: dict) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("_four_sides.html").render(**context)


def test_the_partial_shows_words_beside_the_farthest_points():
    data = {"words": {"east": "东至<江东中路>", "south": "南至河西大街", "west": "", "north": "北至梦都大街"},
            "extremes": {k: v.to_dict() for k, v in extremes(SQUARE).items()}, "version": 3,
            "directions": [("east", "东"), ("south", "南"), ("west", "西"), ("north", "北")]}
    html = _render({"four_sides": data})
    assert html.count("<tr data-side=") == 4
    assert "东至&lt;江东中路&gt;" in html  # escaped
    assert "118.010000, 32.000000" in html and "118.000000, 32.010000" in html
    assert "（未填写）" in html and "（版本 3）" in html and "2个顶点同为最东" in html
    assert '<th scope="col">申报表所写</th>' in html


def test_the_partial_without_a_drawing_or_without_anything():
    data = {"words": {"east": "东至甲", "south": "南至乙", "west": "西至丙", "north": "北至丁"}, "extremes": None,
            "version": None, "directions": [("east", "东"), ("south", "南"), ("west", "西"), ("north", "北")]}
    html = _render({"four_sides": data})
    assert html.count("尚无四至范围图层") == 4 and "版本" not in html
    assert _render({"four_sides": None}).strip() == ""
