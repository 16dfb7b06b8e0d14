"""Writers of small fixture files: one parcel (with a hole) in every format and CRS applicants use."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import Transformer
from shapely.geometry import Polygon

# The parcel in CGCS2000 GK zone 40 (CM 120°E), metres without the zone prefix: 300 m × 200 m, a 50 × 40 m hole.
E0, N0 = 375_000.0, 3_545_000.0
SHELL = [(E0, N0), (E0 + 300, N0), (E0 + 300, N0 + 200), (E0 + 120, N0 + 260), (E0, N0 + 200)]
HOLE = [(E0 + 100, N0 + 50), (E0 + 100, N0 + 90), (E0 + 150, N0 + 90), (E0 + 150, N0 + 50)]
_TO_LL = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)


def lonlat(ring):
    return [_TO_LL.transform(x, y) for x, y in ring]


def parcel_gk() -> Polygon:
    return Polygon(SHELL, [HOLE])


def parcel_lonlat() -> Polygon:
    return Polygon(lonlat(SHELL), [lonlat(HOLE)])


def reference_area_m2() -> float:
    """The parcel's area by pyproj's own geodesic polygon routine (GRS80 = the CGCS2000 ellipsoid)."""
    from pyproj import Geod

    return abs(Geod(ellps="GRS80").geometry_area_perimeter(parcel_lonlat())[0])


def closed(ring):
    return [*ring, ring[0]]


def write_geojson(path: Path, crs_member: str | None = None, gk: bool = False) -> Path:
    poly = parcel_gk() if gk else parcel_lonlat()
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"名称": "地块"},
           "geometry": json.loads(gpd.GeoSeries([poly]).to_json())["features"][0]["geometry"]}]}
    if crs_member:
        doc["crs"] = {"type": "name", "properties": {"name": crs_member}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_shapefile_zip(path: Path, *, gbk_without_cpg: bool = True, prj: bool = True) -> Path:
    """A zipped Shapefile in EPSG:4549 under a Chinese sub-folder, attributes in GBK with no .cpg and no
    code page byte: the case GDAL silently reads as mojibake."""
    work = path.parent / (path.stem + "_src") / "红线图"
    work.mkdir(parents=True, exist_ok=True)
    gdf = gpd.GeoDataFrame({"名称": ["示范地块"], "层数": [5]}, geometry=[parcel_gk()], crs="EPSG:4549")
    shp = work / "四至范围.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="GBK" if gbk_without_cpg else "UTF-8")
    if gbk_without_cpg:
        shp.with_suffix(".cpg").unlink(missing_ok=True)
        dbf = shp.with_suffix(".dbf")
        raw = bytearray(dbf.read_bytes())
        raw[29] = 0  # no code page byte
        dbf.write_bytes(bytes(raw))
    if not prj:
        shp.with_suffix(".prj").unlink()
    with zipfile.ZipFile(path, "w") as zf:
        for f in work.iterdir():
            info = zipfile.ZipInfo(f"红线图/{f.name}")
            info.flag_bits |= 0x800  # UTF-8 names
            zf.writestr(info, f.read_bytes())
    shutil.rmtree(work.parent)
    return path


def kml_text() -> str:
    def coords(ring):
        return " ".join(f"{x:.9f},{y:.9f},0" for x, y in closed(lonlat(ring)))

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>示范地块</name>
<Folder><name>四至</name>
<Placemark><name>地块红线</name><Polygon><outerBoundaryIs><LinearRing><coordinates>{coords(SHELL)}</coordinates>
</LinearRing></outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>{coords(HOLE)}</coordinates></LinearRing>
</innerBoundaryIs></Polygon></Placemark>
<Placemark><name>大门</name><Point><coordinates>{lonlat(SHELL)[0][0]},{lonlat(SHELL)[0][1]},0</coordinates></Point>
</Placemark></Folder></Document></kml>
"""


def write_kml(path: Path) -> Path:
    path.write_text(kml_text(), encoding="utf-8")
    return path


def write_kmz(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml_text())
        zf.writestr("files/icon.png", b"\x89PNG\r\n\x1a\n")
    return path


def write_gpkg(path: Path) -> Path:
    boundary = gpd.GeoDataFrame({"名称": ["四至"]}, geometry=[parcel_gk()], crs="EPSG:4549")
    pyogrio.write_dataframe(boundary, path, layer="四至", SPATIAL_INDEX="NO")
    core = gpd.GeoDataFrame({"名称": ["核心区"]}, geometry=[Polygon([(E0 + 10, N0 + 10), (E0 + 60, N0 + 10),
                                                                  (E0 + 60, N0 + 40), (E0 + 10, N0 + 40)])],
                            crs="EPSG:4549")
    pyogrio.write_dataframe(core, path, layer="核心区", append=True, SPATIAL_INDEX="NO")
    return path


def dxf_text(entities: list[str], header: str = "") -> str:
    return f"{header}0\nSECTION\n2\nENTITIES\n{''.join(entities)}0\nENDSEC\n0\nEOF\n"


def lwpolyline(points, *, closed_flag: bool = True, layer: str = "红线", bulges: dict[int, float] | None = None) -> str:
    flag = 1 if closed_flag else 0
    out = f"0\nLWPOLYLINE\n5\n1F\n100\nAcDbEntity\n8\n{layer}\n100\nAcDbPolyline\n90\n{len(points)}\n70\n{flag}\n"
    for i, (x, y) in enumerate(points):
        out += f"10\n{x:.4f}\n20\n{y:.4f}\n"
        if bulges and i in bulges:
            out += f"42\n{bulges[i]}\n"
    return out


def write_dxf(path: Path, *, prefix: bool = True, with_open_line: bool = True) -> Path:
    shift = 40_000_000 if prefix else 0
    entities = [lwpolyline([(x + shift, y) for x, y in SHELL]), lwpolyline([(x + shift, y) for x, y in HOLE])]
    if with_open_line:
        entities.append(lwpolyline([(E0 + shift, N0 - 20), (E0 + 300 + shift, N0 - 20)], closed_flag=False,
                                   layer="标注"))
    path.write_text(dxf_text(entities), encoding="utf-8")
    return path


def boundary_point_rows(prefix: bool) -> list[dict]:
    rows = []
    shift = 40_000_000 if prefix else 0
    for ring_no, ring in ((1, SHELL), (2, HOLE)):
        for k, (x, y) in enumerate(closed(ring), start=1):
            rows.append({"点号": f"J{k}", "圈号": ring_no, "X": f"{y:.3f}", "Y": f"{x + shift:.3f}"})
    return rows


def write_point_csv(path: Path, *, prefix: bool, encoding: str = "utf-8") -> Path:
    pd.DataFrame(boundary_point_rows(prefix)).to_csv(path, index=False, encoding=encoding)
    return path


def write_point_xlsx(path: Path, *, prefix: bool) -> Path:
    df = pd.DataFrame(boundary_point_rows(prefix)).astype(str)
    pyogrio.write_dataframe(df, path, driver="XLSX", layer="界址点坐标")
    return path


def write_redline_txt(path: Path, *, declared_ha: float) -> Path:
    lines = ["[属性描述]", "格式版本号=1.01版本", "数据产生单位=某市自然资源和规划局（测试）", "坐标系=2000国家大地坐标系",
             "几度分带=3", "投影类型=高斯克吕格", "计量单位=米", "带号=40", "精度=0.001", "[地块坐标]",
             f"{len(SHELL) + len(HOLE) + 2},{declared_ha:.4f},1,示范地块,面,,科教用地,@"]
    for ring_no, ring in ((1, SHELL), (2, HOLE)):
        for k, (x, y) in enumerate(closed(ring), start=1):
            lines.append(f"J{k},{ring_no},{y:.3f},{40_000_000 + x:.3f}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path
