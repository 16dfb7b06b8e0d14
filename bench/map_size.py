"""Benchmark: map HTML bytes against the same features as minimal GeoJSON, and render time, for 10, 1 000
and 10 000 buildings (with one institution per 10 buildings).

Run: .venv/bin/python bench/map_size.py [--browser]   (--browser also times Chromium drawing the page)
Target: HTML within 1.3× the GeoJSON bytes; 10 000 buildings render in well under 3 s. Prints figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
    rules = load_rules(PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml")
    print(f"{'buildings':>9} {'HTML bytes':>12} {'GeoJSON bytes':>14} {'ratio':>6} {'B/building':>11} {'render s':>9}")
    for n in (10, 1000, 10_000):
        f = measure(n, rules)
        print(f"{f['buildings']:>9} {f['html']:>12,} {f['geojson']:>14,} {f['ratio']:>6.2f} {f['per_building']:>11.0f}"
              f" {f['seconds']:>9.2f}")
    if "--browser" in sys.argv:
        for n in (10, 1000, 10_000):
            print(f"Chromium opens and draws {n:>6} buildings: {browser_seconds(n, rules):6.2f} s")
    print("targets: ratio ≤ 1.3 (beyond the fixed page template), 10 000 buildings well under 3 s")


if __name__ == "__main__":
    main()
