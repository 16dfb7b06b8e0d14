"""The 公示 page in a real Chromium on a 390 px phone (no network off this machine): a visitor reads the period and
the report, the map draws the zone, files an objection with an attachment and gets a receipt number; axe finds
nothing serious; every control is at least 44 px high; the 公告 list opens from the header."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pytest

from tests import axe
from tests.conftest import ARTIFACTS, import_demo_copy
from tests.test_browser import LOCAL, browser, login, server  # noqa: F401  (the fixtures)
from tests.test_notices import PDF, _notice

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _offline(route) -> None:
    if urlparse(route.request.url).hostname in LOCAL:
        route.continue_()
    else:
        route.abort()


def test_filing_an_objection_on_a_phone(browser, server, engine, tmp_path):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "PHONE")
    _notice(engine, code, dt.date.today())
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    context.route("**/*", _offline)
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{server}/notices", wait_until="load")
        page.click(f"a[href='/notices/{code}']")
        page.wait_for_url(f"**/notices/{code}")
        assert "（5个工作日）" in page.inner_text("#notice-period")
        assert "剩余" in page.inner_text("#notice-left")
        frame = page.frame_locator("iframe.notice-map")
        frame.locator(".leaflet-overlay-pane path").first.wait_for(timeout=20000)  # the zone is drawn
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        found = axe.violations(page)
        assert found == [], axe.describe(found)
        small = page.evaluate("""() => [...document.querySelectorAll(
            '.notice-form input:not([type=hidden]), .notice-form textarea, .notice-form button')]
            .filter(e => e.getBoundingClientRect().height < 44).map(e => e.id)""")
        assert small == []
        page.fill("#objection-name", "李四")
        page.fill("#objection-contact", "lisi@example.cn")
        page.fill("#objection-text", "四至范围东侧与实际不符，见附件照片说明。")
        page.set_input_files("#objection-attachment", files=[{"name": "说明.pdf", "mimeType": "application/pdf",
                                                              "buffer": PDF}])
        page.click("#objection-submit")
        page.wait_for_selector("#receipt")
        receipt = page.inner_text("#receipt-number")
        assert re.fullmatch(rf"YY-{dt.date.today().year}-\d{{6}}", receipt)
        found = axe.violations(page)
        assert found == [], axe.describe(found)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notice-390.png"), full_page=True)
        page.click("#nav-announcements")
        page.wait_for_url("**/announcements")
        assert page.locator("h1").inner_text() == "公告"
        found = axe.violations(page)
        assert found == [], axe.describe(found)
        assert [e for e in errors if "net::ERR_FAILED" not in e] == []  # blocked tiles only
    finally:
        context.close()
    # the province handles it on its own page, at 390 px too
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.route("**/*", _offline)
    page = context.new_page()
    try:
        login(page, server)
        page.goto(f"{server}/notices/{code}", wait_until="load")
        page.click("#objections-link")
        page.wait_for_url(f"**/notices/{code}/objections")
        section = page.locator(f"section[id='{receipt}']")
        assert "四至范围东侧与实际不符" in section.inner_text() and "说明.pdf" in section.inner_text()
        found = axe.violations(page)
        assert found == [], axe.describe(found)
        section.locator("select[name=outcome]").select_option("dismissed")
        section.locator("textarea[name=decision]").fill("经实地核查，四至范围与实际一致")
        section.locator("button[type=submit]").click()
        page.wait_for_selector("#flash")
        assert "已处理（异议不成立）" in page.inner_text("#flash")
        assert "已处理：异议不成立" in page.locator(f"section[id='{receipt}'] h2").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        found = axe.violations(page)
        assert found == [], axe.describe(found)
    finally:
        context.close()
