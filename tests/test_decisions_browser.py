"""The city's and the province's decisions in Debian's Chromium with the network cut, at 1366×768 and on a
390×844 phone: the city recommends with the letter; the province takes a zone from review to approval through
the pages (the confirmation step first refusing, then approving); the province approves a submitted layout
version after seeing the two maps side by side and returns another with a comment the applicant then reads on
the zone page; an applicant sees no buttons and gets 403 on the decide POSTs. Every page is free of serious
axe-core violations and of sideways scrolling."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, bearer
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_decisions import owned
from tests.test_zone_desk import states, upload_core
from zonegeo.api.app import create_app
from zonegeo.db import repo
from zonegeo.db.models import User
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import lifecycle, reviews

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}
CONSTRUCTION = {"approved_on": "2025-01-06", "construction_ends": "2027-01-06"}


def checked(tab: Offline, name: str) -> None:
    page = tab.page
    assert not (v := violations(page)), describe(v)
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"decide-{name}.png"), full_page=True)


def only_tiles(tab: Offline) -> None:
    assert all(u.endswith(".png") or "tile" in u for u in tab.blocked), tab.blocked[:5]
    assert tab.errors == [], tab.errors


def zone_state(engine, code: str) -> str:
    with transaction(session_factory(engine)) as s:
        return repo.get_zone(s, code).status


def submit(page, action: str) -> str:
    page.click(f"#{action}-submit")
    page.wait_for_load_state("load")
    return page.locator("#flash").inner_text()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_city_recommends_an_application(browser, server, engine, tmp_path, size, tokens):  # noqa: F811
    code = owned(engine, tmp_path, "submitted", prefix="WREC")
    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:
        page = tab.page
        login(page, server, "nanjing-bureau")
        page.goto(f"{server}/zones/{code}", wait_until="load")
        page.click("#decide-link")
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text().startswith("办理")
        assert page.locator("#decisions .decision").evaluate_all("els => els.map(e => e.dataset.action)") == \
            ["return", "recommend"]
        checked(tab, f"city-{size}")
        page.set_input_files("#recommend-letter", files=[{"name": "推荐函.pdf", "mimeType": "application/pdf",
                                                         "buffer": b"%PDF-1.4 recommendation"}])
        assert "已办理：推荐；当前状态：设区市已推荐" in submit(page, "recommend")
        assert page.locator("#zone-state").get_attribute("data-state") == "recommended"
        assert page.locator("#no-actions").is_visible()  # the city has nothing more to do here
        checked(tab, f"city-done-{size}")
        assert zone_state(engine, code) == "recommended"
        only_tiles(tab)
    finally:
        tab.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_province_takes_a_zone_from_review_to_approval(browser, server, engine, tmp_path, rules, size,  # noqa: F811
                                                         tokens):
    code = owned(engine, tmp_path, "recommended", prefix="WAPP")
    with transaction(session_factory(engine)) as s:  # the city's recommendation on record
        s.add(__import__("zonegeo.db.models", fromlist=["LifecycleEvent"]).LifecycleEvent(
            zone_id=repo.get_zone(s, code).id, action="recommend", from_state="submitted", to_state="recommended",
            on_date=dt.date.today() - dt.timedelta(days=30), actor="nanjing-bureau", role="city", data={}))
    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:
        page = tab.page
        login(page, server, "province-bureau")
        page.goto(f"{server}/zones/{code}/decide", wait_until="load")
        page.select_option("#expert-select", "expert-wang")
        page.click("#experts-submit")
        page.wait_for_load_state("load")
        assert "已指派评审专家：expert-wang" in page.locator("#flash").inner_text()
        assert "expert-wang" in page.locator("#assigned").inner_text()
        page.fill("#start_review-on", (dt.date.today() - dt.timedelta(days=20)).isoformat())
        assert "当前状态：专家评审中" in submit(page, "start_review")
        with transaction(session_factory(engine)) as s:  # the expert's work (their own pages are another's)
            expert = s.query(User).filter_by(username="expert-wang").one()
            lifecycle.add_opinion(session=s, user=expert, code=code, opinion="同意", recommend=True,
                                  on=dt.date.today() - dt.timedelta(days=18))
            for item in rules.manual_review:
                reviews.record(session=s, user=expert, code=code, item=item.id, result="meets", note="", rules=rules)
        page.reload(wait_until="load")
        page.fill("#start_notice-on", (dt.date.today() - dt.timedelta(days=14)).isoformat())
        assert "当前状态：公示中" in submit(page, "start_notice")
        assert page.locator("#action-approve").get_attribute("data-irreversible") == "true"
        checked(tab, f"noticed-{size}")
        assert "请先勾选确认" in submit(page, "approve")  # the confirmation step: nothing happens without it
        assert page.locator("#flash").get_attribute("data-code") == "not_confirmed"
        assert zone_state(engine, code) == "noticed"
        page.check("#approve-confirm")
        assert "已办理：批复同意建设；当前状态：建设期" in submit(page, "approve")
        assert page.locator("#zone-state").get_attribute("data-state") == "construction"
        checked(tab, f"approved-{size}")
        assert zone_state(engine, code) == "construction"
        only_tiles(tab)
    finally:
        tab.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_province_approves_one_version_and_returns_another(browser, server, engine, tmp_path, settings,  # noqa: F811
                                                               tokens, size):
    code = owned(engine, tmp_path, "construction", CONSTRUCTION, prefix="WVER")
    with TestClient(create_app(settings), headers=bearer(tokens, "applicant")) as c:
        returned, approved = upload_core(c, code, 1.1), upload_core(c, code, 1.2)
        for n in (returned, approved):
            assert c.post(f"/api/zones/{code}/versions/{n}/submit", json={}).status_code == 200
    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:
        page = tab.page
        login(page, server, "province-bureau")
        page.goto(f"{server}/zones/{code}", wait_until="load")
        page.click(f"#decide-version-{approved}")
        page.wait_for_load_state("load")
        page.frame_locator("#version-map").locator(".leaflet-overlay-pane path").first.wait_for()
        page.frame_locator("#approved-map").locator(".leaflet-overlay-pane path").first.wait_for()
        first, second = page.locator("#version-map").bounding_box(), page.locator("#approved-map").bounding_box()
        assert first and second
        if size == "desktop":  # side by side
            assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1
        else:  # one above the other, each the page's width
            assert second["y"] >= first["y"] + first["height"] and first["width"] > 300
        assert page.locator("#diff").get_attribute("data-material") == "true"
        assert "核心区" in page.locator("#diff-metrics").inner_text()
        checked(tab, f"version-{size}")
        page.click("#approve-submit")  # not confirmed: refused
        page.wait_for_load_state("load")
        assert page.locator("#flash").get_attribute("data-code") == "not_confirmed"
        page.check("#approve-confirm")
        page.click("#approve-submit")
        page.wait_for_load_state("load")
        assert f"版本{approved}已批准" in page.locator("#flash").inner_text()
        assert page.locator("#version-state").get_attribute("data-state") == "approved"
        page.goto(f"{server}/zones/{code}/versions/{returned}/decide", wait_until="load")
        page.fill("#return-note", "核心区东侧超出四至范围，请修正后重新提交")
        page.click("#return-submit")
        page.wait_for_load_state("load")
        assert "已退回建设主体修改" in page.locator("#flash").inner_text()
        checked(tab, f"version-returned-{size}")
        assert states(engine, code) == {1: "superseded", returned: "draft", approved: "approved"}
        tab.context.clear_cookies()
        login(page, server, "demo-applicant")
        page.goto(f"{server}/zones/{code}", wait_until="load")
        note = page.locator(f"#version-note-{returned}")
        assert note.inner_text() == "省知识产权局退回意见：核心区东侧超出四至范围，请修正后重新提交"
        assert page.locator(f"#submit-{returned}").is_visible()  # corrected, it may be submitted again
        assert page.locator("#decide-link").count() == 0 and page.locator(f"#decide-version-{approved}").count() == 0
        checked(tab, f"applicant-sees-return-{size}")
        only_tiles(tab)
    finally:
        tab.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_an_applicant_sees_no_buttons_and_gets_403(browser, server, engine, tmp_path, settings, tokens,  # noqa: F811
                                                   size):
    code = owned(engine, tmp_path, "submitted", prefix="WDENY")
    with TestClient(create_app(settings), headers=bearer(tokens, "applicant")) as c:
        number = upload_core(c, code, 1.1)
        assert c.post(f"/api/zones/{code}/versions/{number}/submit", json={}).status_code == 200
    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:
        page = tab.page
        login(page, server, "demo-applicant")
        page.goto(f"{server}/zones/{code}/decide", wait_until="load")
        assert page.locator("#decisions button").count() == 0 and page.locator("#decisions form").count() == 0
        assert "没有办理本集聚区事项的权限" in page.locator("#no-actions").inner_text()
        checked(tab, f"applicant-{size}")
        token = page.locator('input[name="csrf"]').first.get_attribute("value")
        for url in (f"/zones/{code}/decide/recommend", f"/zones/{code}/decide/reject",
                    f"/zones/{code}/versions/{number}/decide/approve"):
            r = page.request.post(f"{server}{url}", form={"csrf": token, "confirm": "yes", "reason": "x"})
            assert r.status == 403, url
        page.goto(f"{server}/zones/{code}/versions/{number}/decide", wait_until="load")
        assert page.locator("#actions button").count() == 0
        checked(tab, f"applicant-version-{size}")
        assert zone_state(engine, code) == "submitted" and states(engine, code)[number] == "submitted"
        only_tiles(tab)
    finally:
        tab.close()
