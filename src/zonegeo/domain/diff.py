"""Comparing two spatial layouts of a zone: what moved, by how much, and whether it is a real change
(空间布局和物理载体变更) or re-digitising noise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from zonegeo.domain.measure import geodesic_area_m2, metric_crs_for, to_metric
from zonegeo.domain.model import Building, ZonePlan


@dataclass(frozen=True)
class Tolerances:
    hausdorff_m: float = 1.0
    area_change_pct: float = 0.5
    building_match_iou: float = 0.5

    @classmethod
    def from_rules(cls, change: dict[str, Any]) -> Tolerances:
        return cls(float(change.get("hausdorff_m", 1.0)), float(change.get("area_change_pct", 0.5)),
                   float(change.get("building_match_iou", 0.5)))


@dataclass(frozen=True)
class AreaDiff:
    """Boundary or core, before and after."""

    layer: str
    area_before_m2: float
    area_after_m2: float
    symmetric_difference_m2: float
    hausdorff_m: float
    added: BaseGeometry | None = field(default=None, repr=False)
    removed: BaseGeometry | None = field(default=None, repr=False)
    material: bool = False

    @property
    def area_change_m2(self) -> float:
        return self.area_after_m2 - self.area_before_m2

    @property
    def area_change_pct(self) -> float:
        return 100.0 * self.area_change_m2 / self.area_before_m2 if self.area_before_m2 else float("inf")

    def to_dict(self, geometries: bool = False) -> dict[str, Any]:
        out = {"layer": self.layer, "area_before_m2": round(self.area_before_m2, 2),
               "area_after_m2": round(self.area_after_m2, 2), "area_change_m2": round(self.area_change_m2, 2),
               "area_change_pct": round(self.area_change_pct, 4) if self.area_before_m2 else None,
               "symmetric_difference_m2": round(self.symmetric_difference_m2, 2),
               "hausdorff_m": round(self.hausdorff_m, 3), "material": self.material,
               "added_m2": round(geodesic_area_m2(self.added), 2), "removed_m2": round(geodesic_area_m2(self.removed), 2)}
        if geometries:
            out["added"] = mapping(self.added) if self.added is not None else None
            out["removed"] = mapping(self.removed) if self.removed is not None else None
        return out


@dataclass(frozen=True)
class BuildingChange:
    kind: str  # added | removed | reshaped | floors_changed
    name: str
    before: Building | None = field(default=None, repr=False)
    after: Building | None = field(default=None, repr=False)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, **self.detail}


@dataclass(frozen=True)
class LayoutDiff:
    boundary: AreaDiff | None
    core: AreaDiff | None
    buildings: list[BuildingChange]
    floor_before_m2: float
    floor_after_m2: float
    tolerances: Tolerances

    @property
    def material(self) -> bool:
        return bool((self.boundary and self.boundary.material) or (self.core and self.core.material)
                    or self.buildings)

    def reasons(self) -> list[str]:
        """Why the change is material, in Chinese."""
        out = []
        for d, label in ((self.boundary, "四至范围"), (self.core, "核心区")):
            if d and d.material:
                out.append(f"{label}变化：面积{d.area_change_m2:+,.1f}平方米（{d.area_change_pct:+.2f}%），"
                           f"边界最大偏移{d.hausdorff_m:,.1f}米")
        labels = {"added": "新增建筑", "removed": "减少建筑", "reshaped": "建筑轮廓变化", "floors_changed": "建筑层数变化"}
        for change in self.buildings:
            out.append(f"{labels[change.kind]}：{change.name}")
        return out

    def to_dict(self, geometries: bool = False) -> dict[str, Any]:
        return {
            "material": self.material,
            "reasons": self.reasons(),
            "boundary": self.boundary.to_dict(geometries) if self.boundary else None,
            "core": self.core.to_dict(geometries) if self.core else None,
            "buildings": {
                "changes": [c.to_dict() for c in self.buildings],
                "floor_before_m2": round(self.floor_before_m2, 2),
                "floor_after_m2": round(self.floor_after_m2, 2),
            },
            "tolerances": self.tolerances.__dict__,
        }


def _hausdorff_m(a: BaseGeometry, b: BaseGeometry) -> float:
    epsg = metric_crs_for(a)
    return float(shapely.hausdorff_distance(to_metric(a, epsg), to_metric(b, epsg)))


def compare_areas(layer: str, before: BaseGeometry | None, after: BaseGeometry | None, tol: Tolerances) -> AreaDiff | None:
    if before is None and after is None:
        return None
    if before is None or after is None:
        present = after if before is None else before
        area = geodesic_area_m2(present)
        return AreaDiff(layer, 0.0 if before is None else area, 0.0 if after is None else area, area, float("inf"),
                        added=after if before is None else None, removed=before if after is None else None,
                        material=True)
    added, removed = shapely.difference(after, before), shapely.difference(before, after)
    diff = AreaDiff(layer, geodesic_area_m2(before), geodesic_area_m2(after),
                    geodesic_area_m2(added) + geodesic_area_m2(removed), _hausdorff_m(before, after),
                    added=added, removed=removed)
    material = diff.hausdorff_m >= tol.hausdorff_m or abs(diff.area_change_pct) >= tol.area_change_pct
    return AreaDiff(**{**diff.__dict__, "material": material})


def match_buildings(before: tuple[Building, ...], after: tuple[Building, ...], min_iou: float) -> list[tuple[int, int]]:
    """Pairs (old, new) of the same building, matched by footprint overlap (not by name or order):
    greedily by intersection over union, each building used once."""
    if not before or not after:
        return []
    old = np.array([b.footprint for b in before], dtype=object)
    new = np.array([b.footprint for b in after], dtype=object)
    new_idx, old_idx = shapely.STRtree(old).query(new, predicate="intersects")
    if not len(new_idx):
        return []
    inter = shapely.area(shapely.intersection(old[old_idx], new[new_idx]))
    union = shapely.area(old[old_idx]) + shapely.area(new[new_idx]) - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    pairs, used_old, used_new = [], set(), set()
    for k in np.argsort(-iou):
        if iou[k] < min_iou:
            break
        o, n = int(old_idx[k]), int(new_idx[k])
        if o not in used_old and n not in used_new:
            pairs.append((o, n))
            used_old.add(o)
            used_new.add(n)
    return pairs


def compare_buildings(before: tuple[Building, ...], after: tuple[Building, ...], tol: Tolerances) -> list[BuildingChange]:
    pairs = match_buildings(before, after, tol.building_match_iou)
    changes: list[BuildingChange] = []
    matched_old, matched_new = {o for o, _ in pairs}, {n for _, n in pairs}
    for o, n in pairs:
        b, a = before[o], after[n]
        shape = compare_areas("building", b.footprint, a.footprint, tol)
        if shape and shape.material:
            changes.append(BuildingChange("reshaped", a.name, b, a, {
                "footprint_before_m2": round(shape.area_before_m2, 2), "footprint_after_m2": round(shape.area_after_m2, 2),
                "hausdorff_m": round(shape.hausdorff_m, 2)}))
        if (b.floors, b.floors_used) != (a.floors, a.floors_used):
            changes.append(BuildingChange("floors_changed", a.name, b, a, {
                "floors_before": b.floors, "floors_after": a.floors,
                "floors_used_before": b.floors_used, "floors_used_after": a.floors_used}))
    changes += [BuildingChange("removed", b.name, b, None, {"footprint_m2": round(geodesic_area_m2(b.footprint), 2)})
                for i, b in enumerate(before) if i not in matched_old]
    changes += [BuildingChange("added", a.name, None, a, {"footprint_m2": round(geodesic_area_m2(a.footprint), 2)})
                for i, a in enumerate(after) if i not in matched_new]
    return changes


def _floor_m2(buildings: tuple[Building, ...]) -> float:
    return sum(b.declared_floor_area_m2 if b.declared_floor_area_m2 is not None
               else geodesic_area_m2(b.footprint) * b.floors_used for b in buildings)


def compare_plans(before: ZonePlan, after: ZonePlan, tol: Tolerances, layers: tuple[str, ...] = (
        "boundary", "core", "buildings")) -> LayoutDiff:
    return LayoutDiff(
        boundary=compare_areas("boundary", before.boundary, after.boundary, tol) if "boundary" in layers else None,
        core=compare_areas("core", before.core, after.core, tol) if "core" in layers else None,
        buildings=compare_buildings(before.buildings, after.buildings, tol) if "buildings" in layers else [],
        floor_before_m2=_floor_m2(before.buildings) if "buildings" in layers else 0.0,
        floor_after_m2=_floor_m2(after.buildings) if "buildings" in layers else 0.0,
        tolerances=tol,
    )
