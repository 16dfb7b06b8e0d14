"""Every input format and CRS applicants have: the same parcel gives the same area from each of them."""

from __future__ import annotations

import numpy as np
import pyogrio
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Polygon

from tests import formats
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.errors import InputError
from zonegeo.ingest.role_files import ReadOptions, read_role

REF_AREA = formats.reference_area_m2()


def read(path, role="boundary", **options):
    return read_role(path, role, options=ReadOptions(**options))


CASES = {
    "geojson": lambda d: formats.write_geojson(d / "b.geojson"),
    "geojson_old_crs_member": lambda d: formats.write_geojson(d / "b.geojson", "urn:ogc:def:crs:EPSG::4549", gk=True),
    "shapefile_zip_gbk": lambda d: formats.write_shapefile_zip(d / "红线.zip"),
    "kml": lambda d: formats.write_kml(d / "b.kml"),
    "kmz": lambda d: formats.write_kmz(d / "b.kmz"),
    "gpkg": lambda d: formats.write_gpkg(d / "zone.gpkg"),
    "dxf_zone_prefix": lambda d: formats.write_dxf(d / "红线.dxf"),
    "points_csv_zone_prefix": lambda d: formats.write_point_csv(d / "界址点.csv", prefix=True),
    "points_csv_gbk": lambda d: formats.write_point_csv(d / "界址点.csv", prefix=True, encoding="gbk"),
    "points_xlsx": lambda d: formats.write_point_xlsx(d / "界址点.xlsx", prefix=True),
    "redline_txt": lambda d: formats.write_redline_txt(d / "红线.txt", declared_ha=REF_AREA / 10_000),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_parcel_has_the_same_area_in_every_format(tmp_path, case):
    path = CASES[case](tmp_path)
    assert path.stat().st_size < 100_000
    got = read(path)
    area = geodesic_area_m2(got.value)
    assert abs(area - REF_AREA) / REF_AREA < 1e-4, (case, area, REF_AREA)
    assert sum(len(p.interiors) for p in got.value.geoms) == 1, "the hole is kept"
    assert got.input["format"] in case or case.startswith(("points", "redline", "dxf", "shapefile", "geojson"))


def test_gbk_shapefile_without_cpg_is_decoded(tmp_path):
    path = formats.write_shapefile_zip(tmp_path / "红线.zip")
    got = read(path, "buildings")
    assert got.value[0].name == "示范地块" and got.value[0].floors == 5
    assert "GBK" in got.input["encoding"]
    assert got.input["crs"] == "EPSG:4549"


def test_gdal_alone_reads_that_shapefile_as_mojibake(tmp_path):
    """The trap the detection exists for: no error from GDAL, just wrong text."""
    import zipfile

    path = formats.write_shapefile_zip(tmp_path / "红线.zip")
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "x")
    df = pyogrio.read_dataframe(next((tmp_path / "x").rglob("*.shp")))
    assert "名称" not in df.columns


def test_shapefile_without_prj_and_bare_gk_coordinates_is_ambiguous(tmp_path):
    path = formats.write_shapefile_zip(tmp_path / "b.zip", prj=False)
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "crs_ambiguous"
    assert read(path, crs="EPSG:4549").input["crs"] == "EPSG:4549"


def test_kml_points_are_ignored_with_a_warning(tmp_path):
    got = read(formats.write_kml(tmp_path / "b.kml"))
    assert "non_polygons_ignored" in [w["code"] for w in got.warnings]
    assert got.input["crs"] == "EPSG:4326"


def test_geopackage_layers_are_chosen_by_role(tmp_path):
    path = formats.write_gpkg(tmp_path / "zone.gpkg")
    core = read(path, "core")
    assert geodesic_area_m2(core.value) == pytest.approx(50 * 30, rel=1e-3)
    with pytest.raises(InputError) as e:
        read(path, "boundary", layer="道路")
    assert e.value.code == "layer_not_found" and "四至" in e.value.message


def test_dxf_nested_polylines_make_a_hole_and_the_zone_prefix_sets_the_crs(tmp_path):
    got = read(formats.write_dxf(tmp_path / "红线.dxf"))
    assert got.input["crs"] == "EPSG:4528"
    assert "crs_inferred" in [w["code"] for w in got.warnings]


def test_dxf_open_polylines_are_reported_not_guessed(tmp_path):
    only_open = formats.dxf_text([formats.lwpolyline(formats.SHELL, closed_flag=False, layer="0")])
    (tmp_path / "open.dxf").write_text(only_open.replace(f"{formats.E0:.4f}", f"{formats.E0 + 40e6:.4f}"),
                                       encoding="utf-8")
    path = tmp_path / "open.dxf"
    shifted = formats.dxf_text([formats.lwpolyline([(x + 40e6, y) for x, y in formats.SHELL], closed_flag=False,
                                                   layer="0")])
    path.write_text(shifted, encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "open_polyline" and "未闭合" in e.value.message
    mixed = formats.dxf_text([
        formats.lwpolyline([(x + 40e6, y) for x, y in formats.SHELL], layer="0"),
        formats.lwpolyline([(formats.E0 + 40e6, formats.N0 - 20), (formats.E0 + 40e6 + 90, formats.N0 - 20)],
                           closed_flag=False, layer="标注")])
    path.write_text(mixed, encoding="utf-8")
    got = read(path)
    assert "open_polylines_ignored" in [w["code"] for w in got.warnings]


def test_dxf_bulge_arcs_are_kept_not_cut_to_chords(tmp_path):
    # A 100 m square whose north side is a half circle bulging outwards (bulge = 1, clockwise from east).
    x0, y0 = formats.E0 + 40e6, formats.N0
    square = [(x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 100), (x0, y0 + 100)]
    path = tmp_path / "arc.dxf"
    path.write_text(formats.dxf_text([formats.lwpolyline(square, layer="0", bulges={2: 1.0})]), encoding="utf-8")
    got = geodesic_area_m2(read(path).value)
    # Reference: the same shape with the arc in 20 000 points, projected and measured by pyproj alone.
    t = np.linspace(0, np.pi, 20_001)
    arc = [(x0 + 50 + 50 * np.cos(a), y0 + 100 + 50 * np.sin(a)) for a in t]
    ring = [(x0, y0), (x0 + 100, y0), *arc, (x0, y0)]
    to_ll = Transformer.from_crs("EPSG:4528", "EPSG:4490", always_xy=True)
    ref = abs(Geod(ellps="GRS80").geometry_area_perimeter(Polygon([to_ll.transform(x, y) for x, y in ring]))[0])
    assert abs(got - ref) / ref < 1e-3
    chords_only = 100 * 100
    assert abs(chords_only - ref) / ref > 0.2


def test_boundary_point_table_without_zone_prefix_names_the_candidates(tmp_path):
    path = formats.write_point_csv(tmp_path / "界址点.csv", prefix=False)
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "crs_ambiguous"
    for epsg in ("EPSG:4548", "EPSG:4549", "EPSG:4550"):
        assert epsg in e.value.message
    area = geodesic_area_m2(read(path, crs="EPSG:4549").value)
    assert abs(area - REF_AREA) / REF_AREA < 1e-4


def test_boundary_point_table_with_swapped_columns(tmp_path):
    path = tmp_path / "界址点.csv"
    rows = formats.boundary_point_rows(prefix=True)
    text = "点号,X,Y\n" + "".join(f"{r['点号']},{r['Y']},{r['X']}\n" for r in rows[:5])
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "coordinates_swapped" and "北坐标" in e.value.message


def test_redline_txt_compares_the_declared_area(tmp_path):
    good = read(formats.write_redline_txt(tmp_path / "a.txt", declared_ha=REF_AREA / 10_000))
    assert "declared_area_differs" not in [w["code"] for w in good.warnings]
    assert good.input["crs"] == "EPSG:4528" and good.input["parcels"][0]["name"] == "示范地块"
    off = read(formats.write_redline_txt(tmp_path / "b.txt", declared_ha=REF_AREA / 10_000 * 1.1))
    (warning,) = [w for w in off.warnings if w["code"] == "declared_area_differs"]
    assert "公顷" in warning["message"]


def test_z_values_are_dropped_with_a_warning(tmp_path):
    ring = [[x, y, 12.5] for x, y in formats.closed(formats.lonlat(formats.SHELL))]
    path = tmp_path / "z.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    f'{{"type":"Polygon","coordinates":[{ring}]}}}}]}}', encoding="utf-8")
    got = read(path)
    assert "z_dropped" in [w["code"] for w in got.warnings]
    assert not got.value.has_z


def test_repair_only_when_asked(tmp_path):
    lon, lat = formats.lonlat([(formats.E0, formats.N0)])[0]
    d = 0.001
    bowtie = [[lon, lat], [lon + d, lat + d], [lon + d, lat], [lon, lat + d], [lon, lat]]
    path = tmp_path / "b.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    f'{{"type":"Polygon","coordinates":[{bowtie}]}}}}]}}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "invalid_geometry"
    got = read(path, repair=True)
    assert [w["code"] for w in got.warnings if w["code"] == "repaired"] == ["repaired"]
    assert got.value.is_valid and len(got.value.geoms) == 2


def test_zero_area_part_is_an_error_and_a_sliver_a_warning(tmp_path):
    (lon, lat), = formats.lonlat([(formats.E0, formats.N0)])
    tiny = 0.000005  # about 0.5 m
    coords = [[lon, lat], [lon + tiny, lat], [lon + tiny, lat + tiny], [lon, lat + tiny], [lon, lat]]
    path = tmp_path / "s.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    f'{{"type":"Polygon","coordinates":[{coords}]}}}}]}}', encoding="utf-8")
    assert "sliver" in [w["code"] for w in read(path).warnings]


def test_institutions_from_xlsx_and_a_point_layer(tmp_path):
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    (lon, lat), = formats.lonlat([(formats.E0 + 50, formats.N0 + 50)])
    table = pd.DataFrame({"名称": ["甲所"], "统一社会信用代码": ["91110000600037341L"], "经度": [f"{lon:.7f}"],
                          "纬度": [f"{lat:.7f}"], "链条环节": ["创造、保护"], "类型": ["服务机构"]})
    xlsx = tmp_path / "机构.xlsx"
    pyogrio.write_dataframe(table, xlsx, driver="XLSX", layer="机构")
    got = read(xlsx, "institutions")
    assert got.value[0].credit_code == "91110000600037341L" and got.value[0].lon == pytest.approx(lon)
    gdf = gpd.GeoDataFrame(table.drop(columns=["经度", "纬度"]), geometry=[Point(lon, lat)], crs="EPSG:4490")
    gpkg = tmp_path / "z.gpkg"
    pyogrio.write_dataframe(gdf, gpkg, layer="机构")
    got = read(gpkg, "institutions")
    assert got.value[0].name == "甲所" and [c.value for c in got.value[0].chain] == ["创造", "保护"]


def test_gcj02_institutions_are_converted(tmp_path):
    from zonegeo.domain.chinacoords import wgs84_to_gcj02

    (lon, lat), = formats.lonlat([(formats.E0 + 50, formats.N0 + 50)])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    path = tmp_path / "i.csv"
    path.write_text(f"名称,经度,纬度\n甲,{float(g_lon):.9f},{float(g_lat):.9f}\n", encoding="utf-8")
    got = read(path, "institutions", crs="gcj02")
    assert got.value[0].lon == pytest.approx(lon, abs=1e-7) and got.value[0].lat == pytest.approx(lat, abs=1e-7)
    assert got.input["crs"] == "gcj02"


def test_utf8_dbf_field_names_cut_inside_a_character(tmp_path):
    """A .dbf name holds 10 bytes: UTF-8 使用层数 (12 bytes) is cut mid-character; GDAL's reader then fails."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"名称": ["甲楼"], "层数": [6], "使用层数": [4]}, geometry=[formats.parcel_gk()],
                           crs="EPSG:4549")
    shp = tmp_path / "buildings.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="UTF-8")
    with pytest.raises(UnicodeDecodeError):
        pyogrio.read_dataframe(shp)
    (building,) = read(shp, "buildings").value
    assert (building.name, building.floors, building.floors_used) == ("甲楼", 6, 4)


def test_unclosed_and_too_short_rings_are_located(tmp_path):
    (lon, lat), = formats.lonlat([(formats.E0, formats.N0)])
    d = 0.001
    unclosed = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d]]
    path = tmp_path / "u.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    f'{{"type":"Polygon","coordinates":[{unclosed}]}}}}]}}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "unclosed_ring" and "未闭合" in e.value.message
    assert e.value.detail["findings"][0]["coordinate"] == pytest.approx([lon, lat], abs=1e-6)
    short = [[lon, lat], [lon + d, lat], [lon, lat]]
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    f'{{"type":"Polygon","coordinates":[{short}]}}}}]}}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "invalid_geometry" and "顶点过少" in e.value.message


def test_several_parcels_in_one_point_table(tmp_path):
    rows = formats.boundary_point_rows(prefix=True)
    far = [dict(r, 地块="2", X=f"{float(r['X']) + 1000:.3f}") for r in rows if r["圈号"] == 1]
    path = tmp_path / "界址点.csv"
    lines = ["点号,地块,圈号,X,Y"] + [f"{r['点号']},1,{r['圈号']},{r['X']},{r['Y']}" for r in rows] + [
        f"{r['点号']},2,1,{r['X']},{r['Y']}" for r in far]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = read(path)
    assert len(got.value.geoms) == 2
    assert [w["code"] for w in got.warnings if w["code"] == "multipart"] == ["multipart"]
