"""Every rule just below and just above its threshold, and the evidence it gives."""

from __future__ import annotations

import dataclasses

import pytest

from tests.factories import full_chain, institution, lonlat, plan, rect
from zonegeo.domain.check import check_plan
from zonegeo.domain.model import Building, ChainLink, InstitutionKind
from zonegeo.domain.rules import Facts, evaluate
from zonegeo.errors import ConfigError
from zonegeo.ingest.rules_file import load_rules


def rule(report, rid):
    return next(r for r in report.rules if r.id == rid)


def test_default_plan_is_eligible(rules):
    report = check_plan(plan(), rules)
    assert [r.id for r in report.rules if not r.passed] == []
    assert report.eligible


def _facts(**kw) -> Facts:
    base = dict(floor_m2=6000.0, core_land_m2=2000.0, core_floor_m2=0.0, core_basis="land", institutions_counted=15,
                institutions_excluded={}, chain_counts={"创造": 1, "运用": 1, "保护": 1, "人才": 1},
                platforms_inside=[{"name": "p", "kind": "protection_center"}], platforms_outside=[],
                core_outside_m2=0.0, buildings_outside=[])
    return Facts(**(base | kw))


@pytest.mark.parametrize(("field", "below", "at"), [
    ("floor_m2", 4999.99, 5000.0),
    ("core_land_m2", 999.99, 1000.0),
    ("institutions_counted", 14, 15),
])
def test_thresholds_are_inclusive(rules, field, below, at):
    ids = {"floor_m2": "floor_area", "core_land_m2": "core_area", "institutions_counted": "institutions"}
    by_id = {r.id: r for r in evaluate(rules, _facts(**{field: below}))}
    assert not by_id[ids[field]].passed
    by_id = {r.id: r for r in evaluate(rules, _facts(**{field: at}))}
    assert by_id[ids[field]].passed


@pytest.mark.parametrize(("floors", "passed"), [(5, False), (6, True)])
def test_floor_area_from_geometry(rules, floors, passed):
    # 29 m × 29 m ≈ 841 m² a floor: 5 floors ≈ 4205 m² (fails), 6 floors ≈ 5046 m² (passes).
    b = Building("楼", rect(100, 100, 29, 29), floors=floors, floors_used=floors)
    r = rule(check_plan(plan(buildings=[b]), rules), "floor_area")
    assert r.passed is passed
    assert r.actual == pytest.approx(29 * 29 * floors, rel=1e-3)


def test_floors_used_not_floors_count(rules):
    b = Building("楼", rect(100, 100, 40, 30), floors=20, floors_used=3)
    report = check_plan(plan(buildings=[b]), rules)
    assert report.areas["floor_m2"] == pytest.approx(40 * 30 * 3, rel=1e-3)
    assert not rule(report, "floor_area").passed


def test_declared_floor_area_is_used_and_a_large_difference_is_flagged(rules):
    b = Building("楼", rect(100, 100, 40, 30), floors=6, floors_used=6, declared_floor_area_m2=9000.0)
    report = check_plan(plan(buildings=[b]), rules)
    assert report.areas["floor_m2"] == 9000.0
    assert [w.code for w in report.warnings] == ["declared_floor_area_differs"]
    close = dataclasses.replace(b, declared_floor_area_m2=7300.0)
    assert check_plan(plan(buildings=[close]), rules).warnings == []


@pytest.mark.parametrize(("side", "passed"), [(31.5, False), (31.7, True)])
def test_core_land_area_threshold(rules, side, passed):
    # No building in the core: the core's land area counts. 31.5² = 992 m², 31.7² = 1005 m².
    report = check_plan(plan(core=rect(10, 10, side, side)), rules)
    r = rule(report, "core_area")
    assert report.areas["core_basis"] == "land"
    assert r.passed is passed
    assert r.actual == pytest.approx(side * side, rel=1e-3)


def test_core_floor_area_counts_the_share_of_buildings_inside_the_core(rules):
    # Half of a 40 × 20 m, 4-floor building lies in the core: 20 × 20 × 4 = 1600 m². The basis stays the
    # one of the rules file (land); the floor area is reported beside it (changed with issue 9: the basis no
    # longer switches to floor area when a building lies in the core).
    b = Building("楼", rect(50, 20, 40, 20), floors=4, floors_used=4)
    report = check_plan(plan(core=rect(10, 10, 60, 60), buildings=[b]), rules)
    assert report.areas["core_basis"] == "land"
    assert report.areas["core_floor_m2"] == pytest.approx(1600, rel=1e-3)
    assert report.areas["core_land_m2"] == pytest.approx(3600, rel=1e-3)


def test_fifteen_institutions_inside_needed(rules):
    assert rule(check_plan(plan(institutions=[*full_chain(14), _platform()]), rules), "institutions").passed is False
    assert rule(check_plan(plan(institutions=[*full_chain(15), _platform()]), rules), "institutions").passed is True


def _platform(x=30, y=30, kind=InstitutionKind.RAPID_RIGHTS_CENTER):
    return institution(500, x, y, chain=(), kind=kind)


def test_outside_institution_is_not_counted_and_its_distance_is_given(rules):
    far = institution(77, 260, 100)  # 60 m east of the 200 m boundary
    report = check_plan(plan(institutions=[*full_chain(14), far, _platform()]), rules)
    assert not rule(report, "institutions").passed
    (out,) = report.institutions["outside"]
    assert out["name"] == "机构77"
    assert out["distance_m"] == pytest.approx(60, abs=0.1)


def test_point_on_the_boundary_counts_as_inside(rules):
    boundary = rect(0, 0, 200, 200)
    lon, lat = boundary.geoms[0].exterior.coords[1]  # a vertex of the boundary itself
    on_edge = dataclasses.replace(institution(88), lon=lon, lat=lat)
    report = check_plan(plan(boundary=boundary, institutions=[*full_chain(14), on_edge, _platform()]), rules)
    assert report.institutions["outside"] == []
    assert rule(report, "institutions").passed


def test_invalid_credit_code_and_duplicates_are_not_counted(rules):
    insts = full_chain(15)
    bad = dataclasses.replace(insts[0], credit_code=insts[0].credit_code[:17] + "#")
    report = check_plan(plan(institutions=[bad, *insts[1:], _platform()]), rules)
    assert report.institutions["invalid_credit_codes"][0]["name"] == "机构0"
    assert rule(report, "institutions").actual == 14
    dup = dataclasses.replace(insts[1], name="重复机构")
    report = check_plan(plan(institutions=[*insts[1:], dup, _platform()]), rules)
    assert rule(report, "institutions").actual == 14
    assert "duplicate_credit_code" in [w.code for w in report.warnings]


def test_chain_coverage_names_the_missing_link(rules):
    no_talent = [dataclasses.replace(i, chain=(ChainLink.CREATION,)) if ChainLink.TALENT in i.chain else i
                 for i in full_chain(15)]
    r = rule(check_plan(plan(institutions=[*no_talent, _platform()]), rules), "chain_coverage")
    assert not r.passed
    assert "人才" in r.message and r.evidence["counts"]["人才"] == 0


def test_a_platform_is_needed_inside(rules):
    assert not rule(check_plan(plan(institutions=full_chain(15)), rules), "platforms").passed
    outside = rule(check_plan(plan(institutions=[*full_chain(15), _platform(300, 300)]), rules), "platforms")
    assert not outside.passed and outside.evidence["outside"]
    assert rule(check_plan(plan(institutions=[*full_chain(15), _platform()]), rules), "platforms").passed


def test_platforms_are_not_counted_as_institutions(rules):
    platforms = [_platform(kind=k) for k in (InstitutionKind.PROTECTION_CENTER, InstitutionKind.SERVICE_WINDOW)]
    report = check_plan(plan(institutions=[*full_chain(14), *platforms]), rules)
    assert report.institutions["inside"] == 14
    assert len(report.institutions["platforms"]) == 2


def test_core_and_buildings_must_lie_inside_the_boundary(rules):
    report = check_plan(plan(core=rect(180, 10, 40, 40)), rules)  # 20 m of its 40 m width outside
    r = rule(report, "core_inside_boundary")
    assert not r.passed and r.actual == pytest.approx(20 * 40, rel=1e-3)
    b = Building("越界楼", rect(190, 100, 20, 30), floors=10, floors_used=10)
    r = rule(check_plan(plan(buildings=[b]), rules), "buildings_inside_boundary")
    assert not r.passed and "越界楼" in r.message
    assert r.evidence["outside"][0]["outside_m2"] == pytest.approx(10 * 30, rel=1e-3)


def test_a_building_sharing_the_boundary_edge_is_inside(rules):
    b = Building("贴边楼", rect(160, 0, 40, 30), floors=10, floors_used=10)
    assert rule(check_plan(plan(buildings=[b]), rules), "buildings_inside_boundary").passed


def test_missing_core_fails_both_core_rules(rules):
    report = check_plan(dataclasses.replace(plan(), core=None), rules)
    assert not rule(report, "core_area").passed
    assert not rule(report, "core_inside_boundary").passed


def test_every_rule_quotes_its_clause(rules):
    for r in check_plan(plan(), rules).rules:
        assert r.basis.startswith("第二章")


def test_rules_file_problems_are_config_errors(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_rules(tmp_path / "missing.toml")
    assert e.value.code == "rules_file_missing"
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x"\n[rules.floor_area]\nmin_m2 = 5000\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_rules(broken)
    assert e.value.code == "rules_file_incomplete"


def test_lonlat_helper_is_in_nanjing():
    lon, lat = lonlat(0, 0)
    assert 118 < lon < 119 and 31.5 < lat < 32.5
