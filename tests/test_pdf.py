"""Printable PDFs over HTTP on real PostGIS, read back with pypdf: the Chinese text (zone, page numbers, every
condition, the 需人工审核 items with their recorded results), the embedded font, the map's drawing commands against
the stored boundary, who may print what, and the missing font's Chinese error."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, RULES_FILE, import_demo_copy
from zonegeo.api.app import create_app
from zonegeo.config import Settings
from zonegeo.db import repo
from zonegeo.db.geometry import from_db
from zonegeo.db.models import ChangeEvent, LifecycleEvent, ReviewRecord, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.measure import metric_crs_for, to_metric
from zonegeo.ingest.rules_file import load_rules
from zonegeo.pdf import reports
from zonegeo.services import access, auth, eligibility
from zonegeo.services.changes import receipt_number

RULES = load_rules(RULES_FILE)
FAILED_NOTE = "产业基础薄弱，需补充产业数据（测试）"


def _user(session, role: str, city: str | None = None) -> str:
    name = f"pdf-{role}-{uuid.uuid4().hex[:6]}"
    auth.add_user(session=session, username=name, password=PASSWORD, role=role, city=city)
    return auth.create_token(session=session, username=name)


@pytest.fixture(scope="module")
def world(engine, tokens, tmp_path_factory):
    """One published zone with review records, acceptance and evaluation events and two filed change reports (one
    acknowledged); an unpublished zone; readers who may and may not see them."""
    code = import_demo_copy(engine, tmp_path_factory.mktemp("pdf"), "PDF", published=True)
    hidden = import_demo_copy(engine, tmp_path_factory.mktemp("pdfh"), "PDFH")
    with transaction(session_factory(engine)) as s:
        access.add_member(session=s, code=code, username="demo-applicant", relation_="applicant")
        access.add_member(session=s, code=code, username="expert-wang", relation_="expert")
        zone = s.scalars(select(Zone).where(Zone.code == code)).one()
        s.add_all([
            ReviewRecord(zone_id=zone.id, item="management", result="meets", note="", reviewer="expert-wang",
                         role="expert", reviewed_on=dt.date(2026, 3, 2)),
            ReviewRecord(zone_id=zone.id, item="industry_demand", result="fails", note=FAILED_NOTE,
                         reviewer="province-bureau", role="province", reviewed_on=dt.date(2026, 3, 3)),
            LifecycleEvent(zone_id=zone.id, action="accept", from_state="construction", to_state="rectification",
                           on_date=dt.date(2027, 7, 5), actor="province-bureau", role="province",
                           data={"result": "fail", "rectification_months": 6}),
            LifecycleEvent(zone_id=zone.id, action="accept", from_state="rectification", to_state="operating",
                           on_date=dt.date(2027, 12, 20), actor="province-bureau", role="province",
                           data={"result": "pass", "by_name": "验收组（测试）"}),
            LifecycleEvent(zone_id=zone.id, action="evaluate", from_state="operating", to_state="operating",
                           on_date=dt.date(2028, 6, 1), actor="province-bureau", role="province",
                           data={"grade": "excellent"}),
            LifecycleEvent(zone_id=zone.id, action="evaluate", from_state="operating", to_state="rectifying",
                           on_date=dt.date(2029, 6, 3), actor="province-bureau", role="province",
                           data={"grade": "fail", "rectification_months": 6, "evaluation_year": 2029,
                                 "total": "58.50", "computed_grade": "fail"}),  # as services/evaluations.py stores
        ])
        changes = []
        for acknowledged in (True, False):
            row = ChangeEvent(zone_id=zone.id, kind="operator", description="运营管理机构更换（测试）",
                              occurred_on=dt.date(2026, 5, 4), report_due=dt.date(2026, 5, 26),
                              reported_on=dt.date(2026, 5, 20), reported_by="申报单位经办人", metrics={})
            s.add(row)
            s.flush()
            if acknowledged:
                row.acknowledged_on, row.acknowledged_by = dt.date(2026, 5, 22), "省局经办人"
                row.receipt_no = receipt_number(row, row.acknowledged_on)
            changes.append(row.id)
        version = repo.approved_version(s, zone)
        boundary = from_db(version.boundary)
        readers = {"other_applicant": _user(s, "applicant"), "other_expert": _user(s, "expert"),
                   "suzhou": _user(s, "city", "苏州市")}
        receipt_no = s.get(ChangeEvent, changes[0]).receipt_no
        titles = [r.title for r in eligibility.zone_report(session=s, code=code, rules=RULES).rules]
    return {"rule_titles": titles, "code": code, "hidden": hidden, "changes": changes, "boundary": boundary, "readers": readers,
            "receipt_no": receipt_no, "name": f"河西知识产权服务业集聚区（{code}）"}


@pytest.fixture(scope="module")
def app_client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def as_(tokens_or_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens_or_token}"}


def read(r) -> tuple[pypdf.PdfReader, str]:
    assert r.status_code == 200, r.text[:400]
    assert r.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """The text without the line breaks a table cell wraps at."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def province_report(world, app_client, tokens):
    r = app_client.get(f"/zones/{world['code']}/report.pdf", headers=as_(tokens["province"]))
    return read(r)


# ---- the eligibility report ---------------------------------------------------------------------------------

def test_the_report_reads_back_in_chinese_with_page_numbers(world, province_report):
    reader, text = province_report
    pages = len(reader.pages)
    assert pages >= 2
    for n in range(1, pages + 1):
        assert f"第 {n} 页 共 {pages} 页" in reader.pages[n - 1].extract_text()
    assert "江苏省知识产权局" in text and "集聚区申报条件核验报告" in text
    assert world["name"] in flat(text) and world["code"] in text
    assert "第1版（已批准，" in flat(text)  # which layout was checked, and that it is the approved one
    for heading in ("经办人", "审核人", "（盖章）", "日期"):
        assert heading in text


def test_every_condition_and_its_result_is_printed(world, province_report):
    _, text = province_report
    body = flat(text)
    titles = world["rule_titles"]
    assert len(titles) == 7
    for title in titles:
        assert title in body, title
    assert "量化条件全部符合" in body
    assert "72,628.96" in body  # the demo's floor area inside the boundary


def test_manual_review_items_carry_their_recorded_results_never_an_unrecorded_meets(world, province_report):
    _, text = province_report
    body = flat(text)
    items = RULES.manual_review
    for item in items:
        assert flat(item.title) in body, item.title
    # the two recorded results, with who and when; every other item is listed as not recorded
    assert "expert-wang，2026年03月02日" in body
    assert flat(FAILED_NOTE) in body and "province-bureau，2026年03月03日" in body
    assert body.count(reports.UNRECORDED) == len(items) - 2
    assert "已记录结论2项，共" + str(len(items)) + "项" in body
    section = body[body.index("五、需人工审核事项"):]
    management = section[section.index("管理科学高效"):section.index("产业需求强烈")]
    assert "符合" in management and reports.UNRECORDED not in management
    demand = section[section.index("产业需求强烈"):]
    assert demand.split("expert")[0].count("不符合") >= 1


def test_the_font_is_embedded_as_a_subset(province_report):
    reader, _ = province_report
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        embedded.append((str(font["/BaseFont"]), "/FontFile2" in descriptor))
    assert embedded and all(has_file for _, has_file in embedded)
    assert any(re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei", name) for name, _ in embedded), embedded


def test_the_map_is_drawn_from_the_stored_boundary(world, province_report):
    reader, text = province_report
    content = reader.pages[-1].get_contents().get_data().decode("latin-1")
    path = re.search(r"0\.85 0\.1 0\.1 RG (.*?) S Q", content, re.S)
    assert path, "the boundary's path is missing from the map page"
    points = [(float(x), float(y)) for x, y, _ in re.findall(r"(-?[\d.]+) (-?[\d.]+) ([ml])\b", path.group(1))]
    boundary = world["boundary"]
    stored = sum(len(ring.coords) - 1 for poly in boundary.geoms for ring in (poly.exterior, *poly.interiors))
    assert len(points) == stored
    assert path.group(1).count(" h") == sum(1 + len(p.interiors) for p in boundary.geoms)
    minx, miny, maxx, maxy = to_metric(boundary, metric_crs_for(boundary)).bounds
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    drawn_w, drawn_h = max(xs) - min(xs), max(ys) - min(ys)
    assert drawn_w / drawn_h == pytest.approx((maxx - minx) / (maxy - miny), rel=1e-3)
    scale = int(re.search(r"比例约1:([\d,]+)", flat(text)).group(1).replace(",", ""))
    assert scale == pytest.approx(1000 * (maxx - minx) / drawn_w, abs=1.5)
    assert f"EPSG:{metric_crs_for(boundary)}" in text
    assert "北" in text and re.search(r"\b(\d+) 米", text)  # north arrow and scale bar
    # buildings (a filled path) and institutions (filled circles) are drawn too
    assert "0.78 0.78 0.8 rg" in content and content.count(" c f") >= 15  # the demo: 17 institutions inside


# ---- who may print what ------------------------------------------------------------------------------------

def test_the_public_gets_the_report_of_a_published_zone_without_the_review_records(world, app_client):
    _, text = read(app_client.get(f"/zones/{world['code']}/report.pdf"))
    body = flat(text)
    assert world["name"] in body and flat(reports.HIDDEN_NOTE) in body
    section = body[body.index("五、需人工审核事项"):]
    section = section[:section.index("经办人")].replace("未记录结果的事项不视为符合", "")
    assert section.count(reports.HIDDEN_RESULT) == len(RULES.manual_review) and "符合" not in section
    assert flat(FAILED_NOTE) not in body and "expert-wang" not in body and reports.UNRECORDED not in body
    hidden = app_client.get(f"/zones/{world['hidden']}/report.pdf")
    assert hidden.status_code == 404 and hidden.json()["code"] == "zone_not_found"


def test_readers_who_may_not_see_the_zone_get_404(world, app_client, tokens):
    for who in ("other_applicant", "other_expert", "suzhou"):
        token = world["readers"][who]
        for path in ("report.pdf", "acceptance.pdf", "evaluation.pdf?year=2028",
                     f"changes/{world['changes'][0]}/receipt.pdf"):
            r = app_client.get(f"/zones/{world['code']}/{path}", headers=as_(token))
            assert r.status_code == 404 and r.json()["code"] == "zone_not_found", (who, path, r.status_code)


def test_the_assigned_expert_sees_the_records_the_owner_does_not(world, app_client, tokens):
    _, text = read(app_client.get(f"/zones/{world['code']}/report.pdf", headers=as_(tokens["expert"])))
    assert flat(FAILED_NOTE) in flat(text)
    _, text = read(app_client.get(f"/zones/{world['code']}/report.pdf", headers=as_(tokens["applicant"])))
    assert flat(FAILED_NOTE) not in flat(text) and flat(reports.HIDDEN_NOTE) in flat(text)


def test_records_need_a_login(world, app_client):
    for path in ("acceptance.pdf", "evaluation.pdf", f"changes/{world['changes'][0]}/receipt.pdf"):
        r = app_client.get(f"/zones/{world['code']}/{path}")
        assert r.status_code == 401 and r.json()["code"] == "login_required", path


# ---- the acceptance and evaluation records, the receipt -----------------------------------------------------

def test_the_acceptance_record_lists_each_acceptance(world, app_client, tokens):
    reader, text = read(app_client.get(f"/zones/{world['code']}/acceptance.pdf", headers=as_(tokens["city"])))
    body = flat(text)
    assert "集聚区验收记录" in text and world["name"] in body
    assert "2027年07月05日" in body and "2027年12月20日" in body and "6个月" in body
    assert "验收组（测试）" in body and "最近一次验收（2027年12月20日）结果：合格" in body
    assert f"第 1 页 共 {len(reader.pages)} 页" in text and "验收组组长" in text


def test_the_evaluation_record_of_a_year(world, app_client, tokens):
    _, text = read(app_client.get(f"/zones/{world['code']}/evaluation.pdf?year=2028",
                                  headers=as_(tokens["applicant"])))
    body = flat(text)
    assert "集聚区2028年度绩效评价记录" in body and "2028年度绩效评价结果：优秀" in body
    assert "历次绩效评价" in body and "2029年06月03日" in body  # the later one listed for context
    _, latest = read(app_client.get(f"/zones/{world['code']}/evaluation.pdf", headers=as_(tokens["province"])))
    assert "2029年度绩效评价结果：不合格" in flat(latest) and "综合得分58.50；计算等次不合格" in flat(latest)
    none = app_client.get(f"/zones/{world['code']}/evaluation.pdf?year=2027", headers=as_(tokens["province"]))
    assert none.status_code == 404 and none.json()["code"] == "no_evaluation_record" and "2027年" in none.json()["message"]
    for bad in ("1999", "2101", "abc"):
        r = app_client.get(f"/zones/{world['code']}/evaluation.pdf?year={bad}", headers=as_(tokens["province"]))
        assert r.status_code == 422, bad


def test_a_zone_with_no_records_has_none_to_print(world, app_client, tokens):
    for path, code in (("acceptance.pdf", "no_acceptance_record"), ("evaluation.pdf", "no_evaluation_record")):
        r = app_client.get(f"/zones/{world['hidden']}/{path}", headers=as_(tokens["province"]))
        assert r.status_code == 404 and r.json()["code"] == code and "集聚区" in r.json()["message"]


def test_the_receipt_carries_its_number(world, app_client, tokens):
    cid, pending = world["changes"]
    _, text = read(app_client.get(f"/zones/{world['code']}/changes/{cid}/receipt.pdf",
                                  headers=as_(tokens["applicant"])))
    body = flat(text)
    assert "变更事项报告回执" in text and f"回执编号：{world['receipt_no']}" in body
    assert "运营管理机构" in body and "2026年05月20日" in body and "省局经办人" in body
    r = app_client.get(f"/zones/{world['code']}/changes/{pending}/receipt.pdf", headers=as_(tokens["province"]))
    assert r.status_code == 404 and r.json()["code"] == "receipt_not_issued" and "尚未出具回执" in r.json()["message"]
    r = app_client.get(f"/zones/{world['hidden']}/changes/{cid}/receipt.pdf", headers=as_(tokens["province"]))
    assert r.status_code == 404 and r.json()["code"] == "change_not_found"


# ---- links and the font -------------------------------------------------------------------------------------

def test_the_zone_page_links_what_the_reader_may_print(world, app_client, tokens):
    code, (cid, pending) = world["code"], world["changes"]
    page = app_client.get(f"/zones/{code}", headers=as_(tokens["province"])).text
    for link in (f"/zones/{code}/report.pdf", f"/zones/{code}/acceptance.pdf", f"/zones/{code}/evaluation.pdf?year=2028",
                 f"/zones/{code}/evaluation.pdf?year=2029", f"/zones/{code}/changes/{cid}/receipt.pdf"):
        assert f'href="{link}"' in page, link
    assert f"/changes/{pending}/receipt.pdf" not in page
    public = app_client.get(f"/zones/{code}").text
    assert f'href="/zones/{code}/report.pdf"' in public and "acceptance.pdf" not in public
    changes_page = app_client.get("/changes", headers=as_(tokens["province"])).text
    assert f'href="/zones/{code}/changes/{cid}/receipt.pdf"' in changes_page


def test_a_missing_font_is_a_chinese_error(world, settings, tokens, tmp_path):
    missing = tmp_path / "no-such-font.ttc"
    broken = Settings(_env_file=None, database_url=settings.database_url, public_cache_ttl_s=0, pdf_font=str(missing))
    with TestClient(create_app(broken)) as c:
        r = c.get(f"/zones/{world['code']}/report.pdf", headers=as_(tokens["province"]))
        assert r.status_code == 503
        body = r.json()
        assert body["code"] == "pdf_font_missing" and "中文字体" in body["message"] and str(missing) in body["message"]
        assert body["detail"]["setting"] == "ZONEGEO_PDF_FONT"
        page = c.get(f"/zones/{world['code']}/report.pdf", headers=as_(tokens["province"]) | {"accept": "text/html"})
        assert page.status_code == 503 and "中文字体" in page.text and "Traceback" not in page.text
