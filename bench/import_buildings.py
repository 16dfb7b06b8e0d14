"""Benchmark: the import of a zone with 100 000 buildings (the code path of ``zonegeo import``: read, check,
reproject, store in one transaction), against ``ogr2ogr -f PostgreSQL`` of the same buildings Shapefile into a
table of the same database; wall time and peak memory (resident set) of each, each run in a child process.

Run: .venv/bin/python bench/import_buildings.py [--buildings N] [--repeat R] [--quick] [--json]
Target (issue #15): the import within 3× of ogr2ogr's time, its peak memory under 400 MB. Prints figures;
asserts nothing. A throwaway database (migrated with the project's Alembic migrations) is made and dropped.
ZONEGEO_DATABASE_URL names the server (default: postgres on 127.0.0.1:5432).

The feature limit of one layer (ZONEGEO_MAX_FEATURES, 50 000 by default) is raised to the benchmark's size for
the import: without it ``zonegeo import`` refuses the file before reading it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import throwaway_database

QUICK = 20_000
FULL = 100_000
E0, N0 = 375_000.0, 3_545_000.0  # CGCS2000 GK zone, central meridian 120°E (EPSG:4549): Nanjing
SPACING, SIDE = 40.0, 25.0  # building grid pitch and footprint, metres
DEFAULT_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
TIME_TARGET, MEMORY_TARGET_MB = 3.0, 400.0


# ---- the synthetic zone ---------------------------------------------------------------------------------------

def make_zone(folder: Path, n: int, code: str) -> Path:
    """A zone folder as ``zonegeo import`` wants it: zone.toml, boundary and core (GeoJSON, lon/lat) and the
    buildings as a zipped GBK Shapefile in EPSG:4549 (名称, 层数, 使用层数), as Chinese GIS software writes it."""
    import geopandas as gpd
    import pyogrio
    import shapely
    from pyproj import Transformer

    folder.mkdir(parents=True, exist_ok=True)
    per_row = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x = E0 + 100 + (i % per_row) * SPACING
    y = N0 + 100 + (i // per_row) * SPACING
    boxes = shapely.box(x, y, x + SIDE, y + SIDE * 0.8)
    rng = np.random.default_rng(1)
    floors = rng.integers(1, 30, n)
    gdf = gpd.GeoDataFrame({"名称": [f"楼{k}" for k in i], "层数": floors, "使用层数": np.maximum(1, floors // 2)},
                           geometry=boxes, crs="EPSG:4549")
    parts = folder / "shp"
    parts.mkdir()
    pyogrio.write_dataframe(gdf, parts / "buildings.shp", encoding="GBK")
    with zipfile.ZipFile(folder / "buildings.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(parts.iterdir()):
            zf.write(part, part.name)
    shutil.rmtree(parts)
    extent = per_row * SPACING + 200
    to_lonlat = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)

    def area(x0: float, y0: float, x1: float, y1: float) -> dict:
        ring = [(E0 + a, N0 + b) for a, b in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
        coords = [list(to_lonlat.transform(a, b)) for a, b in ring]
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"名称": "范围"}, "geometry": {"type": "Polygon", "coordinates": [coords]}}]}

    (folder / "boundary.geojson").write_text(json.dumps(area(0, 0, extent, extent)), encoding="utf-8")
    (folder / "core.geojson").write_text(json.dumps(area(50, 50, extent / 3, extent / 3)), encoding="utf-8")
    (folder / "zone.toml").write_text(f'code = "{code}"\nname = "基准测试集聚区（{code}）"\ncity = "南京市"\n',
                                      encoding="utf-8")
    return folder / "buildings.zip"


def set_code(folder: Path, code: str) -> None:
    toml = folder / "zone.toml"
    lines = toml.read_text(encoding="utf-8").splitlines()
    lines[0] = f'code = "{code}"'
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---- the two child processes ------------------------------------------------------------------------------------

def child_import(url: str, folder: str, n: int) -> None:
    """The work of ``zonegeo import <folder>`` (services.zones.import_zone in one transaction; the CLI's
    cross-zone check after the commit is not part of it). Prints seconds of the import and peak RSS in MB."""
    import inspect

    from sqlalchemy import create_engine

    from zonegeo.db.session import session_factory, transaction
    from zonegeo.ingest import plan as plan_module
    from zonegeo.ingest.safety import Limits
    from zonegeo.services import zones

    limits = Limits(max_features=max(n, Limits().max_features))
    kwargs: dict[str, Any] = {}
    if "limits" in inspect.signature(zones.import_zone).parameters:
        kwargs["limits"] = limits
    else:  # import_zone does not pass limits on yet: the feature limit raised as ZONEGEO_MAX_FEATURES would
        original = plan_module.read_zone_dir

        def read_zone_dir(folder, **kw):
            return original(folder, **(kw | {"limits": limits}))
        plan_module.read_zone_dir = read_zone_dir  # import_zone may import it when called
        if hasattr(zones, "read_zone_dir"):  # or have imported it with its module
            zones.read_zone_dir = read_zone_dir
    engine = create_engine(url, connect_args={"options": "-c jit=off"})
    start = time.perf_counter()
    with transaction(session_factory(engine)) as session:
        zones.import_zone(session=session, folder=Path(folder), **kwargs)
    seconds = time.perf_counter() - start
    engine.dispose()
    print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def ogr_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts = [f"dbname={u.database}", f"host={u.host or '127.0.0.1'}", f"port={u.port or 5432}",
             f"user={u.username or 'postgres'}"]
    if u.password:
        parts.append(f"password={u.password}")
    return "PG:" + " ".join(parts)


def ogr2ogr_command(url: str, archive: Path, table: str) -> list[str]:
    # the same file and the same work as the import where ogr2ogr can do it: read from the zip, reprojected to
    # CGCS2000, stored as MultiPolygon
    return ["ogr2ogr", "-f", "PostgreSQL", ogr_dsn(url), f"/vsizip/{archive}/buildings.shp", "-nln", table,
            "-nlt", "MULTIPOLYGON", "-t_srs", "EPSG:4490", "-lco", "GEOMETRY_NAME=footprint"]


def run_child(args: list[str]) -> dict:
    """A child process (measured from outside: wall time; RUSAGE_CHILDREN maxrss of a wrapper holding only it)."""
    wrapper = ("import json,resource,subprocess,sys,time;t=time.perf_counter();"
               "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);w=time.perf_counter()-t;"
               "print(json.dumps({'rc':p.returncode,'out':p.stdout,'err':p.stderr[-2000:],'wall':w,"
               "'rss_mb':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,"
               "'cpu':resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime+resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime}))")
    done = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"child failed ({' '.join(args[:3])}…):\n{result['err']}")
    return result


# ---- the measurement --------------------------------------------------------------------------------------------

def measure(n: int, repeat: int) -> dict:
    from sqlalchemy import create_engine, text

    if shutil.which("ogr2ogr") is None:
        raise SystemExit("ogr2ogr not found: install GDAL's command-line tools (apt-get install gdal-bin) for the "
                         "floor of this benchmark")
    ours, floor, ours_inner = [], [], []
    with throwaway_database("zonegeo_bench_import") as url, tempfile.TemporaryDirectory(prefix="zonegeo-bench-") as tmp:
        folder = Path(tmp) / "zone"
        archive = make_zone(folder, n, "BENCH-0")
        for k in range(repeat):  # alternating, a new zone (and a new table) each time
            set_code(folder, f"BENCH-{k}")
            pair = [("zonegeo", [sys.executable, __file__, "--child-import", url, str(folder), str(n)]),
                    ("ogr2ogr", ogr2ogr_command(url, archive, f"ogr_buildings_{k}"))]
            for what, cmd in pair if k % 2 == 0 else pair[::-1]:
                r = run_child(cmd)
                if what == "zonegeo":
                    ours.append(r)
                    ours_inner.append(json.loads(r["out"].strip().splitlines()[-1])["seconds"])
                else:
                    floor.append(r)
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.scalar(text("SELECT count(*) FROM building"))
            copied = conn.scalar(text("SELECT count(*) FROM ogr_buildings_0"))
        engine.dispose()
    return {"n": n, "repeat": repeat, "ours": statistics.median(r["wall"] for r in ours),
            "ours_inner": statistics.median(ours_inner), "floor": statistics.median(r["wall"] for r in floor),
            "ours_cpu": statistics.median(r["cpu"] for r in ours), "floor_cpu": statistics.median(r["cpu"] for r in floor),
            "ours_mb": max(r["rss_mb"] for r in ours), "floor_mb": max(r["rss_mb"] for r in floor),
            "stored": stored, "copied": copied, "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--buildings", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} buildings instead of {FULL}")
    parser.add_argument("--json", action="store_true", help="one JSON object per measured path")
    parser.add_argument("--child-import", nargs=3, metavar=("URL", "FOLDER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        url, folder, n = args.child_import
        child_import(url, folder, int(n))
        return
    n = args.buildings or (QUICK if args.quick else FULL)
    m = measure(n, max(1, args.repeat))
    ratio = m["ours"] / m["floor"]
    inner_ratio = m["ours_inner"] / m["floor"]
    note = (f"{n} buildings, median of {m['repeat']} alternating runs; client CPU {m['ours_cpu']:.1f} s against "
            f"{m['floor_cpu']:.1f} s (the database server's work not counted); load {m['load']:.1f}")
    rows = [
        {"path": "zonegeo import of buildings: time (whole process)", "zonegeo": round(m["ours"], 3),
         "floor": round(m["floor"], 3), "unit": "s", "ratio": round(ratio, 2), "target": f"≤ {TIME_TARGET:g}× ogr2ogr",
         "met": ratio <= TIME_TARGET, "note": note + "; the interpreter's start and imports included"},
        {"path": "zonegeo import of buildings: time (import_zone call)", "zonegeo": round(m["ours_inner"], 3),
         "floor": round(m["floor"], 3), "unit": "s", "ratio": round(inner_ratio, 2),
         "target": f"≤ {TIME_TARGET:g}× ogr2ogr", "met": inner_ratio <= TIME_TARGET,
         "note": note + "; read, check, reproject, store and commit, without the interpreter's start"},
        {"path": "zonegeo import of buildings: peak memory", "zonegeo": round(m["ours_mb"]),
         "floor": round(m["floor_mb"]), "unit": "MB", "ratio": round(m["ours_mb"] / m["floor_mb"], 2),
         "target": f"< {MEMORY_TARGET_MB:g} MB", "met": m["ours_mb"] < MEMORY_TARGET_MB,
         "note": "peak RSS of the child process (RUSAGE_CHILDREN); floor: ogr2ogr's"},
    ]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    print(f"{n} buildings (Shapefile, EPSG:4549, GBK), median of {m['repeat']} alternating runs, load {m['load']:.1f}")
    print(f"ogr2ogr -f PostgreSQL (whole process):   {m['floor']:7.2f} s  {m['floor_mb']:6.0f} MB")
    print(f"zonegeo import (whole process):          {m['ours']:7.2f} s  {m['ours_mb']:6.0f} MB")
    print(f"  of which the import_zone call:         {m['ours_inner']:7.2f} s   ratio {inner_ratio:5.2f}")
    print(f"client CPU time (no server work):        {m['ours_cpu']:7.2f} s against {m['floor_cpu']:.2f} s")
    print(f"time ratio:                              {ratio:7.2f}   (target ≤ {TIME_TARGET:g})")
    print(f"peak memory:                             {m['ours_mb']:7.0f} MB (target < {MEMORY_TARGET_MB:g})")


if __name__ == "__main__":
    main()
