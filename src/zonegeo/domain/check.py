"""Check a zone plan against a rule set: measure once, evaluate the rules, assemble the report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from zonegeo.domain import credit_code
from zonegeo.domain.measure import distances_m, geodesic_area_m2, geodesic_areas_m2, largest_gap_m
from zonegeo.domain.model import Building, ChainLink, Institution, InstitutionKind, ZonePlan
from zonegeo.domain.rules import Facts, ReviewItem, RuleResult, RuleSet, area_figure, evaluate

# What ``eligible`` means, said in every report: the measurable conditions only, never 申报条件 as a whole.
ELIGIBLE_SCOPE = ("eligible 仅表示可量化的条件（建筑面积、核心区面积、机构数量、链条覆盖、公共服务平台、范围）全部符合；"
                  "不可量化的条件列于 manual_review，需人工审核")


@dataclass(frozen=True)
class Warning_:
    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


@dataclass(frozen=True)
class BuildingMeasure:
    name: str
    footprint_m2: float
    floors_used: int
    floor_m2: float  # 建筑面积 counted for the zone: the share inside the 四至
    basis: str  # "computed" (footprint × floors used) or "declared"
    outside_m2: float  # footprint area outside the boundary
    core_share: float  # share of the footprint inside the core (the core within the boundary)
    inside_share: float = 1.0  # share of the footprint inside the boundary (1 within the tolerance)
    floor_full_m2: float = 0.0  # 建筑面积 of the whole building (declared, or footprint × floors used)


@dataclass(frozen=True)
class Report:
    """The eligibility report: the JSON of ``zonegeo check`` and ``zonegeo report``."""

    areas: dict[str, Any]
    institutions: dict[str, Any]
    rules: list[RuleResult]
    warnings: list[Warning_]
    buildings: list[BuildingMeasure]
    ruleset: dict[str, str]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    zone: dict[str, Any] = field(default_factory=dict)
    manual_review: tuple[ReviewItem, ...] = ()  # 需人工审核: what geometry cannot decide

    @property
    def eligible(self) -> bool:
        """Every quantitative rule passes. Not 申报条件 as a whole: see :attr:`manual_review`."""
        return all(r.passed for r in self.rules)

    @property
    def conclusion(self) -> str:
        """The verdict in words; it never claims more than the quantitative conditions."""
        review = "、".join(item.title for item in self.manual_review)
        if self.eligible:
            return "量化条件全部符合" + (f"；以下事项需人工审核：{review}" if review else "")
        failing = "、".join(r.title for r in self.rules if not r.passed)
        return f"量化条件未全部符合：{failing}" + (f"；以下事项另需人工审核：{review}" if review else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "ruleset": self.ruleset,
            "eligible": self.eligible,
            "eligible_scope": ELIGIBLE_SCOPE,
            "conclusion": self.conclusion,
            "areas": self.areas,
            "institutions": self.institutions,
            "rules": [r.to_dict() for r in self.rules],
            "manual_review": [item.to_dict() for item in self.manual_review],
            "buildings": [b.__dict__ for b in self.buildings],
            "warnings": [w.to_dict() for w in self.warnings],
            "inputs": self.inputs,
        }


def _outside_areas(area: BaseGeometry, geoms: np.ndarray) -> np.ndarray:
    """Geodesic area of each geometry outside ``area``; only those not covered are measured."""
    out = np.zeros(len(geoms))
    if len(geoms) == 0:
        return out
    shapely.prepare(area)
    loose = np.flatnonzero(~shapely.covers(area, geoms))
    if len(loose):
        out[loose] = geodesic_areas_m2(shapely.difference(geoms[loose], area))
    return out


def _core_shares(core: BaseGeometry | None, geoms: np.ndarray, footprint_m2: np.ndarray) -> np.ndarray:
    shares = np.zeros(len(geoms))
    if core is None or core.is_empty or len(geoms) == 0:
        return shares
    shapely.prepare(core)
    touching = shapely.intersects(core, geoms)
    covered = touching & shapely.covers(core, geoms)
    shares[covered] = 1.0
    partial = np.flatnonzero(touching & ~covered)
    if len(partial):
        inter = geodesic_areas_m2(shapely.intersection(geoms[partial], core))
        shares[partial] = np.divide(inter, footprint_m2[partial], out=np.zeros(len(partial)),
                                    where=footprint_m2[partial] > 0)
    return shares


def core_within_boundary(plan: ZonePlan, rules: RuleSet) -> tuple[Any, float | None]:
    """(the core clipped to the 四至, the core's area outside it). Outside area within the tolerance of
    ``core_inside_boundary`` is digitising noise and the core is kept whole."""
    if plan.core is None:
        return None, None
    outside = float(_outside_areas(plan.boundary, np.array([plan.core], dtype=object))[0])
    if outside <= float(rules.param("core_inside_boundary", "tolerance_m2")):
        return plan.core, outside
    return shapely.intersection(plan.core, plan.boundary), outside


def _declared_warnings(buildings: Sequence[Building], declared: np.ndarray, computed: np.ndarray,
                       rules: RuleSet) -> list[Warning_]:
    warnings = []
    for i in np.flatnonzero(~np.isnan(declared)).tolist():
        rel = abs(declared[i] - computed[i]) / computed[i] if computed[i] > 0 else float("inf")
        if rel > rules.declared_floor_area_rel:
            name = buildings[i].name
            warnings.append(Warning_(
                "declared_floor_area_differs",
                f"建筑“{name}”申报建筑面积{declared[i]:,.1f}平方米与占地面积×使用层数"
                f"{computed[i]:,.1f}平方米相差{rel:.0%}，超过{rules.declared_floor_area_rel:.0%}",
                {"building": name, "declared_m2": float(declared[i]), "computed_m2": round(float(computed[i]), 2)},
            ))
    return warnings


def measure_buildings(plan: ZonePlan, rules: RuleSet,
                      core: BaseGeometry | None = None) -> tuple[list[BuildingMeasure], list[Warning_]]:
    """Each building's 建筑面积 and the share of it inside the 四至 (集聚区内建筑面积) and inside ``core``.

    A building cut by the boundary counts its inside share: footprint clipped to the boundary × floors used,
    or, for a declared figure, the declared figure × the inside share. Outside area within the tolerance of
    ``buildings_inside_boundary`` is digitising noise: the building counts whole."""
    buildings: tuple[Building, ...] = plan.buildings
    n = len(buildings)
    geoms = np.array([b.footprint for b in buildings], dtype=object)
    footprint = geodesic_areas_m2(geoms)
    floors_used = np.fromiter((b.floors_used for b in buildings), dtype=float, count=n)
    declared = np.array([np.nan if b.declared_floor_area_m2 is None else b.declared_floor_area_m2
                         for b in buildings], dtype=float)
    computed = footprint * floors_used
    has_declared = ~np.isnan(declared)
    full = np.where(has_declared, declared, computed)
    outside = _outside_areas(plan.boundary, geoms)
    noise = outside <= float(rules.param("buildings_inside_boundary", "tolerance_m2"))
    inside_share = np.ones(n)
    cut = np.flatnonzero(~noise)
    inside_share[cut] = np.clip(np.divide(footprint[cut] - outside[cut], footprint[cut], out=np.zeros(len(cut)),
                                          where=footprint[cut] > 0), 0.0, 1.0)
    inside_share = np.round(inside_share, 6)
    core_share = np.round(_core_shares(core, geoms, footprint), 6)
    measures = [
        BuildingMeasure(name=b.name, footprint_m2=round(float(footprint[i]), 3), floors_used=b.floors_used,
                        floor_m2=round(float(full[i] * inside_share[i]), 3),
                        basis="declared" if has_declared[i] else "computed",
                        outside_m2=round(float(outside[i]), 3), core_share=float(core_share[i]),
                        inside_share=float(inside_share[i]), floor_full_m2=round(float(full[i]), 3))
        for i, b in enumerate(buildings)
    ]
    return measures, _declared_warnings(buildings, declared, computed, rules)


def _cut_buildings_warning(buildings: list[BuildingMeasure]) -> Warning_ | None:
    cut = [b for b in buildings if b.inside_share < 1.0]
    if not cut:
        return None
    left_out = math.fsum(b.floor_full_m2 - b.floor_m2 for b in cut)
    items: list[dict[str, Any]] = [{"name": b.name, "inside_share": b.inside_share, "floor_full_m2": b.floor_full_m2,
              "floor_counted_m2": b.floor_m2, "floor_excluded_m2": round(b.floor_full_m2 - b.floor_m2, 2)}
             for b in cut]
    def where(share: float) -> str:
        return "全部在范围外" if share == 0 else f"范围内占{share:.1%}"

    listed = "、".join(f"{b['name']}（{where(b['inside_share'])}，未计入{b['floor_excluded_m2']:,.2f}平方米）"
                      for b in items)
    return Warning_("buildings_cut_by_boundary",
                    f"以下建筑部分或全部位于四至范围外，范围外部分的建筑面积未计入集聚区内建筑面积：{listed}；"
                    f"合计未计入{float(area_figure(left_out)):,.2f}平方米",
                    {"buildings": items, "floor_excluded_m2": float(area_figure(left_out))})


_CHAIN_BITS = {link: 1 << k for k, link in enumerate(ChainLink)}


def _chain_bits(chain: tuple[ChainLink, ...], cache: dict[tuple[ChainLink, ...], int] = {}) -> int:  # noqa: B006
    bits = cache.get(chain)
    if bits is None:
        bits = cache[chain] = sum(_CHAIN_BITS[link] for link in set(chain))
    return bits


def _containment(plan: ZonePlan, tol_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inside, by_tolerance, distance_m) of every institution and platform. A point on the boundary is
    inside; a point within ``tol_m`` of it (in the zone's metric CRS) is taken as on it."""
    insts = plan.institutions
    n = len(insts)
    lons = np.fromiter((i.lon for i in insts), dtype=float, count=n)
    lats = np.fromiter((i.lat for i in insts), dtype=float, count=n)
    shapely.prepare(plan.boundary)
    strict = shapely.intersects_xy(plan.boundary, lons, lats)
    dist = np.zeros(n)
    loose = np.flatnonzero(~strict)
    dist[loose] = distances_m(plan.boundary, lons[loose], lats[loose])
    by_tolerance = ~strict & (dist <= tol_m)
    return strict | by_tolerance, by_tolerance, dist


def _institution_summary(plan: ZonePlan, rules: RuleSet) -> tuple[dict[str, Any], dict[str, Any], list[Warning_]]:
    """Containment, distances, credit codes and chain coverage of the institutions and platforms,
    vectorised over the institutions (a zone may list thousands)."""
    insts: tuple[Institution, ...] = plan.institutions
    n = len(insts)
    inside, by_tolerance, dist = _containment(plan, rules.edge_tolerance_m)
    codes = np.array([i.credit_code for i in insts], dtype=object)
    valid = credit_code.valid_mask(list(codes))
    for k in np.flatnonzero(~valid):  # rare: retry codes typed with spaces or in lower case
        codes[k] = credit_code.normalize(codes[k])
        valid[k] = credit_code.is_valid(codes[k])
    is_platform = np.fromiter((i.kind.is_platform for i in insts), dtype=bool, count=n)
    bits = np.fromiter(map(_chain_bits, [i.chain for i in insts]), dtype=np.int64, count=n)

    out_idx = np.flatnonzero(~inside & ~is_platform)
    # "index": the entry's position in the zone's institution list, so that two entries of one name stay apart.
    outside = [{"name": insts[i].name, "credit_code": codes[i], "distance_m": round(float(dist[i]), 2),
                "index": int(i)} for i in out_idx]
    invalid_idx = np.flatnonzero(~valid & ~is_platform)
    invalid = [{"name": insts[i].name, "credit_code": codes[i], "reason": credit_code.problem(codes[i]),
                "index": int(i)} for i in invalid_idx]
    # Counted: inside, valid, not a platform, and each credit code once.
    candidates = np.flatnonzero(inside & valid & ~is_platform)
    first: dict[str, int] = {}
    for j in candidates.tolist():
        first.setdefault(codes[j], j)
    counted = np.fromiter(first.values(), dtype=np.intp, count=len(first))
    duplicates = [insts[i].name for i in np.setdiff1d(candidates, counted)]
    chain = {link.value: int(np.count_nonzero(bits[counted] & bit)) for link, bit in _CHAIN_BITS.items()}
    chain_other: dict[str, int] = {}
    for k in counted.tolist():
        for link in dict.fromkeys(insts[k].chain_other):
            chain_other[link] = chain_other.get(link, 0) + 1
    warnings: list[Warning_] = []
    if duplicates:
        warnings.append(Warning_("duplicate_credit_code", "以下机构与其他机构统一社会信用代码重复，只计一次："
                                 + "、".join(duplicates), {"names": duplicates}))
    platforms = [{"name": insts[i].name, "kind": insts[i].kind.value, "kind_label": insts[i].label,
                  "inside": bool(inside[i]), "index": int(i)} for i in np.flatnonzero(is_platform)]
    summary = {
        "total": int(n - is_platform.sum()),
        "inside": int((inside & ~is_platform).sum()),
        "counted": len(counted),
        "outside": outside,
        "invalid_credit_codes": invalid,
        "chain_coverage": chain,
        "chain_other": chain_other,
        "platforms": platforms,
        "on_boundary_by_tolerance": [insts[i].name for i in np.flatnonzero(by_tolerance)],
    }
    excluded = {
        "位于四至范围外": [o["name"] for o in outside],
        "统一社会信用代码无效": [insts[i].name for i in invalid_idx if inside[i]],
        "信用代码重复": duplicates,
    }
    warnings += _tolerance_warning(insts, by_tolerance, dist, rules.edge_tolerance_m)
    warnings += _reviewer_flags(insts, codes, is_platform, rules)
    return summary, excluded, warnings


def _tolerance_warning(insts: Sequence[Institution], by_tolerance: np.ndarray, dist: np.ndarray,
                       tol_m: float) -> list[Warning_]:
    idx = np.flatnonzero(by_tolerance).tolist()
    if not idx:
        return []
    points = [{"name": insts[i].name, "kind": insts[i].kind.value, "distance_m": round(float(dist[i]), 4)}
              for i in idx]
    names = "、".join(f"{p['name']}（距边界{p['distance_m'] * 100:.1f}厘米）" for p in points)
    return [Warning_("on_boundary_by_tolerance",
                     f"以下机构或平台位于四至边界线上（距边界不超过{tol_m * 100:g}厘米的容差），按范围内计：{names}",
                     {"points": points, "edge_tolerance_m": tol_m})]


def _reviewer_flags(insts: Sequence[Institution], codes: np.ndarray, is_platform: np.ndarray,
                    rules: RuleSet) -> list[Warning_]:
    """What a reviewer should look at: counted, but doubtful (事业单位 codes, branch offices, other kinds)."""
    warnings = []
    public = [{"name": insts[i].name, "credit_code": codes[i]} for i in np.flatnonzero(~is_platform).tolist()
              if credit_code.is_public_institution_code(codes[i])]
    if public:
        warnings.append(Warning_(
            "public_institution_code",
            "以下机构的统一社会信用代码以“12”开头（机构编制部门登记的事业单位），却登记为知识产权服务机构，"
            "请核实其是否属于服务机构：" + "、".join(f"{p['name']}（{p['credit_code']}）" for p in public),
            {"institutions": public}))
    markers = tuple(rules.flags.get("branch_markers", ("分公司", "分所", "分中心", "办事处", "分部")))
    branches = [{"name": insts[i].name, "marker": next(m for m in markers if m in insts[i].name)}
                for i in np.flatnonzero(~is_platform).tolist() if any(m in insts[i].name for m in markers)]
    if branches:
        warnings.append(Warning_(
            "branch_office", "以下机构名称显示为分支机构，请核实其在集聚区内实际开展业务："
            + "、".join(b["name"] for b in branches), {"institutions": branches}))
    others = [{"name": i.name, "kind_label": i.label} for i in insts if i.kind is InstitutionKind.OTHER_PLATFORM]
    if others:
        warnings.append(Warning_(
            "other_platform_kind", "以下公共服务平台的类型不在办法列举的保护中心、快速维权中心、业务窗口之中，"
            "按“等”计为公共服务平台，请审核确认：" + "、".join(f"{o['name']}（{o['kind_label']}）" for o in others),
            {"platforms": others}))
    chain_other = [{"name": i.name, "links": list(i.chain_other)} for i in insts if i.chain_other]
    if chain_other:
        warnings.append(Warning_(
            "other_chain_link", "以下机构填写了创造、运用、保护、人才以外的链条环节，已列出但不替代这四个环节："
            + "、".join(f"{c['name']}（{'、'.join(c['links'])}）" for c in chain_other), {"institutions": chain_other}))
    return warnings


def _gap_warning(plan: ZonePlan, rules: RuleSet) -> list[Warning_]:
    limit = float(rules.flags.get("max_part_gap_m", 1000.0))
    gap, pair = largest_gap_m(plan.boundary)
    if pair is None or gap <= limit:
        return []
    return [Warning_("parts_far_apart",
                     f"四至范围由相距较远的地块组成：第{pair[0] + 1}块与第{pair[1] + 1}块之间相距约{gap:,.0f}米，"
                     f"超过{limit:,.0f}米，请审核是否满足“空间布局和产业布局相对集聚”",
                     {"gap_m": round(gap, 1), "parts": [pair[0] + 1, pair[1] + 1], "max_part_gap_m": limit})]


def check_plan(plan: ZonePlan, rules: RuleSet, *, inputs: list[dict[str, Any]] | None = None,
               warnings: list[Warning_] | None = None, zone: dict[str, Any] | None = None) -> Report:
    """Measure ``plan`` once and evaluate every rule of ``rules`` on it."""
    land_m2 = geodesic_area_m2(plan.boundary)
    core, core_outside = core_within_boundary(plan, rules)
    core_land_m2 = geodesic_area_m2(core)
    buildings, building_warnings = measure_buildings(plan, rules, core)
    floor_m2 = math.fsum(b.floor_m2 for b in buildings)
    floor_excluded_m2 = math.fsum(b.floor_full_m2 - b.floor_m2 for b in buildings)
    footprint_m2 = math.fsum(b.footprint_m2 for b in buildings)
    core_floor_m2 = math.fsum(b.floor_full_m2 * b.core_share for b in buildings)
    inst, excluded, inst_warnings = _institution_summary(plan, rules)

    core_basis = "none" if plan.core is None else rules.core_area_basis
    chain_links = rules.param("chain_coverage", "links")
    inst["chain_coverage"] = {link: inst["chain_coverage"].get(link, 0) for link in chain_links}
    facts = Facts(
        floor_m2=floor_m2,
        core_land_m2=core_land_m2,
        core_floor_m2=core_floor_m2,
        core_basis=core_basis,
        institutions_counted=inst["counted"],
        institutions_excluded=excluded,
        chain_counts=inst["chain_coverage"],
        platforms_inside=[{"name": p["name"], "kind": p["kind"]} for p in inst["platforms"] if p["inside"]],
        platforms_outside=[p["name"] for p in inst["platforms"] if not p["inside"]],
        core_outside_m2=core_outside,
        buildings_outside=[{"name": b.name, "outside_m2": b.outside_m2} for b in buildings if b.outside_m2 > 0],
        floor_excluded_m2=floor_excluded_m2,
    )
    areas = {
        "land_m2": round(land_m2, 3),
        "core_land_m2": float(area_figure(core_land_m2)),
        "core_floor_m2": float(area_figure(core_floor_m2)),
        "footprint_m2": round(footprint_m2, 3),
        "floor_m2": float(area_figure(floor_m2)),
        "floor_excluded_m2": float(area_figure(floor_excluded_m2)),
        "core_basis": core_basis,
        "method": "CGCS2000椭球面测地线面积（Karney算法）",
    }
    cut = _cut_buildings_warning(buildings)
    return Report(
        areas=areas, institutions=inst, rules=evaluate(rules, facts),
        warnings=[*(warnings or []), *building_warnings, *([cut] if cut else []), *inst_warnings,
                  *_gap_warning(plan, rules)],
        buildings=buildings, ruleset={"id": rules.id, "title": rules.title},
        inputs=list(inputs or []), zone=dict(zone or {}), manual_review=rules.manual_review,
    )
