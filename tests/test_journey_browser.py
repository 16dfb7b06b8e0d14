"""The whole journey in Debian's Chromium with the network cut, done only through the pages by the four users the
regulation names: the applicant (建设主体) applies, uploads materials and the layout and submits; the city bureau
recommends with its letter; the province assigns an expert and starts the review; the expert records the
manual-review items, the 答辩 and the 现场考察 on a phone; the province approves the layout version, starts the
5-working-day notice (dated back so that it is over) and approves the zone. Nothing is done through the API or the
database; the database is only read to check what the pages stored.

Dates: the pages record each step on the day it happened (the date field, never in the future); the notice is
recorded as started three weeks ago so that its 5 working days are over today."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, DEMO
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.db import repo
from zonegeo.db.models import LifecycleEvent, ZoneVersion
from zonegeo.db.session import session_factory, transaction

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2, "locale": "zh-CN"}


def shot(tab: Offline, name: str) -> None:
    page = tab.page
    assert not (v := violations(page)), describe(v)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} scrolls sideways"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


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

    # ---- the applicant: the application, its materials, the layout files, the submission ----
    tab = as_user(browser, server, "demo-applicant")
    page = tab.page
    page.goto(f"{server}/apply", wait_until="load")
    for selector, value in {"#code": code, "#name": "河西旅程集聚区", "#builder": "南京市建邺区人民政府",
                            "#operator": "河西运营公司", "#side-east": "江东中路", "#side-south": "河西大街",
                            "#side-west": "滨江公园", "#side-north": "梦都大街"}.items():
        page.fill(selector, value)
    page.select_option("#city", "南京市")
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
    tab = as_user(browser, server, "nanjing-bureau")
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
    assert "当前状态：公示中" in decide(page, "start_notice", today - dt.timedelta(days=21))
    assert "请先勾选确认" in decide(page, "approve")
    assert "已办理：批复同意建设；当前状态：建设期" in decide(page, "approve", confirm=True)
    shot(tab, "5-province-approved")
    assert tab.blocked == [] or all(u.endswith(".png") or "tile" in u for u in tab.blocked), tab.blocked[:5]
    tab.close()

    state, actions, versions = zone_facts(engine, code)
    assert state == "construction"
    assert actions == ["submit", "recommend", "start_review", "expert_opinion", "start_notice", "approve"]
    assert versions == {1: "approved"}
