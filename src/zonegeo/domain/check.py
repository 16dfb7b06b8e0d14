"""Check a zone plan against a rule set: measure once, evaluate the rules, assemble the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from zonegeo.domain import credit_code
from zonegeo.domain.measure import distances_m, geodesic_area_m2, geodesic_areas_m2
from zonegeo.domain.model import Building, ChainLink, Institution, InstitutionKind, ZonePlan
from zonegeo.domain.rules import Facts, RuleResult, RuleSet, evaluate


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
    floor_m2: float  # 建筑面积 counted for the zone
    basis: str  # "computed" (footprint × floors used) or "declared"
    outside_m2: float  # footprint area outside the boundary
    core_share: float  # share of the footprint inside the core


@dataclass(frozen=True)
class Report:
    """The eligibility report: the JSON of ``zonegeo check`` and ``zonegeo report``."""

    areas: dict[str, float]
    institutions: dict[str, Any]
    rules: list[RuleResult]
    warnings: list[Warning_]
    buildings: list[BuildingMeasure]
    ruleset: dict[str, str]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    zone: dict[str, Any] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return all(r.passed for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "ruleset": self.ruleset,
            "eligible": self.eligible,
            "areas": self.areas,
            "institutions": self.institutions,
            "rules": [r.to_dict() for r in self.rules],
            "buildings": [b.__dict__ for b in self.buildings],
            "warnings": [w.to_dict() for w in self.warnings],
            "inputs": self.inputs,
        }


def _outside_areas(area, geoms: np.ndarray) -> np.ndarray:
    """Geodesic area of each geometry outside ``area``; only those not covered are measured."""
    out = np.zeros(len(geoms))
    if len(geoms) == 0:
        return out
    shapely.prepare(area)
    loose = np.flatnonzero(~shapely.covers(area, geoms))
    if len(loose):
        out[loose] = geodesic_areas_m2(shapely.difference(geoms[loose], area))
    return out


def _core_shares(core, geoms: np.ndarray, footprint_m2: np.ndarray) -> np.ndarray:
    shares = np.zeros(len(geoms))
    if core is None or len(geoms) == 0:
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


def measure_buildings(plan: ZonePlan, rules: RuleSet) -> tuple[list[BuildingMeasure], list[Warning_]]:
    buildings: tuple[Building, ...] = plan.buildings
    n = len(buildings)
    geoms = np.array([b.footprint for b in buildings], dtype=object)
    footprint = geodesic_areas_m2(geoms)
    floors_used = np.fromiter((b.floors_used for b in buildings), dtype=float, count=n)
    declared = np.array([np.nan if b.declared_floor_area_m2 is None else b.declared_floor_area_m2
                         for b in buildings], dtype=float)
    computed = footprint * floors_used
    has_declared = ~np.isnan(declared)
    floor = np.where(has_declared, declared, computed)
    outside = _outside_areas(plan.boundary, geoms)
    shares = _core_shares(plan.core, geoms, footprint)
    warnings = []
    for i in np.flatnonzero(has_declared):
        rel = abs(declared[i] - computed[i]) / computed[i] if computed[i] > 0 else float("inf")
        if rel > rules.declared_floor_area_rel:
            name = buildings[i].name
            warnings.append(Warning_(
                "declared_floor_area_differs",
                f"建筑“{name}”申报建筑面积{declared[i]:,.1f}平方米与占地面积×使用层数"
                f"{computed[i]:,.1f}平方米相差{rel:.0%}，超过{rules.declared_floor_area_rel:.0%}",
                {"building": name, "declared_m2": float(declared[i]), "computed_m2": round(float(computed[i]), 2)},
            ))
    measures = [
        BuildingMeasure(b.name, fp, b.floors_used, fl, "declared" if d else "computed", out, share)
        for b, fp, fl, d, out, share in zip(
            buildings, np.round(footprint, 3).tolist(), np.round(floor, 3).tolist(), has_declared.tolist(),
            np.round(outside, 3).tolist(), np.round(shares, 6).tolist(), strict=True)
    ]
    return measures, warnings


_CHAIN_BITS = {link: 1 << k for k, link in enumerate(ChainLink)}


def _chain_bits(chain: tuple[ChainLink, ...], cache: dict[tuple[ChainLink, ...], int] = {}) -> int:  # noqa: B006
    bits = cache.get(chain)
    if bits is None:
        bits = cache[chain] = sum(_CHAIN_BITS[link] for link in set(chain))
    return bits


def _institution_summary(plan: ZonePlan) -> tuple[dict[str, Any], dict[str, Any], list[Warning_]]:
    """Containment, distances, credit codes and chain coverage of the institutions and platforms,
    vectorised over the institutions (a zone may list thousands)."""
    insts: tuple[Institution, ...] = plan.institutions
    n = len(insts)
    lons = np.fromiter((i.lon for i in insts), dtype=float, count=n)
    lats = np.fromiter((i.lat for i in insts), dtype=float, count=n)
    shapely.prepare(plan.boundary)
    inside = shapely.intersects_xy(plan.boundary, lons, lats)  # a point on the boundary counts as inside
    codes = np.array([i.credit_code for i in insts], dtype=object)
    valid = credit_code.valid_mask(list(codes))
    for k in np.flatnonzero(~valid):  # rare: retry codes typed with spaces or in lower case
        codes[k] = credit_code.normalize(codes[k])
        valid[k] = credit_code.is_valid(codes[k])
    is_platform = np.array([i.kind for i in insts], dtype=object) != InstitutionKind.INSTITUTION
    bits = np.fromiter(map(_chain_bits, [i.chain for i in insts]), dtype=np.int64, count=n)

    out_idx = np.flatnonzero(~inside & ~is_platform)
    dist = distances_m(plan.boundary, lons[out_idx], lats[out_idx])
    outside = [{"name": insts[i].name, "credit_code": codes[i], "distance_m": round(float(d), 1)}
               for i, d in zip(out_idx, dist, strict=True)]
    invalid_idx = np.flatnonzero(~valid & ~is_platform)
    invalid = [{"name": insts[i].name, "credit_code": codes[i], "reason": credit_code.problem(codes[i])}
               for i in invalid_idx]
    # Counted: inside, valid, not a platform, and each credit code once.
    candidates = np.flatnonzero(inside & valid & ~is_platform)
    first: dict[str, int] = {}
    for k in candidates.tolist():
        first.setdefault(codes[k], k)
    counted = np.fromiter(first.values(), dtype=np.intp, count=len(first))
    duplicates = [insts[i].name for i in np.setdiff1d(candidates, counted)]
    chain = {link.value: int(np.count_nonzero(bits[counted] & bit)) for link, bit in _CHAIN_BITS.items()}
    warnings: list[Warning_] = []
    if duplicates:
        warnings.append(Warning_("duplicate_credit_code", "以下机构与其他机构统一社会信用代码重复，只计一次："
                                 + "、".join(duplicates), {"names": duplicates}))
    platforms = [{"name": insts[i].name, "kind": insts[i].kind.value, "kind_label": insts[i].kind.label,
                  "inside": bool(inside[i])} for i in np.flatnonzero(is_platform)]
    summary = {
        "total": int(n - is_platform.sum()),
        "inside": int((inside & ~is_platform).sum()),
        "counted": len(counted),
        "outside": outside,
        "invalid_credit_codes": invalid,
        "chain_coverage": chain,
        "platforms": platforms,
    }
    excluded = {
        "位于四至范围外": [o["name"] for o in outside],
        "统一社会信用代码无效": [insts[i].name for i in invalid_idx if inside[i]],
        "信用代码重复": duplicates,
    }
    return summary, excluded, warnings


def check_plan(plan: ZonePlan, rules: RuleSet, *, inputs: list[dict[str, Any]] | None = None,
               warnings: list[Warning_] | None = None, zone: dict[str, Any] | None = None) -> Report:
    """Measure ``plan`` once and evaluate every rule of ``rules`` on it."""
    land_m2 = geodesic_area_m2(plan.boundary)
    core_land_m2 = geodesic_area_m2(plan.core)
    buildings, building_warnings = measure_buildings(plan, rules)
    floor_m2 = sum(b.floor_m2 for b in buildings)
    footprint_m2 = sum(b.footprint_m2 for b in buildings)
    core_floor_m2 = sum(b.floor_m2 * b.core_share for b in buildings)
    inst, excluded, inst_warnings = _institution_summary(plan)

    core_basis = "none" if plan.core is None else ("floor" if core_floor_m2 > 0 else "land")
    core_outside = None if plan.core is None else float(_outside_areas(plan.boundary, np.array([plan.core]))[0])
    chain_links = rules.param("chain_coverage", "links")
    inst["chain_coverage"] = {link: inst["chain_coverage"].get(link, 0) for link in chain_links}
    facts = Facts(
        floor_m2=floor_m2,
        core_area_m2=core_floor_m2 if core_basis == "floor" else core_land_m2,
        core_basis=core_basis,
        institutions_counted=inst["counted"],
        institutions_excluded=excluded,
        chain_counts=inst["chain_coverage"],
        platforms_inside=[{"name": p["name"], "kind": p["kind"]} for p in inst["platforms"] if p["inside"]],
        platforms_outside=[p["name"] for p in inst["platforms"] if not p["inside"]],
        core_outside_m2=core_outside,
        buildings_outside=[{"name": b.name, "outside_m2": b.outside_m2} for b in buildings if b.outside_m2 > 0],
    )
    areas = {
        "land_m2": round(land_m2, 3),
        "core_land_m2": round(core_land_m2, 3),
        "core_floor_m2": round(core_floor_m2, 3),
        "footprint_m2": round(footprint_m2, 3),
        "floor_m2": round(floor_m2, 3),
        "core_basis": core_basis,
        "method": "CGCS2000椭球面测地线面积（Karney算法）",
    }
    return Report(
        areas=areas, institutions=inst, rules=evaluate(rules, facts),
        warnings=[*(warnings or []), *building_warnings, *inst_warnings],
        buildings=buildings, ruleset={"id": rules.id, "title": rules.title},
        inputs=list(inputs or []), zone=dict(zone or {}),
    )
