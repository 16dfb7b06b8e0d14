"""The audit log page in a real Chromium with the network cut, at 1366×768 and on a phone (390×844): filters
through the form (kept after submitting), paging, the export link, collapsed long values; the applicant sees its own
zone's entries only; no serious accessibility violation; nothing scrolls sideways on the phone."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, import_demo_copy
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2, "has_touch": True}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.mark.parametrize("size", SIZES)
def test_the_province_filters_pages_and_exports(browser, server, demo_zone, size):  # noqa: F811
    tab = Offline(browser, accept_downloads=True, **SIZES[size])
    page = tab.page
    try:
        login(page, server, "province-bureau")
        page.click("nav[aria-label='主导航'] a[href='/audit']")
        page.wait_for_url("**/audit")
        assert page.locator("h1").inner_text() == "审计日志"
        assert page.locator("#audit tbody tr").count() >= 1
        assert "登录" in page.locator("#audit").inner_text()  # the login just made is the newest entry, in Chinese
        assert not (v := violations(page)), describe(v)
        if size == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # filter through the form: the zone and an action; the choices stay selected
        page.select_option("#filter-zone", demo_zone)
        page.select_option("#filter-action", "import_zone")
        page.click("#filter-submit")
        page.wait_for_url("**/audit?*action=import_zone*")
        assert page.locator("#filter-zone").input_value() == demo_zone
        assert page.locator("#filter-action").input_value() == "import_zone"
        rows = page.locator("#audit tbody tr")
        assert rows.count() >= 1
        assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.zone)")) == {demo_zone}
        assert rows.first.locator("td.what").inner_text() == f"导入集聚区{demo_zone}"
        # a long value (the import's summary) is folded in <details>, opened on a click
        details = page.locator("#audit details").first
        if details.count():
            assert not details.evaluate("d => d.open")
            details.locator("summary").click()
            assert details.evaluate("d => d.open")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"audit-{size}.png"))
        # the export of what is shown
        with page.expect_download() as dl:
            page.click("#audit-export")
        content = Path(dl.value.path()).read_bytes()
        sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
        values = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        assert "操作人" in values and f"导入集聚区{demo_zone}" in values and sheet.freeze_panes == "A2"
        # paging: one entry a page, next then previous
        page.goto(f"{server}/zones/{demo_zone}/audit?limit=1", wait_until="load")
        first = page.locator("#audit tbody tr").first.get_attribute("data-id")
        page.click("#audit-next")
        page.wait_for_url("**offset=1*")
        assert page.locator("#audit tbody tr").first.get_attribute("data-id") != first
        page.click("#audit-prev")
        page.wait_for_url("**offset=0*")
        assert page.locator("#audit tbody tr").first.get_attribute("data-id") == first
        assert not (v := violations(page)), describe(v)
        assert tab.errors == [], tab.errors
        # a wrong date: the Chinese message with a 422 (the console reports the status), no 500
        page.goto(f"{server}/audit?date_from=2026-02-30", wait_until="load")
        assert "格式不正确" in page.locator("#audit-error").inner_text()
        assert not (v := violations(page)), describe(v)
    finally:
        tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_applicant_sees_its_own_zones_only(browser, server, demo_zone, engine, tmp_path, size):  # noqa: F811
    foreign = import_demo_copy(engine, tmp_path, "AUDB")  # a zone of someone else, with entries of its own
    tab = Offline(browser, **SIZES[size])
    page = tab.page
    try:
        login(page, server, "demo-applicant")
        page.goto(f"{server}/audit?limit=200", wait_until="load")
        zones = set(page.locator("#audit tbody tr").evaluate_all("rs => rs.map(r => r.dataset.zone)"))
        options = page.locator("#filter-zone option").evaluate_all("os => os.map(o => o.value)")
        assert options[0] == "" and demo_zone in options and foreign not in options
        assert demo_zone in zones and zones <= set(options) and foreign not in page.content()
        assert not (v := violations(page)), describe(v)
        if size == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "audit-applicant-phone.png"))
        assert tab.errors == [], tab.errors
        response = page.goto(f"{server}/zones/{foreign}/audit", wait_until="load")
        assert response is not None and response.status == 404  # the zone is not revealed to the applicant
        assert foreign not in page.locator("main").inner_text() or "不存在" in page.locator("main").inner_text()
    finally:
        tab.close()
