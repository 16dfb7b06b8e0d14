"""Benchmark: reading, validating and reprojecting a 100 000-building Shapefile (the buildings role, as
``zonegeo import`` and uploads read it), then clipping it to a zone boundary, against pyogrio's raw read of the
same file (``pyogrio.raw.read``: the features' WKB and attribute arrays, nothing more); and the peak memory.

Run: .venv/bin/python bench/ingest_shapefile.py [--buildings N] [--repeat R] [--quick] [--json]
Target (issue #15): read + validate + reproject within 1.5× of the raw read; peak memory under 1 GB. Prints
figures; asserts nothing. The feature limit of one layer (50 000 by default, ZONEGEO_MAX_FEATURES) is raised to
the benchmark's size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

QUICK, FULL = 20_000, 100_000
SIDE = 25.0  # building footprint in metres
E0, N0 = 375_000.0, 3_545_000.0  # GK zone CM 120°E, Nanjing


def make_shapefile(folder: Path, n: int) -> Path:
    per_row = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x = E0 + (i % per_row) * 40.0
    y = N0 + (i // per_row) * 40.0
    boxes = shapely.box(x, y, x + SIDE, y + SIDE * 0.8)
    rng = np.random.default_rng(1)
    floors = rng.integers(1, 30, n)
    gdf = gpd.GeoDataFrame({"名称": [f"楼{k}" for k in i], "层数": floors, "使用层数": np.maximum(1, floors // 2)},
                           geometry=boxes, crs="EPSG:4549")
    path = folder / "buildings.shp"
    pyogrio.write_dataframe(gdf, path, encoding="GBK")  # as most Chinese GIS software writes it
    return path


def zone_boundary(n: int):
    """A boundary that takes in about two thirds of the grid: the rest must be clipped away."""
    from pyproj import Transformer

    per_row = int(np.ceil(np.sqrt(n)))
    extent = per_row * 40.0
    t = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
    ring = [(E0 - 10, N0 - 10), (E0 + extent * 0.8, N0 - 10), (E0 + extent * 0.8, N0 + extent * 0.8),
            (E0 - 10, N0 + extent * 0.8)]
    return shapely.Polygon([t.transform(a, b) for a, b in ring])


def raw_read(path: Path) -> int:
    return len(pyogrio.raw.read(path)[2])


def dataframe_read(path: Path) -> int:
    return len(pyogrio.read_dataframe(path))


def zonegeo_read(path: Path, n: int) -> list:
    from zonegeo.ingest.role_files import ReadOptions, read_role
    from zonegeo.ingest.safety import Limits

    return read_role(path, "buildings", options=ReadOptions(limits=Limits(max_features=max(n, 50_000)))).value


def zonegeo_read_and_clip(path: Path, n: int) -> int:
    buildings = zonegeo_read(path, n)
    boundary = zone_boundary(n)
    shapely.prepare(boundary)
    footprints = np.array([b.footprint for b in buildings], dtype=object)
    touching = shapely.intersects(boundary, footprints)
    within = touching & shapely.covers(boundary, footprints)
    crossing = touching & ~within  # only these need cutting
    clipped = np.concatenate([footprints[within], shapely.intersection(footprints[crossing], boundary)])
    return len(clipped)


def timed_alternating(fns: list, repeat: int) -> list[float]:
    """Median seconds of each ``(fn, *args)``, the calls alternating (the order reversed every other round)."""
    runs: list[list[float]] = [[] for _ in fns]
    for k in range(repeat):
        order = list(range(len(fns))) if k % 2 == 0 else list(range(len(fns)))[::-1]
        for j in order:
            fn, *args = fns[j]
            start = time.perf_counter()
            fn(*args)
            runs[j].append(time.perf_counter() - start)
    return [statistics.median(r) for r in runs]


def _child(path: str, n: int, queue) -> None:
    zonegeo_read_and_clip(Path(path), n)
    queue.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB → MiB


def peak_memory_mib(path: Path, n: int) -> float:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(str(path), n, queue))
    proc.start()
    proc.join()
    return queue.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--buildings", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} buildings instead of {FULL}")
    parser.add_argument("--json", action="store_true", help="one JSON object per measured path")
    args = parser.parse_args()
    n = args.buildings or (QUICK if args.quick else FULL)
    repeat = max(1, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        path = make_shapefile(Path(tmp), n)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1048576
        zonegeo_read_and_clip(path, n)  # warm-up
        raw, frame, read, ours = timed_alternating([(raw_read, path), (dataframe_read, path), (zonegeo_read, path, n),
                                                    (zonegeo_read_and_clip, path, n)], repeat)
        kept = zonegeo_read_and_clip(path, n)
        peak = peak_memory_mib(path, n)
    load = os.getloadavg()[0]
    if args.json:
        note = (f"{n} buildings, median of {repeat}, alternating; pyogrio.read_dataframe {frame:.2f} s; "
                f"load {load:.1f}")
        rows = [{"path": "read+validate+reproject buildings", "zonegeo": round(read, 3), "floor": round(raw, 3),
                 "unit": "s", "ratio": round(read / raw, 2), "target": "≤ 1.5× pyogrio raw read",
                 "met": read / raw <= 1.5, "note": note},
                {"path": "read+validate+reproject+clip buildings", "zonegeo": round(ours, 3), "floor": round(raw, 3),
                 "unit": "s", "ratio": round(ours / raw, 2), "target": "≤ 1.5× pyogrio raw read",
                 "met": ours / raw <= 1.5, "note": note},
                {"path": "read+clip buildings: peak memory", "zonegeo": round(peak), "floor": None, "unit": "MB",
                 "ratio": None, "target": "< 1024 MB", "met": peak < 1024, "note": "peak RSS of a child process"}]
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    print(f"shapefile: {n} buildings, {size:.1f} MB; {kept} inside the boundary after clipping; load {load:.1f}")
    print(f"pyogrio raw read (pyogrio.raw.read):      {raw:7.2f} s")
    print(f"pyogrio.read_dataframe:                   {frame:7.2f} s")
    print(f"zonegeo read+validate+reproject:          {read:7.2f} s   ratio {read / raw:5.2f} (target ≤ 1.5)")
    print(f"zonegeo read+validate+reproject+clip:     {ours:7.2f} s   ratio {ours / raw:5.2f}")
    print(f"peak memory of the zonegeo run:           {peak:7.0f} MiB (target < 1024)")


if __name__ == "__main__":
    main()
