"""Write the demonstration zone in data/demo/ (fictional data, clearly labelled as such).

Run once by hand; the files it writes are committed. Coordinates are laid out in metres in the
CGCS2000 Gauss-Kruger zone with central meridian 120°E (EPSG:4549) and stored as lon/lat.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from pyproj import Transformer

from zonegeo.domain.credit_code import ALPHABET, check_char

OUT = Path(__file__).resolve().parents[1] / "data" / "demo"
TO_LONLAT = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
# Origin: south-west corner of the demo zone, in 建邺区, Nanjing (about 118.7330E, 32.0050N).
E0, N0 = TO_LONLAT.transform(118.7330, 32.0050, direction="INVERSE")


def lonlat(x: float, y: float) -> list[float]:
    lon, lat = TO_LONLAT.transform(E0 + x, N0 + y)
    return [round(lon, 8), round(lat, 8)]


def ring(points: list[tuple[float, float]]) -> list[list[float]]:
    coords = [lonlat(x, y) for x, y in points]
    return [*coords, coords[0]]


def rect(x: float, y: float, w: float, h: float) -> list[list[float]]:
    return ring([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])


def org_code(rng: random.Random) -> str:
    """An 8-character body plus its GB 11714 check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, prefix: str = "91320105") -> str:
    first17 = prefix + org_code(rng)
    assert all(c in ALPHABET for c in first17)
    return first17 + check_char(first17)


def feature(props: dict, coords: list) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [coords]}}


def write_geojson(name: str, features: list[dict]) -> None:
    doc = {"type": "FeatureCollection", "name": name, "features": features}
    (OUT / f"{name}.geojson").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    rng = random.Random(20261124)
    OUT.mkdir(parents=True, exist_ok=True)
    # 四至: an L-shaped block of about 420 m × 300 m with a cut-out in the north-east corner.
    boundary = ring([(0, 0), (420, 0), (420, 180), (300, 180), (300, 300), (0, 300)])
    write_geojson("boundary", [feature({"名称": "河西知识产权服务业集聚区四至范围（演示数据）"}, boundary)])
    write_geojson("core", [feature({"名称": "核心区（演示数据）"}, rect(60, 60, 150, 110))])
    buildings = [
        ("A座 知识产权大厦", 70, 70, 50, 30, 18, 12, None),
        ("B座 创新服务中心", 140, 70, 55, 30, 12, 8, None),
        ("C座 专利运营楼", 70, 120, 40, 35, 9, 9, 12600.0),
        ("D座 人才公寓配套楼", 140, 125, 45, 30, 6, 3, None),
        ("E座 数据与检索中心", 240, 40, 60, 35, 5, 2, None),
        ("F座 法律服务楼", 330, 60, 50, 40, 8, 4, None),
        ("G座 孵化器", 40, 210, 70, 45, 4, 4, None),
    ]
    features = []
    for name, x, y, w, h, floors, used, declared in buildings:
        props = {"名称": name, "层数": floors, "使用层数": used}
        if declared:
            props["建筑面积"] = declared
        features.append(feature(props, rect(x, y, w, h)))
    write_geojson("buildings", features)

    services = [
        ("南京星河专利代理事务所（演示）", "代理", "创造", "A座", 3),
        ("金陵知识产权代理有限公司（演示）", "代理、咨询", "创造、运用", "A座", 5),
        ("秦淮商标事务所（演示）", "代理", "创造、保护", "A座", 7),
        ("河西知识产权律师事务所（演示）", "法律", "保护", "F座", 2),
        ("石城知识产权维权服务有限公司（演示）", "法律、咨询", "保护", "F座", 3),
        ("钟山专利信息检索中心（演示）", "信息", "创造", "E座", 1),
        ("长江知识产权数据服务有限公司（演示）", "信息、咨询", "运用", "E座", 2),
        ("玄武技术转移服务有限公司（演示）", "运营", "运用", "B座", 4),
        ("建邺知识产权运营有限公司（演示）", "运营、托管", "运用", "B座", 6),
        ("紫金知识产权托管服务有限公司（演示）", "托管", "运用", "B座", 7),
        ("江苏知产评估咨询有限公司（演示）", "咨询", "运用", "C座", 2),
        ("南京知识产权人才培训学院（演示）", "培训", "人才", "D座", 1),
        ("河西知识产权职业技能培训中心（演示）", "培训", "人才", "D座", 2),
        ("鼓楼专利代理有限公司（演示）", "代理", "创造", "C座", 5),
        ("雨花知识产权保险经纪有限公司（演示）", "咨询", "保护、运用", "C座", 6),
        ("六合版权登记服务有限公司（演示）", "代理", "创造", "A座", 9),
        ("浦口知识产权咨询有限公司（演示）", "咨询", "运用", "A座", 10),
        ("江北专利代理事务所（演示）", "代理", "创造", "", ""),
    ]
    spots = {"A座": (95, 85), "B座": (167, 85), "C座": (90, 137), "D座": (162, 140), "E座": (270, 57),
             "F座": (355, 80)}
    rows = []
    for i, (name, svc, chain, bld, floor) in enumerate(services):
        x, y = spots.get(bld, (480, 120))  # the last one sits about 60 m east of the boundary
        x, y = x + rng.uniform(-8, 8), y + rng.uniform(-6, 6)
        code = credit_code(rng)
        if i == 14:  # a mistyped check character
            code = code[:17] + ("0" if code[17] != "0" else "1")
        lon, lat = lonlat(x, y)
        rows.append({"名称": name, "统一社会信用代码": code, "类型": "服务机构", "服务类型": svc, "链条环节": chain,
                     "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}", "地址": f"南京市建邺区示例路{100 + i}号（演示）",
                     "楼栋": bld, "楼层": floor})
    for name, kind, bld, (x, y) in [
        ("河西知识产权快速维权中心（演示）", "快速维权中心", "A座", (88, 78)),
        ("建邺区知识产权业务窗口（演示）", "知识产权业务窗口", "B座", (160, 78)),
    ]:
        lon, lat = lonlat(x, y)
        rows.append({"名称": name, "统一社会信用代码": credit_code(rng, "12320105"), "类型": kind, "服务类型": "",
                     "链条环节": "保护", "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}",
                     "地址": "南京市建邺区示例路1号（演示）", "楼栋": bld, "楼层": 1})
    with (OUT / "institutions.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
