"""Loose Shapefile parts sent together (the upload page's drop zone, or several files of one role through the
API) are read as one Shapefile; a missing .shx or .dbf is named in Chinese; a row holds one file."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import text
from starlette.datastructures import UploadFile

from tests.conftest import DEMO, import_demo_copy, web
from zonegeo.api.multipart import FormRow, save_form_rows, save_uploads
from zonegeo.errors import InputError


def upload(name: str, data: bytes = b"x") -> UploadFile:
    return UploadFile(file=io.BytesIO(data), filename=name)


def gbk_shapefile(folder: Path, stem: str = "建筑") -> dict[str, bytes]:
    """The demo buildings as a Shapefile with GBK field names and values and no .cpg, as ArcGIS and older
    Chinese software write them: its parts by extension."""
    frame = gpd.read_file(DEMO / "buildings.geojson")
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_file(folder / f"{stem}.shp", encoding="GBK")
    (folder / f"{stem}.cpg").unlink(missing_ok=True)
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


def test_loose_parts_become_one_shapefile_in_one_folder(tmp_path):
    parts = gbk_shapefile(tmp_path / "src")
    files = [upload(f"建筑{ext}", data) for ext, data in parts.items()]
    out = tmp_path / "out"
    out.mkdir()
    saved = save_form_rows([FormRow("buildings", files, "EPSG:4490", "GBK")], out, 1 << 24)
    assert len(saved) == 1
    shp = saved[0]
    assert (shp.name, shp.role, shp.crs, shp.encoding) == ("建筑.shp", "buildings", "EPSG:4490", "GBK")
    assert shp.path.suffix == ".shp" and {p.suffix for p in shp.path.parent.iterdir()} == set(parts)
    assert {p.stem for p in shp.path.parent.iterdir()} == {"建筑"}


def test_parts_with_upper_case_or_mixed_names_are_renamed_to_the_shp(tmp_path):
    saved = save_uploads([upload("A.SHP"), upload("a.DBF"), upload("A.shx"), upload("note.txt")],
                         ["buildings", "buildings", "buildings", "boundary"], [], [], tmp_path, 1 << 20)
    assert [f.name for f in saved] == ["A.SHP", "note.txt"]
    assert sorted(p.name for p in saved[0].path.parent.iterdir()) == ["A.DBF", "A.SHP", "A.SHX"]


@pytest.mark.parametrize(("names", "missing"), [
    (["园区.shp", "园区.dbf", "园区.prj"], ["索引（.shx）"]),
    (["园区.shp", "园区.shx"], ["属性表（.dbf）"]),
    (["园区.shp"], ["索引（.shx）", "属性表（.dbf）"]),
    (["园区.dbf", "园区.shx", "园区.cpg"], ["几何（.shp）"]),
])
def test_a_missing_part_is_named_in_chinese(tmp_path, names, missing):
    with pytest.raises(InputError) as caught:
        save_form_rows([FormRow("boundary", [upload(n) for n in names])], tmp_path, 1 << 20)
    exc = caught.value
    assert exc.code == "shapefile_part_missing" and exc.detail["missing"] == missing
    assert all(m in exc.message for m in missing) and "四至范围" in exc.message
    assert str(tmp_path) not in exc.message and "GDAL" not in exc.message


def test_parts_of_one_name_in_different_rows_are_not_mixed(tmp_path):
    with pytest.raises(InputError) as caught:
        save_form_rows([FormRow("boundary", [upload("a.shp"), upload("a.shx")]),
                        FormRow("core", [upload("a.dbf")])], tmp_path, 1 << 20)
    assert caught.value.code == "upload_invalid"
    assert {f["role"] for f in caught.value.detail["findings"]} == {"boundary", "core"}


def test_a_part_chosen_twice_is_refused(tmp_path):
    with pytest.raises(InputError) as caught:
        save_form_rows([FormRow("boundary", [upload("a.shp"), upload("a.shx"), upload("a.dbf"), upload("A.dbf")])],
                       tmp_path, 1 << 20)
    assert caught.value.code == "shapefile_part_repeated" and ".dbf" in caught.value.message


def test_two_separate_files_in_one_row_are_refused_naming_them(tmp_path):
    with pytest.raises(InputError) as caught:
        save_form_rows([FormRow("buildings", [upload("一期.geojson"), upload("二期.geojson")])], tmp_path, 1 << 20)
    exc = caught.value
    assert exc.code == "several_files_for_role" and "一期.geojson" in exc.message and "二期.geojson" in exc.message


def test_empty_rows_and_too_large_files(tmp_path):
    with pytest.raises(InputError) as caught:
        save_form_rows([FormRow("boundary", [])], tmp_path, 1 << 20)
    assert caught.value.code == "no_files"
    with pytest.raises(InputError) as caught:
        save_form_rows([FormRow("boundary", [upload("big.geojson", b"x" * 2048)])], tmp_path, 1024)
    assert caught.value.code == "file_too_large"


def newest(engine, code):
    with engine.connect() as conn:
        return conn.execute(text("SELECT v.number, v.source_files FROM zone_version v JOIN zone z ON z.id = v.zone_id "
                                 "WHERE z.code = :c ORDER BY v.number DESC LIMIT 1"), {"c": code}).one()


def test_the_page_reads_loose_gbk_parts_as_the_buildings(settings, engine, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "GRP")
    parts = gbk_shapefile(tmp_path / "两栋楼")
    c = web(settings, "province-bureau")
    try:
        files = [("file_buildings", (f"建筑{ext}", data)) for ext, data in parts.items()]
        r = c.post(f"/zones/{code}/upload", files=files, follow_redirects=False,
                   data={"csrf": c.csrf, "crs_buildings": "EPSG:4490", "enc_buildings": ""})
        assert r.status_code == 303, r.text
        row = newest(engine, code)
        assert r.headers["location"].endswith(f"?draft={row.number}")
        buildings = next(i for i in row.source_files if i["role"] == "buildings")
        assert buildings["file"] == "建筑.shp" and buildings["features"] == 7
        assert "GBK" in (buildings.get("encoding") or "")
        page = c.get(r.headers["location"]).text
        assert "GBK" in page and 'id="inputs"' in page  # the encoding chosen is shown in the result
        # the same parts without the .shx: the part is named, nothing stored
        files = [f for f in files if not f[1][0].endswith(".shx")]
        r = c.post(f"/zones/{code}/upload", files=files, data={"csrf": c.csrf, "crs_buildings": "EPSG:4490"})
        assert r.status_code == 422 and "缺少索引（.shx）" in r.text
        assert newest(engine, code).number == row.number
    finally:
        c.__exit__(None, None, None)


def test_the_api_groups_loose_parts_too(client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "GRPA")
    parts = gbk_shapefile(tmp_path / "b")
    r = client.post(f"/api/zones/{code}/uploads", files=[("files", (f"楼{ext}", data)) for ext, data in parts.items()],
                    data={"roles": ["buildings"] * len(parts)})
    assert r.status_code == 201, r.text
    inputs = {i["role"]: i for i in r.json()["report"]["inputs"]}
    assert inputs["buildings"]["file"] == "楼.shp"



def test_loose_parts_again_are_the_same_upload_but_a_corrected_dbf_is_not(client, engine, tmp_path):
    """Idempotency looks at every part: the .shp alone would call a corrected attribute table the same upload."""
    code = import_demo_copy(engine, tmp_path, "GRPK")
    parts = gbk_shapefile(tmp_path / "b")

    def send(parts):
        return client.post(f"/api/zones/{code}/uploads", data={"roles": ["buildings"] * len(parts)},
                           files=[("files", (f"楼{ext}", data)) for ext, data in parts.items()])

    first = send(parts)
    assert first.status_code == 201, first.text
    again = send(parts)
    assert (again.status_code, again.json()["version"], again.json()["created"]) == (200, first.json()["version"], False)
    frame = gpd.read_file(tmp_path / "b" / "建筑.shp", encoding="GBK")
    frame.iloc[0, frame.columns.get_loc(next(c for c in frame.columns if "层" in c))] += 1  # one more floor
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    frame.to_file(fixed / "建筑.shp", encoding="GBK")
    (fixed / "建筑.cpg").unlink(missing_ok=True)
    changed = {ext: data for ext, data in parts.items()}
    changed[".dbf"] = (fixed / "建筑.dbf").read_bytes()
    assert changed[".shp"] == parts[".shp"] and changed[".dbf"] != parts[".dbf"]
    third = send(changed)
    assert third.status_code == 201, third.text
    assert third.json()["created"] is True and third.json()["version"] == first.json()["version"] + 1

@pytest.mark.parametrize(("label", "lonlat"), [("EPSG:4490", True), ("EPSG:4326", True), ("epsg:4490", True),
                                                ("EPSG:4549", False), ("EPSG:4528", False), ("按楼栋定位", False),
                                                ("", False), (None, False), ("EPSG:999999", False)])
def test_which_read_crs_is_lon_lat(label, lonlat):
    from zonegeo.ingest.crs_resolve import is_lonlat

    assert is_lonlat(label) is lonlat


def test_the_page_asks_about_a_lon_lat_institutions_list_and_stores_nothing(settings, engine, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "ASKI")
    c = web(settings, "province-bureau")
    try:
        with engine.connect() as conn:
            drafts = conn.execute(text("SELECT count(*) FROM register_draft")).scalar()
        data = (DEMO / "institutions.csv").read_bytes()
        r = c.post(f"/zones/{code}/upload", files=[("file_institutions", ("机构名录.csv", data))],
                   data={"csrf": c.csrf, "crs_institutions": "", "enc_institutions": "UTF-8"})
        assert r.status_code == 422 and 'data-code="crs_source_needed"' in r.text
        assert "机构名录.csv" in r.text and 'id="outline-map"' in r.text and '"Point"' in r.text
        assert '<option value="UTF-8" selected>' in r.text  # the encoding choice kept
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM register_draft")).scalar() == drafts
        r = c.post(f"/zones/{code}/upload", files=[("file_institutions", ("机构名录.csv", data))],
                   data={"csrf": c.csrf, "crs_institutions": "bd09"}, follow_redirects=False)
        assert r.status_code == 303 and "/register-drafts/" in r.headers["location"]
    finally:
        c.__exit__(None, None, None)


def test_the_json_api_still_reads_undeclared_lon_lat_as_cgcs2000_with_a_warning(client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "APIL")
    r = client.post(f"/api/zones/{code}/uploads", data={"roles": ["core"]},
                    files=[("files", ("core.geojson", (DEMO / "core.geojson").read_bytes()))])
    assert r.status_code == 201, r.text
    assert "crs_assumed" in {w["code"] for w in r.json()["report"]["warnings"]}
