"""Reading GeoJSON layers and CSV institution tables, and the located errors for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import shape

from tests.conftest import DEMO
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.errors import InputError
from zonegeo.ingest.plan import parse_role_options, read_zone_dir
from zonegeo.ingest.role_files import read_role


def write_geojson(path: Path, coords: list, props: dict | None = None, crs: str | None = None) -> Path:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props or {}, "geometry": {"type": "Polygon", "coordinates": [coords]}}]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


SQUARE = [[118.78, 32.04], [118.781, 32.04], [118.781, 32.041], [118.78, 32.041], [118.78, 32.04]]


def test_demo_folder_reads_completely():
    bundle = read_zone_dir(DEMO)
    assert bundle.info.code == "NJ-DEMO-01" and bundle.info.city == "南京市"
    plan = bundle.read.plan
    assert 5 <= len(plan.buildings) <= 10
    institutions = [i for i in plan.institutions if not i.kind.is_platform]
    assert 16 <= len(institutions) <= 20
    assert sum(i.kind.is_platform for i in plan.institutions) == 2
    assert {r["role"] for r in bundle.read.inputs} == {"boundary", "core", "buildings", "institutions"}
    assert all(len(r["sha256"]) == 64 for r in bundle.read.inputs)


def test_institution_table_in_gbk_with_english_columns(tmp_path):
    text = ("name,credit_code,lon,lat,services,chain,kind\n"
            "测试代理所,91110000600037341L,118.7805,32.0405,代理;咨询,creation/Protection,institution\n"
            "保护中心,,118.7806,32.0406,,保护,知识产权保护中心\n")
    path = tmp_path / "institutions.csv"
    path.write_bytes(text.encode("gbk"))
    read = read_role(path, "institutions")
    first, second = read.value
    assert first.name == "测试代理所" and first.services == ("代理", "咨询")
    assert [c.value for c in first.chain] == ["创造", "保护"]
    assert second.kind.value == "protection_center"
    assert read.input["encoding"] == "GBK/GB18030"
    assert read.warnings[0]["code"] == "crs_assumed"


def test_old_geojson_with_a_crs_member_is_reprojected(tmp_path):
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    gk = [list(to_gk.transform(x, y)) for x, y in SQUARE]
    path = write_geojson(tmp_path / "boundary.geojson", gk, crs="urn:ogc:def:crs:EPSG::4549")
    read = read_role(path, "boundary")
    assert read.input["crs"] == "EPSG:4549"
    ref = geodesic_area_m2(shape({"type": "Polygon", "coordinates": [SQUARE]}))
    assert geodesic_area_m2(read.value) == pytest.approx(ref, rel=1e-8)


def test_explicit_crs_overrides_the_file(tmp_path):
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    gk = [list(to_gk.transform(x, y)) for x, y in SQUARE]
    path = write_geojson(tmp_path / "b.geojson", gk)  # no crs member: GDAL would say WGS84
    with pytest.raises(InputError) as e:
        read_role(path, "boundary")
    assert e.value.code == "crs_ambiguous"  # GK metres without a zone prefix: three central meridians fit
    assert e.value.detail["candidates"] == ["EPSG:4548", "EPSG:4549", "EPSG:4550"]
    read = read_role(path, "boundary", crs="EPSG:4549")
    assert read.value.bounds[0] == pytest.approx(118.78, abs=1e-7)


@pytest.mark.parametrize(("content", "detected"), [
    (b"\x89PNG\r\n\x1a\nxxxx", "PNG"),
    (b'<?xml version="1.0"?><gpx></gpx>', "XML"),
    (b"%PDF-1.4 xxxx", "PDF"),
    (b"just some words", "无法识别"),
])
def test_unsupported_content_is_refused_by_content(tmp_path, content, detected):
    path = tmp_path / "boundary.geojson"  # the extension lies; the content decides
    path.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_role(path, "boundary")
    assert e.value.code == "unsupported_format"
    assert detected in e.value.message and "boundary.geojson" in e.value.message


def test_self_intersecting_boundary_is_located(tmp_path):
    bowtie = [[118.78, 32.04], [118.781, 32.041], [118.781, 32.04], [118.78, 32.041], [118.78, 32.04]]
    with pytest.raises(InputError) as e:
        read_role(write_geojson(tmp_path / "boundary.geojson", bowtie), "boundary")
    assert e.value.code == "invalid_geometry"
    finding = e.value.detail["findings"][0]
    assert finding["feature"] == 1 and finding["file"] == "boundary.geojson"
    assert finding["coordinate"] == pytest.approx([118.7805, 32.0405], abs=1e-6)
    assert "自相交" in e.value.message


def test_swapped_lat_lon_is_reported_not_fixed(tmp_path):
    swapped = [[y, x] for x, y in SQUARE]
    with pytest.raises(InputError) as e:
        read_role(write_geojson(tmp_path / "boundary.geojson", swapped), "boundary")
    assert e.value.code == "coordinates_swapped"
    assert "颠倒" in e.value.message


def test_outside_jiangsu_names_the_centroid(tmp_path):
    beijing = [[x - 2.4, y + 7.9] for x, y in SQUARE]
    with pytest.raises(InputError) as e:
        read_role(write_geojson(tmp_path / "boundary.geojson", beijing), "boundary")
    assert e.value.code == "outside_jiangsu"
    assert e.value.detail["centroid"] == pytest.approx([116.3804, 39.9404], abs=1e-3)


def test_bad_rows_in_the_institution_table_are_located(tmp_path):
    # Changed with issue 9: an unknown chain link (“设计”, row 4) is kept with a warning, not refused.
    path = tmp_path / "institutions.csv"
    path.write_text("名称,经度,纬度,链条环节\n甲,118.78,32.04,创造\n乙,abc,32.04,运用\n丙,118.78,32.04,设计\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_role(path, "institutions")
    rows = {(f["code"], f["row"]) for f in e.value.detail["findings"]}
    assert rows == {("bad_coordinate", 3)}
    assert "第3行" in e.value.message


def test_one_swapped_row_among_good_ones_is_named(tmp_path):
    path = tmp_path / "institutions.csv"
    path.write_text("名称,经度,纬度\n甲,118.78,32.04\n乙,32.04,118.78\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_role(path, "institutions")
    (finding,) = e.value.detail["findings"]
    assert finding["code"] == "coordinates_swapped" and finding["row"] == 3


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "institutions.csv"
    path.write_text("名称,地址\n甲,某路1号\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_role(path, "institutions")
    assert e.value.code == "missing_columns" and "经度" in e.value.message


def test_buildings_need_floors(tmp_path):
    path = write_geojson(tmp_path / "buildings.geojson", SQUARE, {"名称": "甲楼"})
    with pytest.raises(InputError) as e:
        read_role(path, "buildings")
    assert e.value.code == "missing_columns" and "层数" in e.value.message
    path = write_geojson(tmp_path / "buildings.geojson", SQUARE, {"名称": "甲楼", "层数": 3, "使用层数": 5})
    with pytest.raises(InputError) as e:
        read_role(path, "buildings")
    assert e.value.code == "bad_floors_used"


def test_zone_folder_problems(tmp_path):
    with pytest.raises(InputError) as e:
        read_zone_dir(tmp_path)
    assert e.value.code == "missing_zone_toml"
    shutil.copytree(DEMO, tmp_path / "z")
    toml = tmp_path / "z" / "zone.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('city = "南京市"', 'city = "杭州市"'), encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_zone_dir(tmp_path / "z")
    assert e.value.code == "unknown_city"


def test_crs_options_are_parsed_and_checked():
    assert parse_role_options(["boundary=EPSG:4549", "institutions = EPSG:4490"]) == {
        "boundary": "EPSG:4549", "institutions": "EPSG:4490"}
    with pytest.raises(InputError) as e:
        parse_role_options(["roads=EPSG:4490"])
    assert e.value.code == "bad_crs_option"


def test_unknown_crs_is_a_clear_error(tmp_path):
    path = write_geojson(tmp_path / "boundary.geojson", SQUARE)
    with pytest.raises(InputError) as e:
        read_role(path, "boundary", crs="EPSG:999999")
    assert e.value.code == "invalid_crs"
