"""Benchmark: ``check`` on a synthetic zone (1 000 buildings, 10 000 institutions) against the bare
library work it cannot avoid (shapely's vectorised ``contains_xy`` and pyproj ``Geod`` areas).

Run: .venv/bin/python bench/check_zone.py [--buildings N] [--institutions N] [--repeat R] [--quick] [--json]
(--quick: 3 repeats; the sizes stay the issue's). Floor and check are timed alternately, median of the repeats.
Target: check within 2× of the floor. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

import numpy as np
import shapely
from benchlib import wavy_square
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon

from zonegeo.config import PROJECT_ROOT
from zonegeo.domain.check import check_plan
from zonegeo.domain.credit_code import check_char
from zonegeo.domain.model import Building, ChainLink, Institution, InstitutionKind, ZonePlan
from zonegeo.ingest.rules_file import load_rules

TO_LONLAT = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
E0, N0 = 375_000.0, 3_545_000.0


def _poly(xs: np.ndarray, ys: np.ndarray) -> Polygon:
    lon, lat = TO_LONLAT.transform(E0 + xs, N0 + ys)
    return Polygon(np.column_stack([lon, lat]))


def synthetic_plan(n_buildings: int, n_institutions: int, outside_share: float = 0.05, seed: int = 1) -> ZonePlan:
    rng = random.Random(seed)
    side = 40.0 * int(np.ceil(np.sqrt(n_buildings))) + 200
    # A boundary with 400 vertices (a gently wavy square), as a digitised red line would have.
    bx, by = wavy_square(side)
    boundary = MultiPolygon([_poly(bx, by)])
    core = MultiPolygon([_poly(np.array([100, 600, 600, 100.0]), np.array([100, 100, 600, 600.0]))])
    per_row = int(np.ceil(np.sqrt(n_buildings)))
    buildings = []
    for i in range(n_buildings):
        x, y = 100 + (i % per_row) * 40, 100 + (i // per_row) * 40
        fp = _poly(np.array([x, x + 25, x + 25, x]), np.array([y, y, y + 20, y + 20.0]))
        floors = rng.randint(2, 30)
        buildings.append(Building(f"楼{i}", MultiPolygon([fp]), floors, rng.randint(1, floors)))
    links = list(ChainLink)
    # Most institutions sit in the zone's buildings; a share lies up to 200 m outside the red line.
    outside = np.array([rng.random() < outside_share for _ in range(n_institutions)])
    xs = np.array([rng.uniform(side + 10, side + 200) if out else rng.uniform(10, side - 10) for out in outside])
    ys = np.array([rng.uniform(-200, side + 200) if out else rng.uniform(10, side - 10) for out in outside])
    lon, lat = TO_LONLAT.transform(E0 + xs, N0 + ys)
    institutions = []
    for i in range(n_institutions):
        first17 = f"913201{i % 100:02d}{rng.randrange(10**9):09d}"
        code = first17 + check_char(first17) if i % 50 else first17 + "0"
        kind = InstitutionKind.PROTECTION_CENTER if i % 1000 == 0 else InstitutionKind.INSTITUTION
        institutions.append(Institution(f"机构{i}", code, float(lon[i]), float(lat[i]), kind=kind,
                                        chain=(links[i % 4],)))
    return ZonePlan(boundary, core, tuple(buildings), tuple(institutions))


def floor_work(plan: ZonePlan) -> None:
    """What any implementation must do: point-in-polygon for every institution, a geodesic area per polygon."""
    geod = Geod(a=6378137.0, rf=298.257222101)
    xs = np.fromiter((i.lon for i in plan.institutions), float, len(plan.institutions))
    ys = np.fromiter((i.lat for i in plan.institutions), float, len(plan.institutions))
    shapely.prepare(plan.boundary)
    shapely.contains_xy(plan.boundary, xs, ys)
    for geom in (plan.boundary, plan.core, *(b.footprint for b in plan.buildings)):
        for poly in geom.geoms:
            geod.polygon_area_perimeter(*poly.exterior.xy)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternating(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """The median time of each function, run in turn ``repeat`` times (so that a change of the machine's load
    falls on all of them alike)."""
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            runs[k].append(timed(fn))
    return [statistics.median(r) for r in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=1000)
    parser.add_argument("--institutions", type=int, default=10000)
    parser.add_argument("--outside-share", type=float, default=0.05,
                        help="share of institutions placed outside the boundary (each needs a distance)")
    parser.add_argument("--repeat", type=int, default=None, help="repeats (default 7, --quick 3)")
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per measured path")
    args = parser.parse_args()
    repeat = max(args.repeat or (3 if args.quick else 7), 3)
    rules = load_rules(PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml")
    plan = synthetic_plan(args.buildings, args.institutions, args.outside_share)
    check_plan(plan, rules)  # warm-up: transformer creation, imports
    floor, check = alternating([lambda: floor_work(plan), lambda: check_plan(plan, rules)], repeat)
    report = check_plan(plan, rules)
    if args.json:
        print(json.dumps({"path": f"check_plan: {args.buildings} buildings, {args.institutions} institutions",
                          "zonegeo": round(check, 4), "floor": round(floor, 4), "unit": "s",
                          "ratio": round(check / floor, 2), "target": "≤ 2× the floor", "met": check / floor <= 2.0,
                          "note": f"floor: contains_xy + Geod areas; median of {repeat}, alternating"},
                         ensure_ascii=False))
        return
    print(f"synthetic zone: {args.buildings} buildings, {args.institutions} institutions "
          f"({report.institutions['inside']} inside, {len(report.institutions['outside'])} outside)")
    print(f"floor (contains_xy + Geod areas): {floor * 1000:8.1f} ms")
    print(f"zonegeo check_plan:               {check * 1000:8.1f} ms")
    print(f"ratio check / floor:              {check / floor:8.2f}   (target ≤ 2.0)")


if __name__ == "__main__":
    main()
