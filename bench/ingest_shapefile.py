"""Benchmark: reading, validating, reprojecting and clipping a 100 000-building Shapefile to a zone boundary,
against pyogrio's raw read of the same file; and the peak memory of doing so.

Run: .venv/bin/python bench/ingest_shapefile.py [--buildings N] [--repeat R]
Target: within 1.5× of the raw read; peak memory under 1 GB. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

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
    return len(pyogrio.read_dataframe(path))


def zonegeo_read_and_clip(path: Path, n: int) -> int:
    from zonegeo.ingest.role_files import read_role

    buildings = read_role(path, "buildings").value
    boundary = zone_boundary(n)
    shapely.prepare(boundary)
    footprints = np.array([b.footprint for b in buildings], dtype=object)
    touching = shapely.intersects(boundary, footprints)
    within = touching & shapely.covers(boundary, footprints)
    crossing = touching & ~within  # only these need cutting
    clipped = np.concatenate([footprints[within], shapely.intersection(footprints[crossing], boundary)])
    return len(clipped)


def timed(fn, *args, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make_shapefile(Path(tmp), args.buildings)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1048576
        zonegeo_read_and_clip(path, args.buildings)  # warm-up
        raw = timed(raw_read, path, repeat=args.repeat)
        ours = timed(zonegeo_read_and_clip, path, args.buildings, repeat=args.repeat)
        kept = zonegeo_read_and_clip(path, args.buildings)
        peak = peak_memory_mib(path, args.buildings)
    print(f"shapefile: {args.buildings} buildings, {size:.1f} MB; {kept} inside the boundary after clipping")
    print(f"pyogrio raw read:                         {raw:7.2f} s")
    print(f"zonegeo read+validate+reproject+clip:     {ours:7.2f} s")
    print(f"ratio:                                    {ours / raw:7.2f}   (target ≤ 1.5)")
    print(f"peak memory of the zonegeo run:           {peak:7.0f} MiB (target < 1024)")


if __name__ == "__main__":
    main()
