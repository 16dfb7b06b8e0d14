"""The zone page as an applicant's desk: a page from the first moment of an application, the versions list with
submit and withdraw (Post/Redirect/Get with CSRF), the step bar, and change reports with attachments."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import select

from tests.conftest import DEMO, app_client, bearer, import_demo_copy, web
from zonegeo.db import repo
from zonegeo.db.geometry import from_db
from zonegeo.db.models import Attachment, AuditEntry, ChangeEvent, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction


@pytest.fixture
def province(web_as):
    return web_as("province-bureau")


@pytest.fixture
def applicant(web_as):
    return web_as("demo-applicant")


def states(engine, code: str) -> dict[int, str]:
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        return {v.number: v.state for v in s.scalars(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id))}


def upload_core(client, code: str, grow: float = 1.0, headers=None) -> int:
    """A draft whose core is the demo core scaled by ``grow`` (1.0: the same layout)."""
    data = json.loads((DEMO / "core.geojson").read_text(encoding="utf-8"))
    for f in data["features"]:
        geom = shape(f["geometry"])
        f["geometry"] = mapping(shapely.affinity.scale(geom, grow, grow, origin="centroid"))
    r = client.post(f"/api/zones/{code}/uploads", headers=headers or {},
                    files=[("files", (f"core-{grow}.geojson", json.dumps(data).encode()))], data={"roles": ["core"]})
    assert r.status_code in (200, 201), r.text
    return r.json()["version"]


def flash(page: str) -> str:
    m = re.search(r'id="flash"[^>]*>([^<]*)<', page)
    return m.group(1) if m else ""


# ---- a zone from the first moment ---------------------------------------------------------------------------

def test_a_new_application_has_a_page_before_any_layout(applicant, tokens):
    code = f"NEW-{uuid.uuid4().hex[:6]}"
    body = {"code": code, "name": "新申报集聚区", "city": "苏州市", "builder": "苏州某科创公司", "operator": ""}
    r = applicant.post("/api/zones", json=body, headers={"X-CSRF-Token": applicant.csrf})
    assert r.status_code == 201, r.text
    page = applicant.get(f"/zones/{code}")
    assert page.status_code == 200, page.text
    html = page.text
    for text in ("新申报集聚区", code, "苏州市", "苏州某科创公司", "申报准备中", "尚未上传空间布局", 'id="step-bar"'):
        assert text in html
    assert f'href="/zones/{code}/upload"' in html and 'id="upload-first"' in html
    assert f'href="/zones/{code}/materials"' in html  # the materials checklist of the application
    assert f'href="/zones/{code}/audit"' in html  # the zone's audit trail
    assert 'data-step="apply" data-status="current"' in html and 'data-step="recommend" data-status="ahead"' in html
    assert "等待建设主体准备申报材料并提交申报" in html
    assert 'id="no-report"' in html and "<iframe" not in html  # no map of a layout that does not exist


def test_the_four_sides_words_stand_beside_the_drawing(applicant, client, engine, tmp_path, tokens):
    """The 申报表's 四至 words are on the page from the application on; once a layout exists, next to the
    drawn boundary's extreme point in each direction."""
    code = f"NEW-{uuid.uuid4().hex[:6]}"
    words = {"east": "东至江东中路", "south": "南至梦都大街", "west": "西至扬子江大道", "north": "北至集庆门大街"}
    body = {"code": code, "name": "新申报集聚区", "city": "南京市", "builder": "某科创公司", "four_sides": words}
    assert applicant.post("/api/zones", json=body, headers={"X-CSRF-Token": applicant.csrf}).status_code == 201
    html = applicant.get(f"/zones/{code}").text
    assert 'id="four-sides-table"' in html and all(w in html for w in words.values())
    assert "尚无四至范围图层" in html  # words, no drawing yet
    assert applicant.get(f"/api/zones/{code}").json()["four_sides"] == words
    demo = import_demo_copy(engine, tmp_path, "FS")
    page = client.get(f"/zones/{demo}").text
    east = re.search(r'data-side="east">.*?class="lonlat">([0-9.]+), ([0-9.]+)<', page, re.S)
    west = re.search(r'data-side="west">.*?class="lonlat">([0-9.]+), ([0-9.]+)<', page, re.S)
    assert east and west and float(east.group(1)) > float(west.group(1))
    with transaction(session_factory(engine)) as s:
        boundary = from_db(repo.approved_version(s, repo.get_zone(s, demo)).boundary)
    assert float(east.group(1)) == pytest.approx(boundary.bounds[2], abs=1e-6)
    assert float(west.group(1)) == pytest.approx(boundary.bounds[0], abs=1e-6)


def test_an_expert_sees_drafts_without_actions(settings, engine, client, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "DESKX")
    upload_core(client, code, 1.1)
    from zonegeo.services import access
    with transaction(session_factory(engine)) as s:
        access.add_member(session=s, code=code, username="expert-wang", relation_="expert")
    c = web(settings, "expert-wang")
    try:
        html = c.get(f"/zones/{code}").text
    finally:
        c.__exit__(None, None, None)
    assert 'data-version="2" data-state="draft"' in html  # the expert sees the draft ...
    assert "/versions/2/submit" not in html and "/versions/2/withdraw" not in html  # ... and cannot act on it
    assert "upload-link" not in html


# ---- versions ------------------------------------------------------------------------------------------------

def test_the_versions_list_shows_every_version_with_areas_and_links(province, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKV")
    draft = upload_core(client, code, 1.2)
    html = province.get(f"/zones/{code}").text
    assert f'id="version-{draft}" data-version="{draft}" data-state="draft"' in html
    assert 'data-version="1" data-state="approved"' in html
    assert html.index(f'id="version-{draft}"') < html.index('id="version-1"')  # newest first
    assert f'/zones/{code}/versions/{draft}/map' in html and f'/zones/{code}/versions/1/map' in html
    assert f'/zones/{code}/versions/1/diff/{draft}/map' in html  # the draft compared with the approved layout
    assert "/versions/1/diff/1/map" not in html
    block = html[html.index(f'id="version-{draft}"'):html.index('id="version-1"')]
    for text in ("用地面积", "核心区用地", "建筑面积", "栋", "上传：province-bureau", "草稿", "提交审核", "撤回草稿"):
        assert text in block
    approved = html[html.index('id="version-1"'):]
    assert "提交审核" not in approved.split("</li>")[0]
    # the core grew by 1.2 in each direction: the draft's core land is about 1.44 times the approved one's
    cores = [float(m.replace(",", "")) for m in re.findall(r"核心区用地 ([\d,.]+) 平方米", html)[:2]]
    assert cores[0] == pytest.approx(cores[1] * 1.44, rel=0.01)


def test_the_public_sees_no_drafts_and_no_actions(anon, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKP", published=True)
    draft = upload_core(client, code, 1.2)
    html = anon.get(f"/zones/{code}").text
    assert 'data-version="1" data-state="approved"' in html
    assert f'data-version="{draft}"' not in html and "草稿" not in html
    assert "提交审核" not in html and "csrf" not in html and "/versions/1/map" not in html
    assert "上传：系统导入" in html and "上传：cli" not in html  # organisations, never accounts
    assert 'id="changes"' not in html


def test_submitting_a_draft_says_what_happens_next(province, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKS")
    draft = upload_core(client, code, 1.2)
    r = province.post(f"/zones/{code}/versions/{draft}/submit", data={"csrf": province.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/zones/{code}#version-{draft}"
    assert states(engine, code)[draft] == "submitted"
    page = province.get(f"/zones/{code}").text
    assert "已提交，等待省知识产权局审核批准；批准前可在此查看状态" in flash(page)
    assert f'data-version="{draft}" data-state="submitted"' in page
    assert flash(province.get(f"/zones/{code}").text) == ""  # shown once
    again = province.post(f"/zones/{code}/versions/{draft}/submit", data={"csrf": province.csrf})
    assert again.status_code == 200  # redirected back to the page, which names the refusal
    assert f"版本{draft}当前状态为“已提交”，不能提交" in flash(again.text)
    assert 'data-code="illegal_transition"' in again.text


def test_withdrawing_needs_the_confirmation_and_keeps_the_draft(province, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKW")
    draft = upload_core(client, code, 1.2)
    r = province.post(f"/zones/{code}/versions/{draft}/withdraw", data={"csrf": province.csrf})
    assert "须先确认" in flash(r.text) and states(engine, code)[draft] == "draft"
    r = province.post(f"/zones/{code}/versions/{draft}/withdraw", data={"csrf": province.csrf, "confirm": "yes"})
    assert "已撤回" in flash(r.text)
    assert states(engine, code) == {1: "approved", draft: "withdrawn"}
    assert f'data-version="{draft}" data-state="withdrawn"' in r.text and "已撤回" in r.text
    block = r.text[r.text.index(f'id="version-{draft}"'):].split("</li>")[0]
    assert "提交审核" not in block and "撤回草稿" not in block
    with transaction(session_factory(engine)) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "version_withdraw",
                                                  AuditEntry.object == f"zone/{code}/version/{draft}"))
        assert entry is not None and entry.before["state"] == "draft" and entry.after["state"] == "withdrawn"
        zone = repo.get_zone(s, code)
        assert repo.latest_version(s, zone).number == 1  # not the withdrawn draft
    # a withdrawn draft is never submitted, nor approved
    r = province.post(f"/zones/{code}/versions/{draft}/submit", data={"csrf": province.csrf})
    assert "“已撤回”，不能提交" in flash(r.text) and states(engine, code)[draft] == "withdrawn"
    # the next upload carries over from the approved layout, not from the withdrawn draft
    upload = client.post(f"/api/zones/{code}/uploads", data={"roles": ["buildings"]},
                         files=[("files", ("buildings.geojson", (DEMO / "buildings.geojson").read_bytes()))])
    assert upload.status_code in (200, 201), upload.text
    nxt = upload.json()["version"]
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        core = {n: shapely.area(repo.to_domain_plan(repo.get_version(s, zone, n), []).core) for n in (1, draft, nxt)}
    assert core[nxt] == pytest.approx(core[1]) and core[nxt] != pytest.approx(core[draft])


def test_the_withdraw_api(client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKA")
    draft = upload_core(client, code, 1.2)
    r = client.post(f"/api/zones/{code}/versions/{draft}/withdraw", json={"by": "张三"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn" and r.json()["decided_by_name"] == "张三"
    again = client.post(f"/api/zones/{code}/versions/{draft}/withdraw", json={})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    assert "已撤回" in again.json()["message"]
    approved = client.post(f"/api/zones/{code}/versions/1/withdraw", json={})
    assert approved.status_code == 409 and "已批准" in approved.json()["message"]
    listed = client.get(f"/api/zones/{code}/versions").json()["data"]
    assert {v["number"]: v["state_label"] for v in listed}[draft] == "已撤回"


def test_forms_need_the_csrf_token_and_a_writer(province, settings, engine, client, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "DESKC")
    draft = upload_core(client, code, 1.2)
    r = province.post(f"/zones/{code}/versions/{draft}/submit", data={"csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and states(engine, code)[draft] == "draft"
    with app_client(settings) as anon:
        r = anon.post(f"/zones/{code}/versions/{draft}/submit", data={"csrf": ""}, follow_redirects=False)
        assert r.status_code in (401, 403) and states(engine, code)[draft] == "draft"
    other = province.post(f"/zones/{code}/versions/99/submit", data={"csrf": province.csrf})
    assert "没有版本99" in flash(other.text)
    from zonegeo.services import access
    with transaction(session_factory(engine)) as s:
        access.add_member(session=s, code=code, username="expert-wang", relation_="expert")
        s.execute(Zone.__table__.update().where(Zone.code == code).values(city="苏州市"))
    for username, status in (("expert-wang", 403), ("nanjing-bureau", 404)):  # a reader; another city's bureau
        c = web(settings, username)
        try:
            r = c.post(f"/zones/{code}/versions/{draft}/withdraw", data={"csrf": c.csrf, "confirm": "yes"},
                       follow_redirects=False)
        finally:
            c.__exit__(None, None, None)
        assert r.status_code == status, (username, r.status_code)
    assert states(engine, code)[draft] == "draft"


# ---- change reports ------------------------------------------------------------------------------------------

def open_change(client, code: str, occurred: dt.date) -> int:
    r = client.post(f"/api/zones/{code}/changes", json={"kind": "operator", "occurred_on": occurred.isoformat(),
                                                        "description": "运营管理机构更换为某某公司"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_an_open_change_shows_its_deadline_and_takes_a_report_with_attachments(province, client, engine, tmp_path,
                                                                              settings):
    code = import_demo_copy(engine, tmp_path, "DESKR")
    today = dt.date.today()
    change = open_change(client, code, today - dt.timedelta(days=2))
    html = province.get(f"/zones/{code}").text
    block = html[html.index(f'id="change-{change}"'):].split("</li>")[0]
    assert 'data-status="pending"' in block and "个工作日" in block and "运营管理机构变更" in block
    assert f'action="/zones/{code}/changes/{change}/report"' in block and 'name="files"' in block
    # no attachment: refused, nothing stored
    r = province.post(f"/zones/{code}/changes/{change}/report", data={"csrf": province.csrf, "note": "已更换"})
    assert "请至少附上一个变更报告材料" in flash(r.text)
    # no description: refused
    r = province.post(f"/zones/{code}/changes/{change}/report", data={"csrf": province.csrf, "note": " "},
                      files=[("files", ("报告.pdf", b"%PDF-1.4 report"))])
    assert "请填写变更情况说明" in flash(r.text)
    # an empty file among good ones: refused as a whole, nothing half-stored
    r = province.post(f"/zones/{code}/changes/{change}/report", data={"csrf": province.csrf, "note": "已更换"},
                      files=[("files", ("报告.pdf", b"%PDF-1.4 report")), ("files", ("空.pdf", b""))])
    assert "文件为空：空.pdf" in flash(r.text)
    with transaction(session_factory(engine)) as s:
        zone_id = repo.get_zone(s, code).id
        assert s.get(ChangeEvent, change).reported_on is None
        assert s.scalars(select(Attachment).where(Attachment.zone_id == zone_id)).all() == []
    r = province.post(f"/zones/{code}/changes/{change}/report",
                      data={"csrf": province.csrf, "note": "运营管理机构已更换，附董事会决议", "reported_by": "某某科创公司"},
                      files=[("files", ("变更情况报告.pdf", b"%PDF-1.4 report")), ("files", ("决议.jpg", b"\xff\xd8jpeg"))])
    assert "变更报告已登记（附件2个）" in flash(r.text)
    block = r.text[r.text.index(f'id="change-{change}"'):].split("</li>")[0]
    assert 'data-status="reported"' in block and "变更情况报告.pdf" in block and "决议.jpg" in block
    assert "运营管理机构已更换，附董事会决议" in block and 'name="files"' not in block
    with transaction(session_factory(engine)) as s:
        event = s.get(ChangeEvent, change)
        assert event.reported_on == today and event.reported_by == "某某科创公司"
        kinds = s.scalars(select(Attachment.kind).where(Attachment.zone_id == zone_id)).all()
        assert kinds == ["change_report", "change_report"]
    listed = client.get(f"/api/zones/{code}/attachments").json()["data"]
    assert {a["kind_label"] for a in listed} == {"变更报告材料"}
    api = client.get("/api/changes", params={"status": "reported"}).json()["data"]
    mine = next(c for c in api if c["id"] == change)
    assert [a["filename"] for a in mine["attachments"]] == ["变更情况报告.pdf", "决议.jpg"]
    assert "report_attachments" not in mine["metrics"]
    first = mine["attachments"][0]
    got = province.get(f"/zones/{code}/attachments/{first['id']}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 report"
    assert got.headers["content-disposition"].startswith("attachment;") and "nosniff" in got.headers[
        "x-content-type-options"]
    assert f'/zones/{code}/attachments/{first["id"]}' in r.text
    other = import_demo_copy(engine, tmp_path, "DESKR2")
    assert province.get(f"/zones/{other}/attachments/{first['id']}").status_code == 404  # not that zone's
    with app_client(settings) as public:
        assert public.get(f"/zones/{code}/attachments/{first['id']}").status_code == 401
    page = province.get("/changes").text
    row = page[page.index(f'data-change="{change}"'):].split("</tr>")[0]
    assert "变更情况报告.pdf" in row and "决议.jpg" in row and "已按时报告" in row
    assert f'href="/zones/{code}/attachments/{first["id"]}"' in row
    # a second report of the same change is refused
    r = province.post(f"/zones/{code}/changes/{change}/report", data={"csrf": province.csrf, "note": "再报"},
                      files=[("files", ("again.pdf", b"x"))])
    assert "该变更事项已于" in flash(r.text)


def test_an_overdue_change_is_red_with_days_past(province, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKO")
    change = open_change(client, code, dt.date.today() - dt.timedelta(days=60))
    html = province.get(f"/zones/{code}").text
    block = html[html.index(f'id="change-{change}"'):].split("</li>")[0]
    assert 'data-status="overdue"' in block and re.search(r'class="overdue">已逾期\d+天', block)


def test_a_material_approval_opens_a_change_on_the_zone_page(province, client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "DESKM")
    draft = upload_core(client, code, 1.5)
    province.post(f"/zones/{code}/versions/{draft}/submit", data={"csrf": province.csrf})
    r = client.post(f"/api/zones/{code}/versions/{draft}/approve", json={})
    assert r.status_code == 200 and r.json()["change_event"] is not None
    html = province.get(f"/zones/{code}").text
    assert f"（版本1 → 版本{draft}）" in html and "空间布局和物理载体变更" in html
    assert 'data-version="1" data-state="superseded"' in html
    assert f'/zones/{code}/versions/{draft}/diff/1/map' in html  # the old layout compared with the one in force


# ---- the step bar on the page ----------------------------------------------------------------------------------

def test_a_returned_application_shows_the_comment(settings, engine, tokens):
    code = f"RET-{uuid.uuid4().hex[:6]}"
    with app_client(settings) as c:
        app_h, city_h = bearer(tokens, "applicant"), bearer(tokens, "city")
        prov_h = bearer(tokens, "province")
        body = {"code": code, "name": "退回测试区", "city": "南京市", "builder": "甲", "operator": "乙"}
        assert c.post("/api/zones", json=body, headers=prov_h).status_code == 201
        from zonegeo.services import access
        with transaction(session_factory(engine)) as s:
            access.add_member(session=s, code=code, username="demo-applicant", relation_="applicant")
        for kind in ("application_form", "work_plan", "commitment"):
            r = c.post(f"/api/zones/{code}/attachments", headers=app_h, data={"kind": kind},
                       files={"file": (f"{kind}.pdf", b"%PDF-1.4")})
            assert r.status_code == 201, r.text
        assert c.post(f"/api/zones/{code}/lifecycle/submit", headers=app_h, json={}).status_code == 200
        r = c.post(f"/api/zones/{code}/lifecycle/return", headers=city_h,
                   json={"data": {"reason": "工作方案缺少年度目标"}})
        assert r.status_code == 200, r.text
    web_c = web(settings, "demo-applicant")
    try:
        html = web_c.get(f"/zones/{code}").text
    finally:
        web_c.__exit__(None, None, None)
    assert 'id="open-return"' in html and "工作方案缺少年度目标" in html and "退回意见" in html
    assert "设区市知识产权局" in html
    with transaction(session_factory(engine)) as s:
        assert s.scalar(select(Zone.status).where(Zone.code == code)) == "draft"
