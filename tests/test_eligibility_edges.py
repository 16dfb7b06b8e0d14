"""The eligibility report at the regulation's edges (issue 9 §2): each case exactly at and around its edge,
written so that the behaviour before the fix fails it."""

from __future__ import annotations

import dataclasses
import re

import pytest
from rich.console import Console
from shapely.geometry import MultiPolygon

from tests.conftest import PROJECT_ROOT, RULES_FILE
from tests.factories import code, full_chain, institution, plan, rect
from tests.test_rules import _facts
from zonegeo.console import print_report
from zonegeo.domain.check import check_plan
from zonegeo.domain.credit_code import check_char
from zonegeo.domain.measure import largest_gap_m
from zonegeo.domain.model import Building, InstitutionKind
from zonegeo.domain.rules import evaluate
from zonegeo.errors import ConfigError
from zonegeo.ingest.rules_file import load_rules


def rule(report, rid):
    return next(r for r in report.rules if r.id == rid)


def codes(report) -> list[str]:
    return [w.code for w in report.warnings]


def warning(report, wcode):
    return next(w for w in report.warnings if w.code == wcode)


def declared(name: str, x: float, area_m2: float) -> Building:
    """A small building inside the default boundary (and outside the default core) with a declared area."""
    return Building(name, rect(x, 150, 10, 10), floors=10, floors_used=10, declared_floor_area_m2=area_m2)


# ---- sums at thresholds -------------------------------------------------------------------------------

def test_declared_floor_areas_adding_to_exactly_5000_pass(rules):
    # 1438.06 + 2864.99 + 696.95 is 5000.00, but 4999.999999999999 in binary floating point.
    assert 1438.06 + 2864.99 + 696.95 < 5000
    buildings = [declared("甲", 100, 1438.06), declared("乙", 120, 2864.99), declared("丙", 140, 696.95)]
    report = check_plan(plan(buildings=buildings), rules)
    r = rule(report, "floor_area")
    assert r.passed and r.actual == 5000.0
    assert "5,000.00平方米，达到" in r.message
    assert report.areas["floor_m2"] == 5000.0


def test_declared_floor_areas_one_cent_short_fail_and_print_what_was_compared(rules):
    buildings = [declared("甲", 100, 1438.06), declared("乙", 120, 2864.99), declared("丙", 140, 696.94)]
    r = rule(check_plan(plan(buildings=buildings), rules), "floor_area")
    assert not r.passed and r.actual == 4999.99
    assert "4,999.99平方米，未达到" in r.message


@pytest.mark.parametrize(("core_m2", "passed", "shown"), [
    (999.9999999999999, True, "1,000.00"),  # a sum that is 1000 in decimals
    (999.995, True, "1,000.00"),  # rounds half up to the figure printed
    (999.9949, False, "999.99"),
    (1000.0, True, "1,000.00"),
])
def test_core_area_is_compared_rounded_to_a_hundredth(rules, core_m2, passed, shown):
    r = next(r for r in evaluate(rules, _facts(core_land_m2=core_m2)) if r.id == "core_area")
    assert r.passed is passed
    assert f"{shown}平方米" in r.message
    assert r.actual == float(shown.replace(",", ""))


def test_core_floor_basis_sums_declared_areas_exactly(rules):
    # With the floor basis, 364.53 + 558.18 + 77.29 = 1000.00 m² of declared floor area in the core passes.
    assert 364.53 + 558.18 + 77.29 < 1000
    floor_rules = _with_basis(rules, "floor")
    in_core = [Building(n, rect(x, 20, 10, 10), floors=2, floors_used=2, declared_floor_area_m2=a)
               for n, x, a in (("甲", 15, 364.53), ("乙", 30, 558.18), ("丙", 45, 77.29))]
    report = check_plan(plan(buildings=[*in_core, declared("大楼", 150, 6000)]), floor_rules)
    r = rule(report, "core_area")
    assert r.passed and r.actual == 1000.0 and r.evidence["core_basis"] == "floor"


# ---- points on the boundary ---------------------------------------------------------------------------

def _edge_midpoint(boundary: MultiPolygon) -> tuple[float, float]:
    (x0, y0), (x1, y1) = list(boundary.geoms[0].exterior.coords)[:2]
    return (x0 + x1) / 2, (y0 + y1) / 2


def test_institution_on_an_edge_given_in_lonlat_is_inside(rules):
    boundary = rect(0, 0, 200, 200)
    lon, lat = _edge_midpoint(boundary)  # the south edge: not a vertex
    on_edge = dataclasses.replace(institution(88), lon=lon, lat=lat)
    report = check_plan(plan(boundary=boundary, institutions=[*full_chain(14), on_edge, _platform()]), rules)
    assert report.institutions["outside"] == []
    assert rule(report, "institutions").passed
    w = warning(report, "on_boundary_by_tolerance")
    assert [p["name"] for p in w.detail["points"]] == ["机构88"]
    assert "机构88" in w.message and report.institutions["on_boundary_by_tolerance"] == ["机构88"]


def test_platform_on_an_edge_is_inside(rules):
    boundary = rect(0, 0, 200, 200)
    lon, lat = _edge_midpoint(boundary)
    platform = dataclasses.replace(_platform(), lon=lon, lat=lat)
    report = check_plan(plan(boundary=boundary, institutions=[*full_chain(15), platform]), rules)
    assert rule(report, "platforms").passed
    assert warning(report, "on_boundary_by_tolerance").detail["points"][0]["kind"] == "rapid_rights_center"


@pytest.mark.parametrize(("beyond_m", "inside"), [(0.0499, True), (0.0501, False)])
def test_the_edge_tolerance_is_the_stated_five_centimetres(rules, beyond_m, inside):
    assert rules.edge_tolerance_m == 0.05
    near = institution(88, 200 + beyond_m, 100)  # just east of the east edge, in the zone's GK zone
    report = check_plan(plan(institutions=[*full_chain(14), near, _platform()]), rules)
    assert rule(report, "institutions").passed is inside
    if inside:
        assert "on_boundary_by_tolerance" in codes(report)
    else:
        (out,) = report.institutions["outside"]
        assert out["distance_m"] == pytest.approx(beyond_m, abs=0.001)


def test_a_point_inside_is_not_reported_as_counted_by_tolerance(rules):
    assert "on_boundary_by_tolerance" not in codes(check_plan(plan(), rules))


# ---- floor area inside the 四至 ------------------------------------------------------------------------

def test_a_building_half_outside_counts_its_inside_share(rules):
    # 20 × 30 m of a 40 × 30 m, 10-floor building lie inside: 6 000 of 12 000 m².
    half = Building("半出楼", rect(180, 100, 40, 30), floors=10, floors_used=10)
    report = check_plan(plan(buildings=[half]), rules)
    assert report.areas["floor_m2"] == pytest.approx(6000, rel=1e-3)
    assert report.areas["floor_excluded_m2"] == pytest.approx(6000, rel=1e-3)
    (b,) = report.buildings
    assert b.inside_share == pytest.approx(0.5, abs=1e-4) and b.floor_full_m2 == pytest.approx(12000, rel=1e-3)
    w = warning(report, "buildings_cut_by_boundary")
    assert w.detail["buildings"][0]["name"] == "半出楼" and "半出楼" in w.message
    assert w.detail["floor_excluded_m2"] == pytest.approx(6000, rel=1e-3)


def test_half_outside_building_no_longer_lifts_the_zone_over_5000(rules):
    # In full it would be 20 × 30 × 10 = 6000 m² (passes); inside the boundary only 3000 m².
    half = Building("半出楼", rect(190, 100, 20, 30), floors=10, floors_used=10)
    r = rule(check_plan(plan(buildings=[half]), rules), "floor_area")
    assert not r.passed and r.actual == pytest.approx(3000, rel=1e-3)
    assert "未计入" in r.message


def test_a_building_wholly_outside_counts_nothing(rules):
    inside = Building("内楼", rect(100, 100, 30, 30), floors=4, floors_used=4)  # 3600 m²
    outside = Building("外楼", rect(300, 100, 40, 30), floors=20, floors_used=20)  # 24 000 m², all outside
    report = check_plan(plan(buildings=[inside, outside]), rules)
    assert report.areas["floor_m2"] == pytest.approx(3600, rel=1e-3)
    assert not rule(report, "floor_area").passed
    cut = warning(report, "buildings_cut_by_boundary").detail["buildings"]
    assert [(b["name"], b["inside_share"]) for b in cut] == [("外楼", 0.0)]


def test_a_declared_figure_is_scaled_by_the_inside_share(rules):
    half = Building("半出楼", rect(180, 100, 40, 30), floors=10, floors_used=10, declared_floor_area_m2=12000.0)
    report = check_plan(plan(buildings=[half]), rules)
    assert report.areas["floor_m2"] == pytest.approx(6000, rel=1e-3)
    assert report.buildings[0].floor_full_m2 == 12000.0


def test_a_building_sharing_the_boundary_edge_counts_whole(rules):
    b = Building("贴边楼", rect(160, 0, 40, 30), floors=10, floors_used=10)
    report = check_plan(plan(buildings=[b]), rules)
    assert report.buildings[0].inside_share == 1.0
    assert "buildings_cut_by_boundary" not in codes(report)


# ---- core area: one stated basis ----------------------------------------------------------------------

def _with_basis(rules, basis: str):
    core = rules.rules["core_area"] | {"area_basis": basis}
    return dataclasses.replace(rules, rules=rules.rules | {"core_area": core})


def test_a_gatehouse_in_the_core_does_not_switch_the_basis(rules):
    # A 32 × 32 m core (1024 m² of land) passes; a 5 × 5 m, one-floor gatehouse in it must not turn the
    # measure into 25 m² of floor area.
    gatehouse = Building("门卫室", rect(20, 20, 5, 5), floors=1, floors_used=1)
    report = check_plan(plan(core=rect(10, 10, 32, 32), buildings=[gatehouse, declared("主楼", 150, 6000)]),
                        rules)
    r = rule(report, "core_area")
    assert r.passed and r.evidence["core_basis"] == "land"
    assert r.actual == pytest.approx(1024, rel=1e-3)
    assert report.areas["core_floor_m2"] == pytest.approx(25, rel=1e-3)
    assert r.evidence["core_floor_m2"] == pytest.approx(25, rel=1e-3)
    assert r.evidence["core_land_m2"] == pytest.approx(1024, rel=1e-3)
    assert "核心区用地面积" in r.message and "核心区内建筑面积" in r.message


def test_both_core_figures_are_reported_whatever_the_basis(rules):
    b = Building("楼", rect(20, 20, 20, 20), floors=3, floors_used=3)  # 1200 m² of floor area in the core
    report = check_plan(plan(core=rect(10, 10, 30, 30), buildings=[b, declared("主楼", 150, 6000)]),
                        _with_basis(rules, "floor"))
    r = rule(report, "core_area")
    assert r.passed and r.actual == pytest.approx(1200, rel=1e-3)  # floor basis: 1200 ≥ 1000
    assert report.areas["core_basis"] == "floor"
    assert report.areas["core_land_m2"] == pytest.approx(900, rel=1e-3)
    assert r.evidence["core_land_m2"] == pytest.approx(900, rel=1e-3)


def test_the_core_is_measured_within_the_boundary(rules):
    # 40 × 40 m core, half of it east of the boundary: 800 m² inside, which fails; 1600 m² in all would pass.
    report = check_plan(plan(core=rect(180, 10, 40, 40)), rules)
    r = rule(report, "core_area")
    assert not r.passed and r.actual == pytest.approx(800, rel=1e-3)
    assert report.areas["core_land_m2"] == pytest.approx(800, rel=1e-3)


def test_a_core_outside_the_boundary_contributes_nothing(rules):
    b = Building("外楼", rect(300, 300, 40, 40), floors=5, floors_used=5)
    report = check_plan(plan(core=rect(300, 300, 50, 50), buildings=[b, declared("主楼", 150, 6000)]), rules)
    assert report.areas["core_land_m2"] == 0.0 and report.areas["core_floor_m2"] == 0.0
    assert not rule(report, "core_area").passed


def test_the_rules_file_states_the_basis_and_its_reading():
    loaded = load_rules(RULES_FILE)
    assert loaded.core_area_basis == "land"
    assert "核心区用地面积" in loaded.rules["core_area"]["reading"]


def test_a_rules_file_without_a_core_basis_is_refused(tmp_path):
    text = RULES_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "rules.toml"
    broken.write_text(re.sub(r'(?m)^area_basis = .*$', 'area_basis = "both"', text), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_rules(broken)
    assert e.value.detail["rule"] == "core_area"


# ---- open “等” lists ----------------------------------------------------------------------------------

def _platform(x=30, y=30, kind=InstitutionKind.RAPID_RIGHTS_CENTER):
    return institution(500, x, y, chain=(), kind=kind)


def test_a_platform_of_another_kind_counts_as_a_platform(rules):
    other = dataclasses.replace(_platform(kind=InstitutionKind.OTHER_PLATFORM), kind_label="知识产权信息公共服务网点")
    report = check_plan(plan(institutions=[*full_chain(15), other]), rules)
    assert rule(report, "platforms").passed
    (p,) = report.institutions["platforms"]
    assert p["kind"] == "other_platform" and p["kind_label"] == "知识产权信息公共服务网点"
    assert report.institutions["inside"] == 15  # not counted as an institution
    assert "知识产权信息公共服务网点" in warning(report, "other_platform_kind").message


def test_another_chain_link_is_shown_but_does_not_replace_the_four(rules):
    insts = full_chain(15)
    insts[0] = dataclasses.replace(insts[0], chain_other=("管理",))
    report = check_plan(plan(institutions=[*insts, _platform()]), rules)
    assert report.institutions["chain_other"] == {"管理": 1}
    assert set(report.institutions["chain_coverage"]) == {"创造", "运用", "保护", "人才"}
    assert "other_chain_link" in codes(report)


# ---- what cannot be measured is named -----------------------------------------------------------------

def test_every_report_lists_the_manual_review_items(rules):
    data = check_plan(plan(), rules).to_dict()
    assert [i["id"] for i in data["manual_review"]] == [i.id for i in rules.manual_review]
    assert len(data["manual_review"]) == 6
    assert all(set(i) == {"id", "title", "basis"} and i["basis"].startswith("第二章") for i in data["manual_review"])


def test_the_conclusion_claims_only_the_quantitative_conditions(rules):
    good = check_plan(plan(), rules)
    assert good.eligible
    assert good.conclusion.startswith("量化条件全部符合；以下事项需人工审核：")
    assert all(item.title in good.conclusion for item in rules.manual_review)
    bad = check_plan(plan(buildings=[]), rules)
    assert not bad.eligible
    assert bad.conclusion.startswith("量化条件未全部符合：集聚区建筑面积")
    for report in (good, bad):
        data = report.to_dict()
        assert data["conclusion"] == report.conclusion and "符合全部" not in data["conclusion"]
        assert "eligible_scope" in data


def test_the_terminal_report_lists_the_review_items_and_the_conclusion(rules):
    console = Console(record=True, width=200)
    print_report(check_plan(plan(), rules), console)
    text = console.export_text()
    assert "需人工审核的事项" in text and "配套服务健全" in text
    assert "结论：量化条件全部符合；以下事项需人工审核" in text
    assert "符合全部申报条件" not in text


def test_no_source_file_claims_all_conditions_are_met():
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "src").rglob("*")
                 if p.suffix in {".py", ".html"} and re.search("符合全部|全部申报条件|全部条件",
                                                               p.read_text(encoding="utf-8"))]
    assert offenders == []


# ---- flags for a reviewer -----------------------------------------------------------------------------

@pytest.mark.parametrize(("gap_m", "flagged"), [(999.99, False), (1000.01, True)])
def test_parcels_far_apart_are_flagged(rules, gap_m, flagged):
    boundary = MultiPolygon([*rect(0, 0, 200, 200).geoms, *rect(200 + gap_m, 0, 100, 100).geoms])
    report = check_plan(plan(boundary=boundary), rules)
    assert ("parts_far_apart" in codes(report)) is flagged
    if flagged:
        assert warning(report, "parts_far_apart").detail["gap_m"] == pytest.approx(gap_m, abs=0.1)


def test_the_gap_is_the_one_needed_to_connect_all_parcels():
    # Two pairs of parcels 100 m apart within each pair, the pairs 1500 m apart: the gap is 1500 m.
    parts = [rect(0, 0, 100, 100), rect(200, 0, 100, 100), rect(1800, 0, 100, 100), rect(2000, 0, 100, 100)]
    gap, pair = largest_gap_m(MultiPolygon([p.geoms[0] for p in parts]))
    assert gap == pytest.approx(1500, abs=0.01) and sorted(pair) == [1, 2]
    assert largest_gap_m(rect(0, 0, 10, 10)) == (0.0, None)


def _public_code(seed: int) -> str:
    first17 = "12320000" + code(seed)[8:17]
    return first17 + check_char(first17)


def test_a_public_institution_code_typed_as_a_service_institution_is_flagged(rules):
    insts = full_chain(15)
    insts[3] = dataclasses.replace(insts[3], credit_code=_public_code(3))
    report = check_plan(plan(institutions=[*insts, _platform()]), rules)
    w = warning(report, "public_institution_code")
    assert w.detail["institutions"] == [{"name": "机构3", "credit_code": _public_code(3)}]
    assert rule(report, "institutions").actual == 15  # flagged, still counted
    assert "public_institution_code" not in codes(check_plan(plan(), rules))


@pytest.mark.parametrize("marker", ["分公司", "分所", "分中心", "办事处", "分部"])
def test_branch_offices_are_flagged(rules, marker):
    insts = full_chain(15)
    insts[2] = dataclasses.replace(insts[2], name=f"某某知识产权代理有限公司南京{marker}")
    report = check_plan(plan(institutions=[*insts, _platform()]), rules)
    assert warning(report, "branch_office").detail["institutions"][0]["marker"] == marker


def test_plain_names_are_not_branch_offices(rules):
    assert "branch_office" not in codes(check_plan(plan(), rules))

