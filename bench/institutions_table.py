"""Benchmark: an institution table of 100 000 rows read, validated and checked against the zone, as the upload and
``zonegeo check`` paths do it, against the bare library work of the same file (issue #15).

zonegeo path: ``ingest.role_files.read_role(path, "institutions")`` (size check, format sniff, decoding, header
search, every row's cells, coordinates, CRS, kinds and chain links, bounds) then ``domain.check.check_plan`` on a
plan of the synthetic zone boundary and those institutions (credit codes, point in zone, chain coverage).
Floor: ``pandas.read_csv`` of the same CSV + ``shapely.contains_xy`` of its points in the prepared boundary; for the
.xlsx, ``pyogrio.read_dataframe`` (GDAL, the reader the project uses; ``pandas.read_excel`` on openpyxl is slower)
+ ``contains_xy``.

Run: .venv/bin/python bench/institutions_table.py [--rows N] [--repeat R] [--quick] [--json] [--no-xlsx]
Target: ≤ 2× the floor. Prints figures; asserts nothing. The floor and zonegeo runs alternate; medians are shown.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from benchlib import report, wavy_square
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from zonegeo.config import PROJECT_ROOT
from zonegeo.domain.check import check_plan
from zonegeo.domain.credit_code import ALPHABET, check_char
from zonegeo.domain.model import ZonePlan
from zonegeo.domain.rules import RuleSet
from zonegeo.ingest.role_files import LayerRead, ReadOptions, read_role
from zonegeo.ingest.rules_file import load_rules
from zonegeo.ingest.safety import Limits

TARGET = "institution table of 100 000 rows, read and checked ≤ 2× (pandas read_csv + shapely contains_xy)"
TO_LONLAT = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
E0, N0 = 375_000.0, 3_545_000.0  # GK zone CM 120°E (EPSG:4549), Nanjing
SIDE = 3000.0  # metres: the zone is a gently wavy 3 km square with 400 vertices
KINDS = ["", "服务机构", "知识产权服务机构", "知识产权保护中心", "快速维权中心", "知识产权业务窗口",
         "知识产权信息公共服务网点", "专利代理事务所"]  # the last two are not in the vocabulary: warned rows
KIND_WEIGHTS = [0.45, 0.3, 0.2, 0.01, 0.01, 0.01, 0.01, 0.01]
CHAINS = ["创造", "运用", "保护", "人才", "创造、运用", "保护，人才", "创造/运用/保护/人才", "", "全链条"]
CHAIN_WEIGHTS = [0.2, 0.2, 0.2, 0.15, 0.1, 0.05, 0.05, 0.045, 0.005]
SERVICES = ["代理", "法律", "信息", "咨询", "托管", "运营", "培训", "代理、法律", "信息、咨询、培训"]


def boundary() -> MultiPolygon:
    bx, by = wavy_square(SIDE)
    lon, lat = TO_LONLAT.transform(E0 + bx, N0 + by)
    return MultiPolygon([Polygon(np.column_stack([lon, lat]))])


def credit_codes(n: int, rng: np.random.Generator, bad_share: float) -> list[str]:
    """Valid 统一社会信用代码 (91 + a Jiangsu region + 9 random characters + the check character); a share with a
    wrong check character."""
    alphabet = np.array(list(ALPHABET))
    middle = ["".join(r) for r in alphabet[rng.integers(0, 31, (n, 9))]]
    regions = rng.choice(["320102", "320105", "320106", "320114", "320211", "320505"], n)
    out = []
    for region, rest in zip(regions.tolist(), middle, strict=True):
        first17 = f"91{region}{rest}"
        good = check_char(first17)
        out.append(first17 + (good if rng.random() >= bad_share else ALPHABET[(ALPHABET.index(good) + 1) % 31]))
    return out


def table(n: int, *, outside_share: float, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    outside = rng.random(n) < outside_share
    xs = np.where(outside, rng.uniform(SIDE + 10, SIDE + 200, n), rng.uniform(10, SIDE - 10, n))
    ys = np.where(outside, rng.uniform(-200, SIDE + 200, n), rng.uniform(10, SIDE - 10, n))
    lon, lat = TO_LONLAT.transform(E0 + xs, N0 + ys)
    return pd.DataFrame({
        "名称": [f"江苏某某知识产权代理有限公司{k}" for k in range(n)],
        "统一社会信用代码": credit_codes(n, rng, bad_share=0.02),
        "类型": rng.choice(KINDS, n, p=KIND_WEIGHTS),
        "服务类型": rng.choice(SERVICES, n),
        "链条环节": rng.choice(CHAINS, n, p=CHAIN_WEIGHTS),
        "经度": np.round(lon, 7),
        "纬度": np.round(lat, 7),
        "地址": [f"南京市建邺区江东中路{k % 500 + 1}号" for k in range(n)],
        "楼栋": [f"{k % 40 + 1}号楼" for k in range(n)],
        "楼层": [f"{k % 30 + 1}" for k in range(n)],
    })


def write_files(folder: Path, df: pd.DataFrame, xlsx: bool) -> dict[str, Path]:
    files = {"csv": folder / "institutions.csv"}
    df.to_csv(files["csv"], index=False, encoding="utf-8")
    if xlsx:
        files["xlsx"] = folder / "institutions.xlsx"
        pyogrio.write_dataframe(df.astype(str), files["xlsx"], driver="XLSX", layer="机构")
    return files


def zonegeo_read(path: Path, limits: Limits) -> LayerRead:
    return read_role(path, "institutions", options=ReadOptions(limits=limits))


def zonegeo_check(zone: MultiPolygon, read: LayerRead, rules: RuleSet) -> tuple[int, int]:
    report = check_plan(ZonePlan(zone, institutions=tuple(read.value)), rules, inputs=[read.input])
    return report.institutions["total"], report.institutions["inside"]


def zonegeo_path(path: Path, zone: MultiPolygon, rules: RuleSet, limits: Limits) -> tuple[int, int]:
    return zonegeo_check(zone, zonegeo_read(path, limits), rules)


def floor_read(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pyogrio.read_dataframe(path, read_geometry=False, HEADERS="FORCE")
    return pd.read_csv(path)


def floor_check(zone: MultiPolygon, df: pd.DataFrame) -> int:
    shapely.prepare(zone)
    inside = shapely.contains_xy(zone, df["经度"].to_numpy(dtype=float), df["纬度"].to_numpy(dtype=float))
    return int(inside.sum())


def floor_path(path: Path, zone: MultiPolygon) -> int:
    return floor_check(zone, floor_read(path))


def alternate(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """(median wall seconds, median CPU seconds of this process) of each function, run in turn ``repeat`` times."""
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            runs[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}


def line(path: str, times: dict[str, tuple[float, float]], target: str, note: str) -> dict[str, object]:
    (wall, cpu), (floor_wall, floor_cpu) = times["zonegeo"], times["floor"]
    ratio = wall / floor_wall
    return {"path": path, "zonegeo": round(wall, 4), "floor": round(floor_wall, 4), "unit": "s",
            "ratio": round(ratio, 2), "target": target, "met": ratio <= 2.0,
            "note": f"{note}; CPU {cpu:.3f} s vs {floor_cpu:.3f} s (×{cpu / floor_cpu:.2f}); load {load_average()}"}


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="rows in the table (default 100 000; --quick 20 000)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--outside-share", type=float, default=0.01,
                        help="share of rows placed up to 200 m outside the zone (each gets a distance)")
    parser.add_argument("--quick", action="store_true", help="20 000 rows, 3 repeats")
    parser.add_argument("--json", action="store_true", help="one JSON object per measured path")
    parser.add_argument("--no-xlsx", action="store_true", help="measure the CSV only")
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 100_000)
    repeat = 3 if args.quick else max(3, args.repeat)
    rules = load_rules(PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml")
    zone = boundary()
    limits = Limits(max_rows=max(rows, Limits().max_rows))  # the default upload bound is 20 000 rows
    results = []
    with tempfile.TemporaryDirectory(prefix="zonegeo-bench-") as tmp:
        files = write_files(Path(tmp), table(rows, outside_share=args.outside_share), xlsx=not args.no_xlsx)
        for fmt, path in files.items():
            total, inside = zonegeo_path(path, zone, rules, limits)  # warm-up: imports, transformers, caches
            floor_inside = floor_path(path, zone)
            about = (f"{fmt.upper()} {path.stat().st_size / 1048576:.1f} MB, {total} institutions, {inside} inside "
                     f"(floor: {floor_inside} in the polygon), median of {repeat}")
            times = alternate({"floor": partial(floor_path, path, zone),
                               "zonegeo": partial(zonegeo_path, path, zone, rules, limits)}, repeat)
            results.append(line(f"institutions_{fmt}_{rows}_rows", times, TARGET, about))
            if fmt != "csv":
                continue
            # Where the time goes: the read alone, and the check alone on what was read.
            times = alternate({"floor": partial(floor_read, path), "zonegeo": partial(zonegeo_read, path, limits)},
                              repeat)
            results.append(line(f"institutions_{fmt}_{rows}_rows_read", times, "part of the line above: "
                                "read_role vs pandas.read_csv", "read_role (read and validate the table)"))
            read, df = zonegeo_read(path, limits), floor_read(path)
            times = alternate({"floor": partial(floor_check, zone, df),
                               "zonegeo": partial(zonegeo_check, zone, read, rules)}, repeat)
            results.append(line(f"institutions_{fmt}_{rows}_rows_check", times, "part of the line above: "
                                "check_plan vs shapely.contains_xy", "domain.check.check_plan on the read "
                                "institutions (credit codes, containment, distances outside, chain coverage, flags)"))
    report(results, args.json)


if __name__ == "__main__":
    main()
