"""Real files made by others ($ZONEGEO_SHARED_DIR/real/, kept out of the repository): real_refs.json or the right error."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import shape

from tests.conftest import real
from zonegeo.domain.chinacoords import gcj02_to_wgs84
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.errors import InputError
from zonegeo.ingest.role_files import ReadOptions, read_role


@pytest.fixture(scope="module")
def refs():
    return json.loads(real("real_refs.json").read_text(encoding="utf-8"))


def read(path, role="boundary", **options):
    return read_role(path, role, options=ReadOptions(**options))


def test_suzhou_industrial_park_in_gcj02(refs):
    (ref,) = refs["datav"]["files"]["datav_320571.json"]
    path = real("datav", "datav_320571.json")
    converted = read(path, crs="gcj02")
    assert geodesic_area_m2(converted.value) / 1e6 == pytest.approx(ref["geodesic_area_km2_after_gcj2wgs"], rel=1e-6)
    as_is = read(path)  # no CRS declared: read as CGCS2000, with a warning that says what else it could be
    assert geodesic_area_m2(as_is.value) / 1e6 == pytest.approx(ref["geodesic_area_km2_gcj_coords_as_is"], rel=1e-6)
    (warning,) = [w for w in as_is.warnings if w["code"] == "crs_assumed"]
    assert "GCJ-02" in warning["message"]


def test_jiangsu_cities_add_up(refs):
    got = read(real("datav", "datav_320000.json"), crs="gcj02")
    total = refs["datav"]["jiangsu_total_geodesic_km2_after_gcj2wgs"]
    assert geodesic_area_m2(got.value) / 1e6 == pytest.approx(total, rel=1e-6)
    assert got.input["features"] == 13


def test_each_nanjing_district_and_the_invalid_ones(refs):
    path = real("datav", "datav_320100.json")
    by_name = {r["name"]: r for r in refs["datav"]["files"]["datav_320100.json"]}
    invalid = {n for n, r in by_name.items() if not r["valid"]}
    assert invalid == {"雨花台区", "高淳区"}
    with pytest.raises(InputError) as e:
        read(path, crs="gcj02")
    assert e.value.code == "invalid_geometry"
    names = [f["properties"]["name"] for f in json.loads(path.read_text(encoding="utf-8"))["features"]]
    bad = {names[f["feature"] - 1] for f in e.value.detail["findings"]}
    assert bad == invalid
    assert all(f["coordinate"] and len(f["coordinate"]) == 2 for f in e.value.detail["findings"])
    repaired = read(path, crs="gcj02", repair=True)
    assert len([w for w in repaired.warnings if w["code"] == "repaired"]) == 2
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        name = feature["properties"]["name"]
        if name in invalid:
            continue
        # each valid district on its own, converted from GCJ-02, against the reference
        geom = shape(feature["geometry"])
        wgs = shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
        assert geodesic_area_m2(wgs) / 1e6 == pytest.approx(by_name[name]["geodesic_area_km2_after_gcj2wgs"], rel=1e-6)


def test_headerless_dxf_with_bulges(refs):
    ref = refs["dxf"]["gdal_closed_polyline_with_bulge.dxf"]
    got = read(real("dxf", "gdal_closed_polyline_with_bulge.dxf"))
    assert got.input["crs"] == "EPSG:4528"  # zone prefix 40 in the easting
    # The exact arc area is given in GK planar m²; the chord polygon gives the planar→geodesic factor here.
    factor = ref["chord_polygon_geodesic_area_m2_via_EPSG4528"] / ref["chord_polygon_gk_area_m2"]
    exact_geodesic = ref["entities"][0]["signed_area_with_arcs"] * factor
    assert abs(geodesic_area_m2(got.value) - exact_geodesic) / exact_geodesic < 1e-3
    assert abs(geodesic_area_m2(got.value) - exact_geodesic) / exact_geodesic < 1e-4  # 1° arc steps


def test_cad_drawings_in_local_units_are_refused_with_the_reason():
    for name in ("langmuir_SquareWithSquareHole.dxf", "langmuir_closed_random_polyline_500_pts.dxf"):
        with pytest.raises(InputError) as e:
            read(real("dxf", name))
        assert e.value.code == "crs_unknown" and "CAD的本地坐标" in e.value.message


def test_local_cad_square_with_hole_has_the_area_the_drawing_says():
    """In its own units (mm), the even-odd rule gives 1600 − 400 = 1200."""
    from zonegeo.ingest.polygons import assemble_area

    df = pyogrio.read_dataframe(real("dxf", "langmuir_SquareWithSquareHole.dxf"))
    area, _ = assemble_area(list(df.geometry), file="x", role="boundary", fmt="dxf")
    assert area.area == pytest.approx(1200.0)


def test_google_kml_samples(refs):
    with pytest.raises(InputError) as e:
        read(real("kml", "KML_Samples.kml"))
    assert e.value.code == "outside_jiangsu" and e.value.detail["centroid"][0] < -100
    by_name = {r["placemark"]: r for r in refs["kml"]["KML_Samples.kml"]}
    campus = pyogrio.read_dataframe(real("kml", "KML_Samples.kml"), layer="Google Campus")
    for name, geom in zip(campus["Name"], campus.geometry, strict=True):
        assert geodesic_area_m2(geom) == pytest.approx(by_name[name]["geodesic_area_m2"], rel=1e-6)
    inner = pyogrio.read_dataframe(real("kml", "polyInnerBoundaries.kml"))
    (ref,) = refs["kml"]["polyInnerBoundaries.kml"]
    assert len(inner.geometry[0].interiors) == 4
    assert geodesic_area_m2(inner.geometry[0]) == pytest.approx(ref["geodesic_area_m2"], rel=1e-6)


def test_gbk_shapefile_of_city_points_outside_jiangsu():
    with pytest.raises(InputError) as e:
        read(real("gbk_shapefile", "地级市点位数据.shp"), "institutions")
    assert e.value.code == "outside_jiangsu"
