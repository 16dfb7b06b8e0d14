"""The whole journey in Debian's Chromium with the network cut, done only through the pages by the four users the
regulation names: the applicant (建设主体) applies, uploads materials and the layout and submits; the city bureau
recommends with its letter; the province assigns an expert and starts the review; the expert records the
manual-review items, the 答辩 and the 现场考察 on a phone; the province approves the layout version, starts the
5-working-day notice (dated back so that it is over) and approves the zone. Nothing is done through the API or the
database; the database is only read to check what the pages stored.

Then, still only through the pages: the province accepts the zone (验收) once its two-year construction period is
over; a changed core area is uploaded, submitted and approved, which opens a change of spatial layout; the applicant
files the change report, the province issues its 回执 and the city confirms its 抄报; the city files its annual
summary report; an evaluation round is organised, scored by the expert and the city, and confirmed by the province
as 优秀, and the 优秀 list exported for the national 试验区 recommendation names the zone.

Dates: the pages record each step on the day it happened (the date field, never in the future). So that one test
can walk two years of a zone's life, the notice and the approval are recorded as having happened more than two
years ago (the province records dated facts; the state machine checks each date against today, not against the
order of the records)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import openpyxl
import pytest
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import select

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, DEMO, PASSWORD
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.db import repo
from zonegeo.db.models import ChangeEvent, EvaluationEntry, LifecycleEvent, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import auth

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CITY = "连云港市"
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2, "locale": "zh-CN"}


def shot(tab: Offline, name: str) -> None:
    page = tab.page
    assert not (v := violations(page)), describe(v)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} scrolls sideways"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True, timeout=90_000)  # slow under load


def as_user(browser, server, username: str, size=DESKTOP) -> Offline:  # noqa: F811
    tab = Offline(browser, **size)
    login(tab.page, server, username)
    return tab


def zone_facts(engine, code: str) -> tuple[str, list[str], dict[int, str]]:
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        actions = list(s.scalars(select(LifecycleEvent.action).where(LifecycleEvent.zone_id == zone.id)
                                 .order_by(LifecycleEvent.id)))
        versions = {v.number: v.state for v in s.scalars(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id))}
        return zone.status, actions, versions


def decide(page, action: str, on: dt.date | None = None, confirm: bool = False) -> str:
    if on is not None:
        page.fill(f"#{action}-on", on.isoformat())
    if confirm:
        page.check(f"#{action}-confirm")
    page.click(f"#{action}-submit")
    page.wait_for_load_state("load")
    return page.locator("#flash").inner_text()


def test_from_application_to_approval_by_four_users_in_the_browser(browser, server, engine, tmp_path, rules):  # noqa: F811
    code = f"JNY-{uuid.uuid4().hex[:6].upper()}"
    today = dt.date.today()
    # the city bureau of a city no other test uses: its annual report covers this zone only
    city_user = f"lyg-bureau-{uuid.uuid4().hex[:6]}"
    with transaction(session_factory(engine)) as s:
        auth.add_user(session=s, username=city_user, password=PASSWORD, role="city", city=CITY)

    # ---- the applicant: the application, its materials, the layout files, the submission ----
    tab = as_user(browser, server, "demo-applicant")
    page = tab.page
    page.goto(f"{server}/apply", wait_until="load")
    for selector, value in {"#code": code, "#name": "海州旅程集聚区", "#builder": "连云港市海州区人民政府",
                            "#operator": "河西运营公司", "#side-east": "江东中路", "#side-south": "河西大街",
                            "#side-west": "滨江公园", "#side-north": "梦都大街"}.items():
        page.fill(selector, value)
    page.select_option("#city", CITY)
    page.click("#apply-submit")
    page.wait_for_url(f"**/zones/{code}/materials?created=1")
    for kind in ("application_form", "work_plan", "commitment"):
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(b"%PDF-1.4\n" + kind.encode() * 50)
        page.set_input_files(f"#file-{kind}", str(path))
        page.click(f"#upload-{kind}")
        page.wait_for_url("**/materials?added=*")
    page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    for role, name in (("boundary", "boundary.geojson"), ("core", "core.geojson"), ("buildings", "buildings.geojson"),
                       ("institutions", "institutions.csv")):
        page.set_input_files(f"#file-{role}", str(DEMO / name))
        page.select_option(f"#crs-{role}", "EPSG:4490")
    page.click("#submit")
    page.wait_for_selector("#result", timeout=60_000)
    assert "已保存为草稿版本 1" in page.locator("#result").inner_text()
    page.goto(f"{server}/zones/{code}", wait_until="load")
    page.click("#submit-1")
    page.wait_for_load_state("load")
    page.check("#submit-application-confirm")
    page.click("#submit-application-submit")
    page.wait_for_load_state("load")
    assert "申报已提交" in page.locator("#flash").inner_text()
    shot(tab, "1-applicant-submitted")
    tab.close()
    assert zone_facts(engine, code)[:2] == ("submitted", ["submit"])

    # ---- the city bureau recommends, with its letter ----
    tab = as_user(browser, server, city_user)
    page = tab.page
    page.goto(f"{server}/zones/{code}/decide", wait_until="load")
    letter = tmp_path / "推荐函.pdf"
    letter.write_bytes(b"%PDF-1.4 recommendation")
    page.set_input_files("#recommend-letter", str(letter))
    assert "当前状态：设区市已推荐" in decide(page, "recommend")
    shot(tab, "2-city-recommended")
    tab.close()

    # ---- the province: the expert, the review, the layout version ----
    tab = as_user(browser, server, "province-bureau")
    page = tab.page
    page.goto(f"{server}/zones/{code}/decide", wait_until="load")
    page.select_option("#expert-select", "expert-wang")
    page.click("#experts-submit")
    page.wait_for_load_state("load")
    assert "已指派评审专家：expert-wang" in page.locator("#flash").inner_text()
    assert "当前状态：专家评审中" in decide(page, "start_review")
    page.goto(f"{server}/zones/{code}/versions/1/decide", wait_until="load")
    page.check("#approve-confirm")
    page.click("#approve-submit")
    page.wait_for_load_state("load")
    assert "版本1已批准" in page.locator("#flash").inner_text()
    shot(tab, "3-province-version-approved")
    tab.close()

    # ---- the expert, on a phone: the manual-review items, the 答辩 and the 现场考察 ----
    tab = as_user(browser, server, "expert-wang", PHONE)
    page = tab.page
    page.goto(f"{server}/zones/{code}/expert", wait_until="load")
    for item in rules.manual_review:
        page.select_option(f"#item-{item.id}", "meets")
    for kind, words in (("hearing", "答辩清楚，运营方案可行"), ("inspection", "现场查看机构在位，载体与申报一致")):
        page.fill(f"#{kind}-on", (today - dt.timedelta(days=1)).isoformat())
        page.fill(f"#{kind}-opinion", words)
        page.check(f"#{kind}-recommend-yes")
    page.fill("#overall-opinion", "同意推荐")
    page.check("#recommend-yes")
    page.click("#opinion-submit")
    page.wait_for_load_state("load")
    said = page.locator("#result").inner_text()
    assert f"已记录{len(rules.manual_review)}项人工审核结果" in said and "已提交评审意见（推荐）" in said
    shot(tab, "4-expert-opinion-phone")
    tab.close()

    # ---- the province: the notice (over) and the approval, with its confirmation step ----
    tab = as_user(browser, server, "province-bureau")
    page = tab.page
    page.goto(f"{server}/zones/{code}/decide", wait_until="load")
    assert "当前状态：公示中" in decide(page, "start_notice", today - dt.timedelta(days=830))
    assert "请先勾选确认" in decide(page, "approve")
    page.fill("#approve-document_number", "苏知发〔2024〕12号")
    assert "已办理：批复同意建设；当前状态：建设期" in decide(page, "approve", today - dt.timedelta(days=800), confirm=True)
    shot(tab, "5-province-approved")
    assert tab.blocked == [] or all(u.endswith(".png") or "tile" in u for u in tab.blocked), tab.blocked[:5]
    tab.close()

    state, actions, versions = zone_facts(engine, code)
    assert state == "construction"
    assert actions == ["submit", "recommend", "start_review", "expert_opinion", "start_notice", "approve"]
    assert versions == {1: "approved"}

    # ---- two years on: the acceptance (验收) ----
    tab = as_user(browser, server, "province-bureau")
    page = tab.page
    page.goto(f"{server}/zones/{code}/decide", wait_until="load")
    page.select_option("#accept-result", "pass")
    assert "当前状态：运行期" in decide(page, "accept")
    tab.close()

    # ---- a change of spatial layout: uploaded, submitted, approved; reported; 回执 and 抄报 ----
    core = json.loads((DEMO / "core.geojson").read_text(encoding="utf-8"))
    for f in core["features"]:
        f["geometry"] = mapping(shapely.affinity.scale(shape(f["geometry"]), 1.2, 1.2, origin="centroid"))
    grown = tmp_path / "核心区（扩大）.geojson"
    grown.write_text(json.dumps(core, ensure_ascii=False), encoding="utf-8")
    tab = as_user(browser, server, "demo-applicant")
    page = tab.page
    page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    page.set_input_files("#file-core", str(grown))
    page.select_option("#crs-core", "EPSG:4490")
    page.click("#submit")
    page.wait_for_selector("#result", timeout=60_000)
    assert "已保存为草稿版本 2" in page.locator("#result").inner_text()
    page.goto(f"{server}/zones/{code}", wait_until="load")
    page.click("#submit-2")
    page.wait_for_load_state("load")
    tab.close()
    tab = as_user(browser, server, "province-bureau")
    page = tab.page
    page.goto(f"{server}/zones/{code}/versions/2/decide", wait_until="load")
    assert page.locator("#diff").get_attribute("data-material") == "true"
    page.check("#approve-confirm")
    page.click("#approve-submit")
    page.wait_for_load_state("load")
    assert "版本2已批准" in page.locator("#flash").inner_text()
    tab.close()
    with transaction(session_factory(engine)) as s:
        zone_id = s.scalars(select(Zone.id).where(Zone.code == code)).one()
        change = s.scalars(select(ChangeEvent.id).where(ChangeEvent.zone_id == zone_id)).one()
    tab = as_user(browser, server, "demo-applicant", PHONE)
    page = tab.page
    page.goto(f"{server}/zones/{code}#change-{change}", wait_until="load")
    report = tmp_path / "变更情况报告.pdf"
    report.write_bytes(b"%PDF-1.4 change report")
    page.fill(f"#note-{change}", "核心区向东扩大，附变更情况报告")
    page.set_input_files(f"#files-{change}", str(report))
    page.click(f"#report-{change}")
    page.wait_for_load_state("load")
    assert "变更报告已登记（附件1个）" in page.locator("#flash").inner_text()
    shot(tab, "6-applicant-change-reported-phone")
    tab.close()
    for username, act, said in (("province-bureau", "acknowledge", "回执"), (city_user, "receive", "抄报")):
        tab = as_user(browser, server, username)
        page = tab.page
        page.goto(f"{server}/zones/{code}", wait_until="load")
        page.click(f"#{act}-{change}")
        page.wait_for_load_state("load")
        assert said in page.locator(f"#change-{change} .receipt").inner_text()
        tab.close()
    with transaction(session_factory(engine)) as s:
        row = s.get(ChangeEvent, change)
        assert (row.reported_on, bool(row.receipt_no), row.city_received_by) == (today, True, city_user)

    # ---- the city's annual summary report on last year, which covers the zone ----
    year = today.year - 1
    tab = as_user(browser, server, city_user, PHONE)
    page = tab.page
    page.goto(f"{server}/annual-reports/{CITY}/{year}", wait_until="load")
    page.fill("#f-development", "全市集聚区新增服务机构，链条更加完整。")
    page.fill("#f-problems", "高端人才不足。")
    page.fill("#f-suggestions", "建议加大政策资金支持。")
    for key, value in {"institutions_entered": "20", "institutions_left": "0", "staff": "156",
                       "service_revenue_wan": "2380.5", "policy_funds_wan": "120", "platform_cases": "33"}.items():
        page.fill(f"#f-{code}-{key}", value)
    page.click("#ar-file-report")
    page.wait_for_selector("#flash")
    assert page.locator("#flash").inner_text().startswith(f"已报送{CITY}{year}年度总结报告")
    shot(tab, "7-city-annual-report-phone")
    tab.close()

    # ---- the evaluation round: organised, scored by the expert and the city, confirmed as 优秀 ----
    tab = as_user(browser, server, "province-bureau")
    page = tab.page
    page.goto(f"{server}/evaluations", wait_until="load")
    page.fill("#title", f"{today.year}年度综合评价（旅程）")
    for box in page.locator("#create input[name=zones]").all():  # other tests' zones are operating too
        if box.get_attribute("value") != code:
            box.uncheck()
    page.check("#create input[name=experts][value='expert-wang']")
    page.click("#create-submit")
    page.wait_for_load_state("load")
    round_url = page.url.split("#")[0]
    assert "/evaluations/" in round_url
    tab.close()
    sheet = f"{round_url}/zones/{code}"
    for username, size in (("expert-wang", PHONE), (city_user, DESKTOP)):
        tab = as_user(browser, server, username, size)
        page = tab.page
        page.goto(sheet, wait_until="load")
        for d in ("institutions", "functions", "management", "policy", "industry"):
            page.fill(f"#score-{d}", "95")
        page.click("#scores-submit")
        page.wait_for_load_state("load")
        assert page.locator("#flash").inner_text() == "评分已保存"
        tab.close()
    tab = as_user(browser, server, "province-bureau")
    page = tab.page
    page.goto(sheet, wait_until="load")
    assert page.locator("#total").inner_text() == "95.00"
    assert page.locator("#computed-grade").get_attribute("data-grade") == "excellent"
    page.check("#confirm-box")
    page.click("#confirm-submit")
    page.wait_for_load_state("load")
    assert page.locator("#flash").inner_text().startswith("已确认评价结果：优秀")
    shot(tab, "8-province-evaluation-confirmed")
    page.goto(round_url, wait_until="load")
    with page.expect_download() as download:
        page.click("#export-excellent")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as f:  # a download's temporary file has no extension
        book = openpyxl.load_workbook(io.BytesIO(f.read()))
    cells = [str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value is not None]
    assert code in cells
    tab.close()
    with transaction(session_factory(engine)) as s:
        zone_id = s.scalars(select(Zone.id).where(Zone.code == code)).one()
        assert s.scalars(select(EvaluationEntry.confirmed_grade).where(EvaluationEntry.zone_id == zone_id)).one() \
            == "excellent"
    state, actions, versions = zone_facts(engine, code)
    assert state == "operating" and actions[-3:] == ["accept", "annual_report", "evaluate"]
    assert versions == {1: "superseded", 2: "approved"}
