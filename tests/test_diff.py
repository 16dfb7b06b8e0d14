"""Change detection: real changes are material, re-digitising noise is not."""

from __future__ import annotations

import dataclasses
import random

import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon

from tests.factories import plan, rect
from zonegeo.domain.diff import Tolerances, compare_plans
from zonegeo.domain.model import Building

TOL = Tolerances()
TO_GK = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
TO_LL = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)


def jitter(geom, metres: float, seed: int = 3):
    rng = random.Random(seed)

    def move(coords):
        out = []
        for x, y in coords:
            e, n = TO_GK.transform(x, y)
            out.append(TO_LL.transform(e + rng.uniform(-metres, metres), n + rng.uniform(-metres, metres)))
        out[-1] = out[0]
        return out

    return MultiPolygon([Polygon(move(p.exterior.coords)) for p in geom.geoms])


def test_identical_plans_have_no_change():
    p = plan()
    assert not compare_plans(p, p, TOL).material


def test_sub_metre_jitter_is_not_a_change():
    before = plan()
    after = dataclasses.replace(before, boundary=jitter(before.boundary, 0.4))
    diff = compare_plans(before, after, TOL)
    assert 0 < diff.boundary.hausdorff_m < 1.0
    assert not diff.material and diff.reasons() == []


def test_reordered_vertices_and_another_start_point_are_not_a_change():
    before = plan()
    ring = list(before.boundary.geoms[0].exterior.coords)[:-1]
    restarted = MultiPolygon([Polygon(ring[2:] + ring[:2])])
    reversed_ = MultiPolygon([Polygon(ring[::-1])])
    for after in (restarted, reversed_):
        diff = compare_plans(before, dataclasses.replace(before, boundary=after), TOL)
        assert not diff.material and diff.boundary.hausdorff_m == pytest.approx(0, abs=1e-6)


def test_a_strip_added_is_material_and_measured():
    before = plan()  # boundary 200 m × 200 m
    strip = rect(200, 0, 20, 50)  # 20 m × 50 m along the east side
    merged = shapely.union(before.boundary, strip)
    after = dataclasses.replace(before, boundary=MultiPolygon([merged]) if merged.geom_type == "Polygon" else merged)
    diff = compare_plans(before, after, TOL)
    assert diff.material
    ref = abs(Geod(ellps="GRS80").geometry_area_perimeter(strip)[0])
    assert diff.boundary.area_change_m2 == pytest.approx(ref, rel=1e-3)
    assert diff.boundary.to_dict()["added_m2"] == pytest.approx(ref, rel=1e-3)
    assert diff.boundary.to_dict()["removed_m2"] == pytest.approx(0, abs=0.01)
    assert diff.boundary.hausdorff_m == pytest.approx(20, abs=0.05)
    assert "四至范围变化" in diff.reasons()[0]


def test_buildings_matched_by_overlap_not_by_name_or_order():
    a = Building("甲楼", rect(10, 10, 40, 30), 6, 6)
    b = Building("乙楼", rect(100, 100, 30, 30), 4, 4)
    before = plan(buildings=[a, b])
    renamed_and_reordered = plan(buildings=[dataclasses.replace(b, name="B座"), dataclasses.replace(a, name="A座")])
    assert compare_plans(before, renamed_and_reordered, TOL).buildings == []
    c = Building("丙楼", rect(150, 20, 20, 20), 3, 3)
    diff = compare_plans(before, plan(buildings=[a, c]), TOL)
    assert sorted((ch.kind, ch.name) for ch in diff.buildings) == [("added", "丙楼"), ("removed", "乙楼")]
    assert diff.material


def test_floors_and_shape_changes():
    a = Building("甲楼", rect(10, 10, 40, 30), 6, 6)
    diff = compare_plans(plan(buildings=[a]), plan(buildings=[dataclasses.replace(a, floors_used=5)]), TOL)
    (change,) = diff.buildings
    assert change.kind == "floors_changed" and change.detail["floors_used_after"] == 5
    assert diff.floor_after_m2 < diff.floor_before_m2
    wider = dataclasses.replace(a, footprint=rect(10, 10, 46, 30))
    (change,) = compare_plans(plan(buildings=[a]), plan(buildings=[wider]), TOL).buildings
    assert change.kind == "reshaped" and change.detail["hausdorff_m"] == pytest.approx(6, abs=0.05)
