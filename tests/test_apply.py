"""A new application in the browser's forms (/apply), its materials checklist with uploads, the JSON API's 四至,
and the templates the project gives — filled and uploaded back."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy import text

from tests.conftest import DEMO, PASSWORD, bearer
from zonegeo.api.app import create_app
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.domain.model import ChainLink
from zonegeo.services import templates_kit

SIDES = {"east": "江东中路", "south": "南至河西大街", "west": "滨江公园", "north": "梦都大街"}



@pytest.fixture
def applicant(web_as):
    return web_as("demo-applicant")


@pytest.fixture
def city(web_as):
    return web_as("nanjing-bureau")


def new_code() -> str:
    return f"AP-{uuid.uuid4().hex[:8]}"


def form(code: str, **over) -> dict[str, str]:
    return {"code": code, "name": "河西知识产权服务业集聚区", "city": "南京市", "builder": "南京市建邺区人民政府",
            "operator": "河西运营公司", **SIDES} | over


def zone_row(engine, code: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT id, status, four_sides, city FROM zone WHERE code = :c"), {"c": code}).first()


def value_of(html: str, field_id: str) -> str:
    return re.search(rf'id="{field_id}"[^>]*value="([^"]*)"', html, re.S).group(1)


# --- /apply ----------------------------------------------------------------------------------------------------

def test_the_form_offers_the_thirteen_cities_labels_and_the_templates(applicant):
    r = applicant.get("/apply")
    assert r.status_code == 200
    html = r.text
    assert html.count("<h1>") == 1
    assert len(re.findall(r'<option value="[^"]+市"', html)) == 13
    for field in ("code", "name", "city", "builder", "operator", "side-east", "side-south", "side-west", "side-north"):
        assert f'<label for="{field}"' in html, field
    for slug in templates_kit.TEMPLATES:
        assert f'href="/templates/{slug}"' in html


def test_a_new_application_is_stored_with_its_words_and_its_applicant_may_write(applicant, engine):
    code = new_code()
    r = applicant.post("/apply", data=form(code) | {"csrf": applicant.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/zones/{code}/materials?created=1"
    row = zone_row(engine, code)
    assert row.status == "draft"
    assert row.four_sides == {"east": "东至江东中路", "south": "南至河西大街", "west": "西至滨江公园", "north": "北至梦都大街"}
    page = applicant.get(r.headers["location"])
    assert page.status_code == 200 and "申报已创建" in page.text
    assert 'id="file-application_form"' in page.text  # a member: the upload forms are there
    assert "东至江东中路" in page.text
    with engine.connect() as conn:
        audit = conn.scalar(text("SELECT after FROM audit_log WHERE action = 'zone_created' AND object = :o"),
                            {"o": f"zone/{code}"})
    assert audit["four_sides"]["north"] == "北至梦都大街"
    # refreshing the page after the redirect posts nothing: a second post of the same form is refused, not doubled
    again = applicant.post("/apply", data=form(code) | {"csrf": applicant.csrf})
    assert again.status_code == 409 and "已存在" in again.text


@pytest.mark.parametrize(("over", "status", "code_", "invalid"), [
    ({"code": "河西-01"}, 422, "bad_zone_code", "code"),
    ({"code": "-AB"}, 422, "bad_zone_code", "code"),
    ({"code": ""}, 422, "missing_field", "code"),
    ({"builder": "  "}, 422, "missing_field", "builder"),
    ({"city": "上海市"}, 422, "unknown_city", "city"),
    ({"south": "", "north": " "}, 422, "bad_four_sides", "side-south"),
    ({"west": "x" * 201}, 422, "bad_four_sides", "side-west"),
    ({"name": "园" * 201}, 422, "field_too_long", "name"),  # the browser's maxlength is not a limit
    ({"operator": "x" * 201}, 422, "field_too_long", "operator"),
])
def test_a_refused_form_keeps_every_entry_and_says_why_in_chinese(applicant, engine, over, status, code_, invalid):
    code = over.get("code", new_code())
    data = form(code) | over
    r = applicant.post("/apply", data=data | {"csrf": applicant.csrf})
    assert r.status_code == status
    assert f'data-code="{code_}"' in r.text
    message = re.search(r'<p class="fail">([^<]+)</p>', r.text).group(1)
    assert re.search(r"[\u4e00-\u9fff]", message) and "Error" not in message
    assert re.search(rf'id="{invalid}"[^>]*aria-invalid="true"', r.text, re.S)
    for field, field_id in (("name", "name"), ("builder", "builder"), ("operator", "operator"), ("east", "side-east")):
        assert value_of(r.text, field_id) == data[field].replace('"', "&#34;")
    if data["city"] in ("南京市",):
        assert '<option value="南京市" selected>' in r.text
    if code:
        assert zone_row(engine, code) is None


def test_a_duplicate_code_is_refused_whatever_its_case(applicant, engine):
    code = new_code()
    assert applicant.post("/apply", data=form(code) | {"csrf": applicant.csrf}, follow_redirects=False).status_code == 303
    r = applicant.post("/apply", data=form(code.lower(), name="另一个") | {"csrf": applicant.csrf})
    assert r.status_code == 409 and f"集聚区编号“{code}”已存在" in r.text
    assert value_of(r.text, "name") == "另一个" and zone_row(engine, code.lower()) is None


def test_without_the_forms_token_nothing_is_stored(applicant, engine):
    code = new_code()
    r = applicant.post("/apply", data=form(code) | {"csrf": "forged"})
    assert r.status_code == 403 and zone_row(engine, code) is None


def test_a_city_bureau_applies_for_its_own_city_only(city, engine):
    page = city.get("/apply").text
    assert re.findall(r'<option value="([^"]+)"', page) == ["南京市"]
    code = new_code()
    r = city.post("/apply", data=form(code, city="苏州市") | {"csrf": city.csrf})
    assert r.status_code == 403 and "只能为本市" in r.text and zone_row(engine, code) is None
    ok = city.post("/apply", data=form(code) | {"csrf": city.csrf}, follow_redirects=False)
    assert ok.status_code == 303 and zone_row(engine, code).city == "南京市"


def test_the_public_and_experts_cannot_apply(anon, client, tokens):
    page = anon.get("/apply", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code in (401, 303) and page.headers.get("location", "/login").startswith("/login")
    assert client.get("/apply", headers=bearer(tokens, "expert")).status_code == 403


# --- POST /api/zones: the 四至 object --------------------------------------------------------------------------

def test_the_api_stores_the_words_optional_but_whole(client, tokens, engine):
    headers = bearer(tokens, "applicant")
    body = {"code": new_code(), "name": "甲", "city": "南京市", "builder": "乙"}
    r = client.post("/api/zones", json=body | {"four_sides": SIDES}, headers=headers)
    assert r.status_code == 201, r.text
    assert zone_row(engine, body["code"]).four_sides["east"] == "东至江东中路"
    other = body | {"code": new_code()}
    r = client.post("/api/zones", json=other, headers=headers)
    assert r.status_code == 201 and zone_row(engine, other["code"]).four_sides == {}
    partial = body | {"code": new_code(), "four_sides": {"east": "甲路"}}
    r = client.post("/api/zones", json=partial, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "bad_four_sides"
    assert r.json()["detail"]["empty"] == ["south", "west", "north"] and zone_row(engine, partial["code"]) is None
    # the applicant who created it may write to it: a material is accepted
    up = client.post(f"/api/zones/{body['code']}/attachments", headers=headers, data={"kind": "work_plan"},
                     files={"file": ("方案.pdf", b"%PDF-1.4 plan")})
    assert up.status_code == 201, up.text


# --- materials ----------------------------------------------------------------------------------------------------

@pytest.fixture
def applied(applicant) -> str:
    code = new_code()
    assert applicant.post("/apply", data=form(code) | {"csrf": applicant.csrf}, follow_redirects=False).status_code == 303
    return code


def material(c: TestClient, code: str, kind: str, name: str, content: bytes, **kw):
    return c.post(f"/zones/{code}/materials", data={"kind": kind, "csrf": c.csrf},
                  files={"file": (name, content, "application/pdf")}, **kw)


def section(html: str, kind: str) -> str:
    return re.search(rf'<section class="card material" id="material-{kind}".*?</section>', html, re.S).group(0)


def test_the_checklist_marks_the_required_materials_until_uploaded(applicant, applied):
    html = applicant.get(f"/zones/{applied}/materials").text
    assert html.count("<h1>") == 1
    for kind in ("application_form", "work_plan", "commitment"):
        part = section(html, kind)
        assert "必填" in part and "未上传" in part and 'data-missing="true"' in part
    letter = section(html, "recommendation_letter")
    assert "必填" not in letter and "设区市知识产权局上传" in letter
    assert 'id="file-recommendation_letter"' not in letter  # the applicant does not upload the city's letter
    assert "尚缺必填材料：江苏省知识产权服务业集聚区申报表、集聚区创建工作方案、申报材料真实性承诺书" in html

    content = "申报表".encode() * 100
    r = material(applicant, applied, "application_form", "C:\\fakepath\\申报表.pdf", content, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/zones/{applied}/materials?added=")
    html = applicant.get(r.headers["location"]).text
    assert "已上传：江苏省知识产权服务业集聚区申报表 — 申报表.pdf" in html
    part = section(html, "application_form")
    assert 'data-missing="false"' in part and "未上传" not in part
    assert hashlib.sha256(content).hexdigest() in part and "900 B" in part and "demo-applicant" in part
    assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", part)
    assert "申报表.pdf" in part and "fakepath" not in part
    assert "尚缺必填材料：集聚区创建工作方案、申报材料真实性承诺书" in html


def test_refused_materials_say_why_and_store_nothing(applicant, applied, engine, settings):
    def count() -> int:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM attachment a JOIN zone z ON z.id = a.zone_id "
                                    "WHERE z.code = :c"), {"c": applied})

    r = material(applicant, applied, "recommendation_letter", "推荐函.pdf", b"x")
    assert r.status_code == 403 and "推荐函由设区市知识产权局上传" in r.text
    r = material(applicant, applied, "commitment", "承诺书.pdf", b"")
    assert r.status_code == 422 and "文件为空：承诺书.pdf" in r.text
    assert re.search(r'id="file-commitment"[^>]*aria-invalid="true"', r.text)
    r = applicant.post(f"/zones/{applied}/materials", data={"kind": "commitment", "csrf": applicant.csrf})
    assert r.status_code == 422 and "请选择要上传的文件" in r.text
    r = material(applicant, applied, "budget", "预算.pdf", b"x")
    assert r.status_code == 422 and "材料类型“budget”不正确" in r.text
    # a change report's files are filed with the report, not as application materials
    r = material(applicant, applied, "change_report", "变更说明.pdf", b"x")
    assert r.status_code == 422 and "材料类型“change_report”不正确" in r.text
    r = applicant.post(f"/api/zones/{applied}/attachments", data={"kind": "change_report"},
                       files={"file": ("变更说明.pdf", b"x")}, headers={"X-CSRF-Token": applicant.csrf})
    assert r.status_code == 422 and r.json()["code"] == "unknown_material"
    r = applicant.post(f"/zones/{applied}/materials", data={"kind": "commitment", "csrf": "forged"},
                       files={"file": ("承诺书.pdf", b"x")})
    assert r.status_code == 403
    assert count() == 0


def test_a_material_over_the_size_limit_is_refused_in_chinese(settings, tokens, engine):
    small = settings.model_copy(update={"max_attachment_mb": 1})
    c = TestClient(create_app(small), client=("192.0.2.61", 50000))
    with c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"username": "demo-applicant", "password": PASSWORD, "csrf": token})
        c.csrf = token = re.search(r'name="csrf" value="([^"]+)"', c.get("/worklist").text).group(1)
        code = new_code()
        assert c.post("/apply", data=form(code) | {"csrf": token}, follow_redirects=False).status_code == 303
        assert "每个文件不超过 1 MB" in c.get(f"/zones/{code}/materials").text
        r = material(c, code, "work_plan", "方案.pdf", b"x" * (1024 * 1024 + 1))
        assert r.status_code == 422 and "方案.pdf：超过上限1 MB" in r.text
        ok = material(c, code, "work_plan", "方案.pdf", b"x" * (1024 * 1024), follow_redirects=False)
        assert ok.status_code == 303


def test_the_city_uploads_the_recommendation_letter(city, applicant, applied):
    r = material(city, applied, "recommendation_letter", "推荐函.pdf", b"%PDF letter", follow_redirects=False)
    assert r.status_code == 303
    assert "推荐函.pdf" in section(applicant.get(f"/zones/{applied}/materials").text, "recommendation_letter")


def test_materials_of_a_zone_one_may_not_see_are_not_found(settings, tokens, client):
    r = client.get("/zones/NO-SUCH-ZONE/materials")
    assert r.status_code == 404
    expert = client.get("/zones/NJ-DEMO-01/materials", headers=bearer(tokens, "expert"))
    assert expert.status_code == 200 and 'type="file"' not in expert.text  # read only


# --- templates ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("slug", "name", "media"), [
    ("boundary-points.xlsx", "界址点坐标表.xlsx", templates_kit.XLSX_TYPE),
    ("institutions.xlsx", "机构名录.xlsx", templates_kit.XLSX_TYPE),
    ("demo-zone.zip", "示例集聚区.zip", "application/zip"),
])
def test_templates_download_with_their_chinese_names(anon, slug, name, media):
    r = anon.get(f"/templates/{slug}")
    assert r.status_code == 200 and r.headers["content-type"] == media
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f'filename="{slug}"' in disposition
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)) == name
    assert zipfile.is_zipfile(io.BytesIO(r.content))
    again = anon.get(f"/templates/{slug}")  # answered again (perhaps from the public cache): the same file and name
    assert again.content == r.content and again.headers["content-disposition"] == disposition


def test_the_demo_zip_holds_the_demo_folder_with_utf8_names(anon):
    with zipfile.ZipFile(io.BytesIO(anon.get("/templates/demo-zone.zip").content)) as zf:
        names = zf.namelist()
        assert all(i.flag_bits & 0x800 for i in zf.infolist())
        assert zf.read("示例集聚区/zone.toml") == (DEMO / "zone.toml").read_bytes()
    assert sorted(n.removeprefix("示例集聚区/") for n in names) == sorted(p.name for p in DEMO.iterdir() if p.is_file())


def fill_points(template: bytes, points: list[tuple[str, float, float]]) -> bytes:
    """The template as a person fills it: rows appended under the header of its 四至 sheet."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{p}</t></is></c><c r="B{r}"><v>{x:.3f}</v></c>'
                   f'<c r="C{r}"><v>{y:.3f}</v></c></row>' for r, (p, x, y) in enumerate(points, start=4))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", rows.encode() + b"</sheetData>")
            dst.writestr(info, data)
    return out.getvalue()


def demo_boundary():
    import json

    return shape(json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"])


def test_the_point_template_filled_with_the_demo_boundary_uploads(client, tokens, anon):
    """界址点坐标表.xlsx as downloaded, filled with the demo boundary in CGCS2000 3° zone 40 (central meridian 120°,
    as the template's 坐标系 line says), uploaded as the 四至 of a new application: read, stored, same area."""
    geom = demo_boundary()
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    points = [(f"J{k}", *reversed(to_gk.transform(lon, lat))) for k, (lon, lat) in enumerate(geom.exterior.coords[:-1], 1)]
    filled = fill_points(anon.get("/templates/boundary-points.xlsx").content, points)
    headers = bearer(tokens, "applicant")
    code = new_code()
    assert client.post("/api/zones", json={"code": code, "name": "甲", "city": "南京市", "builder": "乙",
                                           "four_sides": SIDES}, headers=headers).status_code == 201
    r = client.post(f"/api/zones/{code}/uploads", headers=headers, data={"roles": ["boundary"]},
                    files=[("files", ("界址点坐标表.xlsx", filled, templates_kit.XLSX_TYPE))])
    assert r.status_code == 201, r.text
    report = r.json()["report"]
    assert report["areas"]["land_m2"] == pytest.approx(geodesic_area_m2(geom), rel=1e-5)  # mm coordinates
    (read,) = [i for i in report["inputs"] if i["role"] == "boundary"]
    assert str(read["crs"]).startswith("EPSG:4549") and read["points"] == len(points)


def test_the_empty_point_template_says_it_has_no_rows(tmp_path):
    from zonegeo.errors import InputError
    from zonegeo.ingest.role_files import ReadOptions, read_role

    path = tmp_path / "界址点坐标表.xlsx"
    path.write_bytes(templates_kit.boundary_points_xlsx())
    with pytest.raises(InputError) as e:
        read_role(path, "boundary", options=ReadOptions())
    assert "没有数据行" in str(e.value.detail) or "没有数据行" in e.value.message


def test_the_institution_template_reads_with_the_demo_layout(tmp_path):
    from zonegeo.ingest.plan import read_zone_dir
    from zonegeo.ingest.role_files import ReadOptions, read_role

    plan = read_zone_dir(DEMO).read.plan
    path = tmp_path / "机构名录.xlsx"
    path.write_bytes(templates_kit.institutions_xlsx())
    read = read_role(path, "institutions", options=ReadOptions(buildings=plan.buildings, boundary=plan.boundary))
    names = [i.name for i in read.value]
    assert names == [r[0] for r in templates_kit.INSTITUTION_EXAMPLES]
    by_name = {i.name: i for i in read.value}
    second = templates_kit.INSTITUTION_EXAMPLES[1]
    assert (by_name[second[0]].lon, by_name[second[0]].lat) == pytest.approx((second[9], second[10]))
    assert by_name[second[0]].credit_code == second[1]  # kept as text, not a number
    assert set(by_name[second[0]].chain) == {ChainLink.CREATION, ChainLink.UTILIZATION}
    assert by_name[templates_kit.INSTITUTION_EXAMPLES[2][0]].kind.is_platform
    for inst in read.value:
        assert plan.boundary.contains(shape({"type": "Point", "coordinates": [inst.lon, inst.lat]}))


def test_templates_are_made_once(monkeypatch):
    assert templates_kit.boundary_points_xlsx() is templates_kit.boundary_points_xlsx()
    assert Path(templates_kit.DEMO_DIR).is_dir()
