"""Benchmark: map HTML bytes against the same features as minimal GeoJSON, and render time, for 10, 1 000
and 10 000 buildings (with one institution per 10 buildings).

Run: .venv/bin/python bench/map_size.py [--browser] [--repeat R] [--quick] [--json]
(--browser also times Chromium drawing the page; --quick: 3 repeats of the render time, the sizes stay the issue's)
Target: HTML within 1.3× the GeoJSON bytes; 10 000 buildings render in well under 3 s. The render's floor is the
same features written as minimal GeoJSON (shapely mapping + orjson), timed alternately, median of the repeats.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_zone import synthetic_plan

from zonegeo.config import PROJECT_ROOT
from zonegeo.domain.check import check_plan
from zonegeo.domain.rules import RuleSet
from zonegeo.ingest.rules_file import load_rules
from zonegeo.maps.overlays import DECIMALS
from zonegeo.maps.render import render, to_html


def minimal_geojson(plan) -> bytes:
    """The same features with the same coordinate precision and the facts the popups show, compactly."""
    def rnd(g):
        return shapely.geometry.mapping(shapely.set_precision(g, 10**-DECIMALS))

    features = [{"type": "Feature", "properties": {"name": b.name, "floors": b.floors, "floors_used": b.floors_used},
                 "geometry": rnd(b.footprint)} for b in plan.buildings]
    features += [{"type": "Feature", "properties": {"name": i.name, "credit_code": i.credit_code},
                  "geometry": {"type": "Point", "coordinates": [round(i.lon, DECIMALS), round(i.lat, DECIMALS)]}}
                 for i in plan.institutions]
    features.append({"type": "Feature", "properties": {"name": "四至"}, "geometry": rnd(plan.boundary)})
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def measure(n_buildings: int, rules: RuleSet) -> dict[str, float]:
    plan = synthetic_plan(n_buildings, max(n_buildings // 10, 5), outside_share=0.02)
    report = check_plan(plan, rules)
    start = time.perf_counter()
    page = to_html(render(plan, report, title="基准测试"))
    seconds = time.perf_counter() - start
    html_bytes, geo_bytes = len(page.encode()), len(minimal_geojson(plan))
    return {"buildings": n_buildings, "html": html_bytes, "geojson": geo_bytes, "ratio": html_bytes / geo_bytes,
            "per_building": html_bytes / n_buildings, "seconds": seconds}


def floor_serialise(plan) -> bytes:
    """The least any page of these features must do: every geometry written as GeoJSON at the map's precision,
    vectorised (coordinates rounded by numpy, shapely's to_geojson over one array), with the names joined in."""
    geoms = [b.footprint for b in plan.buildings] + [shapely.Point(i.lon, i.lat) for i in plan.institutions]
    rounded = shapely.transform(np.array([*geoms, plan.boundary], dtype=object), lambda c: np.round(c, DECIMALS))
    texts = shapely.to_geojson(rounded)
    names = [b.name for b in plan.buildings] + [i.name for i in plan.institutions] + ["四至"]
    return ",".join(f'{{"type":"Feature","properties":{{"name":"{n}"}},"geometry":{t}}}'
                    for n, t in zip(names, texts, strict=True)).encode()


def render_seconds(n_buildings: int, rules: RuleSet, repeat: int) -> tuple[float, float]:
    """Median seconds of rendering the map page and of the floor (``floor_serialise``), in turn."""
    plan = synthetic_plan(n_buildings, max(n_buildings // 10, 5), outside_share=0.02)
    report = check_plan(plan, rules)
    ours, floor = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        to_html(render(plan, report, title="基准测试"))
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        floor_serialise(plan)
        floor.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(floor)


def browser_seconds(n_buildings: int, rules: RuleSet) -> float:
    """Time for headless Chromium to open the page from a file and draw every building (network blocked)."""
    import tempfile

    from playwright.sync_api import sync_playwright

    plan = synthetic_plan(n_buildings, max(n_buildings // 10, 5), outside_share=0.02)
    page_html = to_html(render(plan, check_plan(plan, rules), title="基准测试", tiles=""), self_contained=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "map.html"
        path.write_text(page_html, encoding="utf-8")
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                   else route.abort())
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("n => zg.overlays.some(e => e.layer.getLayers().length >= n)", arg=n_buildings)
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also time Chromium drawing the page")
    parser.add_argument("--repeat", type=int, default=None, help="repeats of the render time (default 5, --quick 3)")
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per measured path")
    args = parser.parse_args()
    repeat = max(args.repeat or (3 if args.quick else 5), 3)
    rules = load_rules(PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml")
    sizes = [measure(n, rules) for n in (10, 1000, 10_000)]
    seconds, floor = render_seconds(10_000, rules, repeat)
    if args.json:
        for f in sizes:
            small = f["buildings"] < 100  # the fixed page template dominates: it is what is measured there
            print(json.dumps({"path": f"map page bytes: {f['buildings']} buildings", "zonegeo": f["html"],
                              "floor": f["geojson"], "unit": "B", "ratio": round(f["ratio"], 2),
                              "target": "template < 20 kB beyond the data" if small else "≤ 1.3× minimal GeoJSON",
                              "met": f["html"] - f["geojson"] < 20_000 if small else f["ratio"] <= 1.3,
                              "note": "floor: the same features as minimal GeoJSON"}, ensure_ascii=False))
        print(json.dumps({"path": "map render: 10000 buildings", "zonegeo": round(seconds, 3), "floor": round(floor, 3),
                          "unit": "s", "ratio": round(seconds / floor, 2), "target": "well under 3 s",
                          "met": seconds < 3.0, "note": f"floor: the features written as GeoJSON, vectorised; "
                          f"median of {repeat}, alternating"}, ensure_ascii=False))
        if args.browser:
            for n in (10, 1000, 10_000):
                print(json.dumps({"path": f"Chromium draws the map: {n} buildings",
                                  "zonegeo": round(browser_seconds(n, rules), 3), "floor": None, "unit": "s",
                                  "ratio": None, "target": "none (reference)", "met": None, "note": "one run"},
                                 ensure_ascii=False))
        return
    print(f"{'buildings':>9} {'HTML bytes':>12} {'GeoJSON bytes':>14} {'ratio':>6} {'B/building':>11} {'render s':>9}")
    for f in sizes:
        print(f"{f['buildings']:>9} {f['html']:>12,} {f['geojson']:>14,} {f['ratio']:>6.2f} {f['per_building']:>11.0f}"
              f" {f['seconds']:>9.2f}")
    print(f"render 10 000 buildings: {seconds:.2f} s (median of {repeat}); "
          f"the features as GeoJSON, vectorised (floor): {floor:.2f} s")
    if args.browser:
        for n in (10, 1000, 10_000):
            print(f"Chromium opens and draws {n:>6} buildings: {browser_seconds(n, rules):6.2f} s")
    print("targets: ratio ≤ 1.3 (beyond the fixed page template), 10 000 buildings well under 3 s")


if __name__ == "__main__":
    main()
