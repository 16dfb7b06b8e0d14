"""Exports (/exports and `zonegeo export`) on real PostGIS, opened back with the readers a user would use (openpyxl,
pyogrio) and compared with the database: counts, values, areas, the .cpg, GBK names read back; who may export what."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pyogrio
import pytest
from sqlalchemy import func, select

from tests.conftest import demo_copy, role_clients
from zonegeo.db.models import ChangeEvent, Institution, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.services import exports
from zonegeo.services.xlsx import XLSX_TYPE

TODAY = dt.date.today()
GBK_NAME = "苏州工业园区知识产权服务业集聚区（导出测试）"
ODD_NAME = "𠀀测试机构"  # a character outside GBK (CJK Extension B)


@pytest.fixture(scope="module")
def suzhou_zone(engine, tmp_path_factory, demo_zone, tokens) -> str:
    """A demo copy in 苏州市 (another city than the city user's 南京市) with a change reported late, one overdue and
    one reported on time."""
    from zonegeo.services.zones import import_zone

    folder, code = demo_copy(tmp_path_factory.mktemp("exports"), "EXP")
    toml = folder / "zone.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r'^name = ".*"$', f'name = "{GBK_NAME}"', text, flags=re.M).replace('city = "南京市"', 'city = "苏州市"')
    toml.write_text(text, encoding="utf-8")
    with transaction(session_factory(engine)) as s:
        import_zone(session=s, folder=folder)
        zone = s.scalars(select(Zone).where(Zone.code == code)).one()
        due = TODAY - dt.timedelta(days=10)
        for reported_on in (due + dt.timedelta(days=3), None, due - dt.timedelta(days=1)):
            s.add(ChangeEvent(zone_id=zone.id, kind="operator", description="运营管理机构更换",
                              occurred_on=due - dt.timedelta(days=21), report_due=due,
                              reported_on=reported_on, reported_by="建设主体" if reported_on else ""))
    return code


@pytest.fixture(scope="module")
def as_role(settings, tokens, suzhou_zone):
    yield from role_clients(settings, tokens)


def sheet(content: bytes, title: str) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.sheetnames == [title, "说明"]
    ws = wb[title]
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])
    return list(ws.iter_rows(values_only=True))


def scalar(engine, stmt):
    with session_factory(engine)() as s:
        return s.scalar(stmt)


# ---- the .xlsx files ------------------------------------------------------------------------------------------------

def test_the_zone_list_matches_the_database(as_role, engine, suzhou_zone, demo_zone):
    r = as_role("province").get("/exports/zones.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX_TYPE)
    assert unquote(r.headers["content-disposition"].split("''")[1]) == f"集聚区名录-全省-{TODAY.isoformat()}.xlsx"
    rows = sheet(r.content, "集聚区名录")
    assert list(rows[0]) == exports.ZONE_HEADER
    assert len(rows) - 1 == int(r.headers["x-export-rows"]) == scalar(engine, select(func.count()).select_from(Zone))
    by_code = {row[0]: row for row in rows[1:]}
    sz = by_code[suzhou_zone]
    assert sz[1] == GBK_NAME and sz[2] == "苏州市" and sz[5] == "建设期" and sz[6].date() == dt.date(2025, 6, 30)
    with session_factory(engine)() as s:
        v = s.scalars(select(ZoneVersion).join(Zone).where(Zone.code == suzhou_zone,
                                                           ZoneVersion.state == "approved")).one()
        from zonegeo.db.geometry import from_db

        land = geodesic_area_m2(from_db(v.boundary))
        active = s.scalar(select(func.count()).select_from(Institution).join(Zone).where(
            Zone.code == suzhou_zone, Institution.left_on.is_(None), Institution.kind == "institution"))
    assert sz[10] == v.number and sz[11] == pytest.approx(land, abs=0.01) and sz[13] > 0
    assert sz[14] == active and sz[14] > 0


def test_the_institution_register_matches_the_database(as_role, engine, suzhou_zone):
    r = as_role("province").get("/exports/institutions.xlsx", params={"city": "苏州市"})
    rows = sheet(r.content, "机构名录")
    assert list(rows[0]) == exports.INSTITUTION_HEADER
    with session_factory(engine)() as s:
        stored = s.scalars(select(Institution).join(Zone).where(Zone.city == "苏州市").order_by(Institution.id)).all()
    assert len(rows) - 1 == len(stored) > 0 and {row[2] for row in rows[1:]} == {"苏州市"}
    first = next(row for row in rows[1:] if row[3] == stored[0].name and row[0] == suzhou_zone)
    assert first[4] == stored[0].credit_code and isinstance(first[4], str)  # a code stays text
    assert first[13].date() == stored[0].entered_on and first[7] == "、".join(stored[0].chain)


def test_change_events_say_on_time_late_and_overdue(as_role, engine, suzhou_zone):
    rows = sheet(as_role("province").get("/exports/changes.xlsx", params={"city": "苏州市"}).content, "变更事项")
    assert list(rows[0]) == exports.CHANGE_HEADER
    mine = [row for row in rows[1:] if row[0] == suzhou_zone]
    assert sorted(row[10] for row in mine) == ["已逾期", "按时报告", "逾期报告"]
    late = next(row for row in mine if row[10] == "逾期报告")
    overdue = next(row for row in mine if row[10] == "已逾期")
    assert late[11] == 3 and overdue[11] == 10 and next(row for row in mine if row[10] == "按时报告")[11] is None
    count = scalar(engine, select(func.count()).select_from(ChangeEvent).join(Zone).where(Zone.city == "苏州市"))
    assert len(rows) - 1 == count


def test_deadlines_hold_the_construction_end_and_the_open_change(as_role, suzhou_zone):
    rows = sheet(as_role("province").get("/exports/deadlines.xlsx", params={"city": "苏州市"}).content, "截止日期")
    mine = [row for row in rows[1:] if row[0] == suzhou_zone]
    assert [row[4].date() for row in mine] == sorted(row[4].date() for row in mine)
    construction = next(row for row in mine if "建设期届满" in row[3])
    assert construction[4].date() == dt.date(2027, 6, 30) and construction[6] == "未逾期"
    change = next(row for row in mine if row[3].startswith("报告变更事项"))
    assert change[5] == -10 and change[6] == "已逾期" and change[8] == "建设主体"
    assert sum(row[3].startswith("报告变更事项") for row in mine) == 1  # the two reported changes are done


# ---- the layouts ----------------------------------------------------------------------------------------------------

def test_the_geopackage_has_four_layers_in_cgcs2000(as_role, engine, suzhou_zone, tmp_path):
    r = as_role("province").get("/exports/layouts.gpkg", params={"zone": suzhou_zone})
    assert r.status_code == 200 and r.headers["x-export-rows"] == "1"
    path = tmp_path / "layouts.gpkg"
    path.write_bytes(r.content)
    assert {name for name, _ in pyogrio.list_layers(path)} == {"boundary", "core", "buildings", "institutions"}
    meta, _, geoms, fields = pyogrio.raw.read(path, layer="boundary")
    assert meta["crs"] == "EPSG:4490" and list(fields[0]) == [suzhou_zone] and fields[1][0] == GBK_NAME
    import shapely

    assert geodesic_area_m2(shapely.from_wkb(geoms[0])) == pytest.approx(fields[6][0], abs=0.01)
    with session_factory(engine)() as s:
        zone = s.scalars(select(Zone).where(Zone.code == suzhou_zone)).one()
        n_inst = s.scalar(select(func.count()).select_from(Institution).where(Institution.zone_id == zone.id,
                                                                              Institution.left_on.is_(None)))
        n_build = len(s.scalars(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id,
                                                          ZoneVersion.state == "approved")).one().buildings)
    assert pyogrio.read_info(path, layer="institutions")["features"] == n_inst
    assert pyogrio.read_info(path, layer="buildings")["features"] == n_build


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_the_shapefile_zip_names_its_encoding_and_reads_back(as_role, suzhou_zone, tmp_path, encoding):
    r = as_role("province").get("/exports/layouts-shp.zip", params={"zone": suzhou_zone, "encoding": encoding})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        for layer in exports.LAYER_FIELDS:
            assert {f"{layer}.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names
            assert zf.read(f"{layer}.cpg").decode().strip() == encoding
        assert "zone_code = 集聚区代码" in zf.read("字段说明.txt").decode("utf-8")
        zf.extractall(tmp_path)
        dbf = zf.read("boundary.dbf")
    assert GBK_NAME.encode("gbk" if encoding == "GBK" else "utf-8") in dbf  # the bytes are in the chosen code page
    _, _, _, fields = pyogrio.raw.read(tmp_path / "boundary.shp")
    assert fields[1][0] == GBK_NAME  # read back through the .cpg
    for layer, spec in exports.LAYER_FIELDS.items():
        assert all(len(name.encode()) <= 10 for name, _ in spec)
        assert [f for f in pyogrio.read_info(tmp_path / f"{layer}.shp")["fields"]] == [name for name, _ in spec]


def test_a_name_gbk_cannot_hold_is_refused_not_mangled(as_role, engine, suzhou_zone):
    with transaction(session_factory(engine)) as s:
        zone = s.scalars(select(Zone).where(Zone.code == suzhou_zone)).one()
        inst = s.scalars(select(Institution).where(Institution.zone_id == zone.id).order_by(Institution.id)).first()
        old, inst.name = inst.name, ODD_NAME
    try:
        r = as_role("province").get("/exports/layouts-shp.zip", params={"zone": suzhou_zone, "encoding": "GBK"})
        assert r.status_code == 422 and r.json()["code"] == "not_encodable" and "UTF-8" in r.json()["message"]
        assert r.json()["detail"]["character"] == "𠀀"
        ok = as_role("province").get("/exports/layouts-shp.zip", params={"zone": suzhou_zone, "encoding": "utf-8"})
        assert ok.status_code == 200
    finally:
        with transaction(session_factory(engine)) as s:
            s.get(Institution, inst.id).name = old


def test_bad_parameters_get_chinese_messages(as_role):
    province = as_role("province")
    r = province.get("/exports/layouts-shp.zip", params={"encoding": "latin1"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_encoding"
    r = province.get("/exports/zones.xlsx", params={"city": "上海市"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_city" and "设区市" in r.json()["message"]
    r = province.get("/exports/layouts.gpkg", params={"zone": f"NO-{uuid.uuid4().hex[:6]}"})
    assert r.status_code == 404 and r.json()["code"] == "zone_not_found"
    assert province.get("/exports/layouts.gpkg", params={"zone": "X" * 65}).status_code == 422


# ---- who may export what --------------------------------------------------------------------------------------------

def test_a_city_exports_its_own_city_only(as_role, suzhou_zone, demo_zone):
    city = as_role("city")  # 南京市
    rows = sheet(city.get("/exports/zones.xlsx", params={"city": "苏州市"}).content, "集聚区名录")
    assert {row[2] for row in rows[1:]} == {"南京市"} and demo_zone in {row[0] for row in rows[1:]}
    rows = sheet(city.get("/exports/institutions.xlsx").content, "机构名录")
    assert {row[2] for row in rows[1:]} == {"南京市"}
    assert city.get("/exports/layouts.gpkg", params={"zone": suzhou_zone}).status_code == 404  # not revealed
    page = city.get("/exports")
    assert page.status_code == 200 and suzhou_zone not in page.text and demo_zone in page.text
    assert 'id="export-scope"' not in page.text  # no city choice for a city bureau


@pytest.mark.parametrize("role", ["applicant", "expert", "public"])
@pytest.mark.parametrize("path", ["/exports", "/exports/zones.xlsx", "/exports/institutions.xlsx",
                                  "/exports/changes.xlsx", "/exports/deadlines.xlsx", "/exports/layouts.gpkg",
                                  "/exports/layouts-shp.zip"])
def test_others_may_not_export(as_role, role, path):
    r = as_role(role).get(path)
    assert r.status_code == (401 if role == "public" else 403)


def test_the_page_links_every_file_and_documents_the_fields(as_role, suzhou_zone):
    r = as_role("province").get("/exports", params={"city": "苏州市"})
    assert r.status_code == 200
    html = r.text
    for href in ("/exports/zones.xlsx?city=", "/exports/institutions.xlsx?city=", "/exports/layouts.gpkg?city=",
                 "/exports/layouts-shp.zip?city=%E8%8B%8F%E5%B7%9E%E5%B8%82&amp;encoding=GBK"):
        assert href in html, href
    assert f'value="{suzhou_zone}"' in html and "floors_use" in html and "EPSG:4490" in html
    assert 'id="nav-exports"' in html and 'aria-current="page"' in html
    assert 'id="export-evaluations" href="/evaluations"' in html  # the evaluation rounds' own exports


# ---- the command line -----------------------------------------------------------------------------------------------

def test_the_cli_writes_the_same_files(cli, settings, suzhou_zone, tmp_path: Path):
    env = {"ZONEGEO_DATABASE_URL": settings.database_url}
    out = tmp_path / "名录.xlsx"
    r = cli("export", "zones", "--out", out, "--city", "苏州市", env=env)
    assert r.returncode == 0, r.stderr
    rows = sheet(out.read_bytes(), "集聚区名录")
    assert suzhou_zone in {row[0] for row in rows[1:]} and {row[2] for row in rows[1:]} == {"苏州市"}
    shp = tmp_path / "layouts.zip"
    r = cli("export", "layouts-shp", "--out", shp, "--zone", suzhou_zone, "--encoding", "UTF-8", env=env)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(shp) as zf:
        assert zf.read("boundary.cpg").decode().strip() == "UTF-8"
    gpkg = tmp_path / "x.gpkg"
    assert cli("export", "layouts-gpkg", "--out", gpkg, "--city", "苏州市", env=env).returncode == 0
    assert "boundary" in {n for n, _ in pyogrio.list_layers(gpkg)}
    bad = cli("export", "zones", "--city", "上海市", "--out", tmp_path / "y.xlsx", env=env)
    assert bad.returncode == 2 and "设区市" in bad.stderr and not (tmp_path / "y.xlsx").exists()
    bad = cli("export", "nothing", env=env)
    assert bad.returncode == 2


def test_an_empty_scope_gives_empty_files_not_errors(as_role, engine, tmp_path):
    city = "镇江市"  # no test puts a zone there
    approved = scalar(engine, select(func.count()).select_from(ZoneVersion).join(Zone).where(
        Zone.city == city, ZoneVersion.state == "approved"))
    r = as_role("province").get("/exports/layouts.gpkg", params={"city": city})
    assert r.status_code == 200 and int(r.headers["x-export-rows"]) == approved
    path = tmp_path / "empty.gpkg"
    path.write_bytes(r.content)
    assert {name for name, _ in pyogrio.list_layers(path)} == set(exports.LAYER_FIELDS)
    if approved == 0:
        assert all(pyogrio.read_info(path, layer=layer)["features"] == 0 for layer in exports.LAYER_FIELDS)
        rows = sheet(as_role("province").get("/exports/zones.xlsx", params={"city": city}).content, "集聚区名录")
        assert rows == [tuple(exports.ZONE_HEADER)]
    shp = as_role("province").get("/exports/layouts-shp.zip", params={"city": city, "encoding": "UTF-8"})
    assert shp.status_code == 200 and zipfile.is_zipfile(io.BytesIO(shp.content))


@pytest.mark.parametrize(("encoding", "kept"), [("UTF-8", 84), ("GBK", 127)])
def test_a_text_past_the_dbase_limit_is_cut_and_said_so(as_role, engine, suzhou_zone, tmp_path, encoding, kept):
    long_address = "长" * 150  # 450 bytes in UTF-8, 300 in GBK: past the 254 bytes of a dBase field
    with transaction(session_factory(engine)) as s:
        zone = s.scalars(select(Zone).where(Zone.code == suzhou_zone)).one()
        inst = s.scalars(select(Institution).where(Institution.zone_id == zone.id, Institution.left_on.is_(None))
                         .order_by(Institution.id)).first()
        old, inst.address = inst.address, long_address
    try:
        r = as_role("province").get("/exports/layouts-shp.zip", params={"zone": suzhou_zone, "encoding": encoding})
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            notes = zf.read("字段说明.txt").decode("utf-8")
            zf.extractall(tmp_path)
        assert f"字段 address：保留前{kept}个字符（原150个）" in notes
        _, _, _, fields = pyogrio.raw.read(tmp_path / "institutions.shp")
        names = [f for f, _ in exports.LAYER_FIELDS["institutions"]]
        assert "长" * kept in set(fields[names.index("address")])  # cut on a character, read back cleanly
        gpkg = tmp_path / "whole.gpkg"
        gpkg.write_bytes(as_role("province").get("/exports/layouts.gpkg", params={"zone": suzhou_zone}).content)
        _, _, _, whole = pyogrio.raw.read(gpkg, layer="institutions")
        assert long_address in set(whole[names.index("address")])  # the GeoPackage keeps it whole
    finally:
        with transaction(session_factory(engine)) as s:
            s.get(Institution, inst.id).address = old
