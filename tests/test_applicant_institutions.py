"""Institution lists as applicants have them (入驻机构名录: 名称, 信用代码, 地址, 楼栋/楼层/房间, rarely 经纬度), and
the upload form's per-file encodings, through the ingest readers and the API."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point, box

from tests.conftest import import_demo_copy
from tests.test_applicant_files import write_csv, write_shapefile, zip_folder
from zonegeo.errors import InputError
from zonegeo.ingest.plan import read_roles
from zonegeo.ingest.role_files import ReadOptions

LON, LAT = 118.78, 32.04
HEADER = ["序号", "机构名称", "统一社会信用代码", "地址", "楼栋", "楼层", "房间"]


def layout(tmp_path):
    """Boundary around 1号楼; 2号楼 stands half inside, 3号楼 outside."""
    boundary = tmp_path / "boundary.geojson"
    gpd.GeoDataFrame({"名称": ["集聚区"]}, geometry=[box(LON, LAT, LON + 0.004, LAT + 0.002)],
                     crs="EPSG:4490").to_file(boundary, driver="GeoJSON")
    buildings = tmp_path / "buildings.geojson"
    gpd.GeoDataFrame({"名称": ["1号楼", "2号楼", "3号楼"], "层数": [10, 8, 6]},
                     geometry=[box(LON + 0.001, LAT + 0.0005, LON + 0.002, LAT + 0.0015),
                               box(LON + 0.0035, LAT + 0.0005, LON + 0.0050, LAT + 0.0015),
                               box(LON + 0.006, LAT + 0.0005, LON + 0.007, LAT + 0.0015)],
                     crs="EPSG:4490").to_file(buildings, driver="GeoJSON")
    return boundary, buildings


def roster(tmp_path, rows, name="入驻机构名录.csv"):
    return write_csv(tmp_path / name, [["入驻机构名录"], HEADER, *rows], encoding="gbk")


def read(*items):
    return read_roles([(role, path, ReadOptions()) for role, path in items])


def test_a_roster_without_coordinates_is_placed_at_its_buildings(tmp_path):
    boundary, buildings = layout(tmp_path)
    path = roster(tmp_path, [["1", "南京某专利代理事务所", "", "某路1号", "1号楼", "5", "501"],
                             ["2", "江苏某律师事务所", "", "某路1号", "2#楼", "3", "301"],
                             ["3", "某知识产权咨询公司", "", "某路9号", "３号楼", "2", "201"]])
    reads = read(("institutions", path), ("boundary", boundary), ("buildings", buildings))
    got = reads["institutions"].value
    assert [i.located_by for i in got] == ["building", "building", "building"]
    area = reads["boundary"].value
    footprints = {b.name: b.footprint for b in reads["buildings"].value}
    # inside exactly when the building is: 1号楼 inside, 2号楼 half inside (placed in its inside part), 3号楼 out
    for inst, name in zip(got, ["1号楼", "2号楼", "3号楼"], strict=True):
        point = Point(inst.lon, inst.lat)
        assert footprints[name].contains(point)
        assert area.contains(point) == footprints[name].intersects(area)
    assert [area.contains(Point(i.lon, i.lat)) for i in got] == [True, True, False]
    record = reads["institutions"].input
    assert [(r["row"], r["located_by"]) for r in record["located"]] == [(3, "building"), (4, "building"),
                                                                        (5, "building")]
    (said,) = [w for w in reads["institutions"].warnings if w["code"] == "located_by_building"]
    assert "按楼栋定位" in said["message"]


def test_rows_with_coordinates_keep_them_and_say_so(tmp_path):
    _, buildings = layout(tmp_path)
    path = write_csv(tmp_path / "机构.csv", [["名称", "经度", "纬度", "楼栋"],
                                            ["甲", f"{LON + 0.0015}", f"{LAT + 0.001}", ""],
                                            ["乙", "", "", "1号楼"]])
    reads = read(("buildings", buildings), ("institutions", path))
    got = reads["institutions"].value
    assert [(i.name, i.located_by) for i in got] == [("甲", "coordinates"), ("乙", "building")]
    assert got[0].lon == pytest.approx(LON + 0.0015)


def test_an_institution_that_cannot_be_placed_is_named_with_its_row(tmp_path):
    _, buildings = layout(tmp_path)
    path = roster(tmp_path, [["1", "南京某专利代理事务所", "", "某路1号", "1号楼", "5", "501"],
                             ["2", "某商标代理公司", "", "某路5号", "9号楼", "1", "101"],
                             ["3", "某信息服务公司", "", "某路6号", "", "", ""]])
    with pytest.raises(InputError) as e:
        read(("buildings", buildings), ("institutions", path))
    codes = [(f["code"], f["row"]) for f in e.value.detail["findings"]]
    assert codes == [("institution_not_located", 4), ("institution_not_located", 5)]
    first, second = e.value.detail["findings"]
    assert "第4行（某商标代理公司）" in first["message"] and "9号楼" in first["message"]
    assert "经度/纬度" in first["message"] and "1号楼" in first["message"]
    assert "第5行（某信息服务公司）" in second["message"] and "楼栋" in second["message"]


def test_without_a_layout_a_roster_asks_for_coordinates_or_buildings(tmp_path):
    path = roster(tmp_path, [["1", "南京某专利代理事务所", "", "某路1号", "1号楼", "5", "501"]])
    with pytest.raises(InputError) as e:
        read(("institutions", path))
    assert e.value.code == "institution_not_located"
    assert "经度/纬度" in e.value.message and "建筑图层" in e.value.message


def test_uploads_keep_rows_they_cannot_place_and_import_refuses_them(tmp_path):
    """ReadOptions.keep_unlocated (uploads only): a list of names and addresses, with no coordinates and no 楼栋
    columns at all, is read; the rows come back apart, unlocated, with their file rows, and a warning names them."""
    _, buildings = layout(tmp_path)
    path = write_csv(tmp_path / "名录.csv", [["机构名称", "地址"], ["甲", "南京市某路1号"], ["乙", "南京市某路2号"]])
    kept = read_roles([("institutions", path, ReadOptions(keep_unlocated=True))])["institutions"]
    assert kept.value == []
    assert [(r["name"], r["address"], r["lon"], r["row"]) for r in kept.input["unlocated"]] == [
        ("甲", "南京市某路1号", None, 2), ("乙", "南京市某路2号", None, 3)]
    (said,) = [w for w in kept.warnings if w["code"] == "institutions_unlocated"]
    assert said["detail"]["rows"] == [2, 3] and "2家机构尚未定位，未计入" in said["message"]
    with pytest.raises(InputError) as e:  # zonegeo import (no option): the columns are missing, as before
        read(("institutions", path))
    assert e.value.code == "missing_columns"
    # rows with coordinates, 楼栋 or neither, in one file: only the last are kept apart
    mixed = roster(tmp_path, [["1", "丙", "", "某路", "1号楼", "", ""], ["2", "丁", "", "某路", "9号楼", "", ""]])
    got = read_roles([("buildings", buildings, ReadOptions()),
                      ("institutions", mixed, ReadOptions(keep_unlocated=True))])["institutions"]
    assert [i.name for i in got.value] == ["丙"] and [r["name"] for r in got.input["unlocated"]] == ["丁"]
    with pytest.raises(InputError) as e:
        read(("buildings", buildings), ("institutions", mixed))
    assert e.value.code == "institution_not_located"


# --- through the API: the zone's newest layout places the roster; the encodings form field -----------------

@pytest.fixture
def zone_code(engine, tmp_path):
    return import_demo_copy(engine, tmp_path, "AP")


def post(client, code, *files, **form):
    parts = [("files", (name, data)) for name, data, _ in files]
    return client.post(f"/api/zones/{code}/uploads", files=parts,
                       data={"roles": [role for _, _, role in files], **form})


def test_an_uploaded_roster_is_placed_in_the_zones_newest_buildings(client, zone_code, tmp_path):
    rows = [[str(k), f"机构{k}", "", "某路", "A座 知识产权大厦", "3", f"30{k}"] for k in range(1, 4)]
    rows.append(["4", "机构4", "", "某路", "Z座", "1", "101"])
    # an upload keeps the row it cannot place (Z座 is no building of the layout): unlocated, named, not counted
    r = post(client, zone_code, ("名录.csv", roster(tmp_path, rows).read_bytes(), "institutions"))
    assert r.status_code == 201, r.text
    assert r.json()["report"]["institutions"]["total"] == 3
    (said,) = [w for w in r.json()["report"]["warnings"] if w["code"] == "institutions_unlocated"]
    assert "1家机构尚未定位，未计入" in said["message"] and "机构4" in said["message"]
    draft = client.get(f"/api/zones/{zone_code}/register-drafts/{r.json()['register_draft']}").json()
    assert [(row["name"], row["located"], row["source_row"]) for row in draft["rows"]][-1] == ("机构4", False, 6)
    assert draft["institutions"] == 4
    r = post(client, zone_code, ("名录.csv", roster(tmp_path, rows[:3]).read_bytes(), "institutions"))
    assert r.status_code == 201, r.text
    (record,) = [i for i in r.json()["report"]["inputs"] if i["role"] == "institutions"]
    assert [x["located_by"] for x in record["located"]] == ["building"] * 3
    assert r.json()["institutions"] is not None


def test_the_encodings_form_field_is_one_per_file(client, zone_code, tmp_path):
    shp = write_shapefile(tmp_path / "建筑", "建筑", encoding="GBK", ldid=0x57)
    data = zip_folder(shp.parent, tmp_path / "建筑.zip", name_encoding="gbk").read_bytes()
    r = post(client, zone_code, ("建筑.zip", data, "buildings"), encodings=["UTF-8"])
    assert r.status_code == 422 and "层数" in r.json()["message"], r.text
    r = post(client, zone_code, ("建筑.zip", data, "buildings"), encodings=["GBK"])
    assert r.status_code == 201, r.text
    (record,) = [i for i in r.json()["report"]["inputs"] if i["role"] == "buildings"]
    assert record["encoding"] == "GBK/GB18030（按指定）"
    r = post(client, zone_code, ("建筑.zip", data, "buildings"), encodings=["Big5"])
    assert r.status_code == 422 and r.json()["detail"]["findings"][0]["code"] == "bad_encoding_option"


__all__ = ["json", "pyogrio"]
