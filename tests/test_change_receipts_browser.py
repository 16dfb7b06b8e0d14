"""Change-report receipts in Debian's Chromium with the network cut, at 1366×768 and on a 390×844 phone: the
province issues the 回执 on the 变更事项 page and reads its number, the city bureau confirms the 抄报, the applicant
reads the number on its zone page — each page free of serious axe-core violations, nothing requested beyond
this machine."""

from __future__ import annotations

import re

import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_change_receipts import event, make_change, make_zone

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}


def checked(tab: Offline, name: str) -> None:
    page = tab.page
    assert not (v := violations(page)), describe(v)
    assert tab.blocked == [] and tab.errors == [], (tab.blocked[:5], tab.errors)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"change-receipts-{name}.png"), full_page=True, timeout=60_000)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_province_issues_the_receipt_and_the_city_confirms_the_copy(browser, server, engine, size):  # noqa: F811
    code = make_zone(engine)
    cid = make_change(engine, code)
    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:
        page = tab.page
        login(page, server, "province-bureau")
        page.goto(f"{server}/changes#change-{cid}", wait_until="load")
        row = page.locator(f"#change-{cid}")
        assert row.get_attribute("data-receipt") == "awaiting" and "已报告待回执" in row.inner_text()
        button = page.locator(f"#acknowledge-{cid}")
        assert button.is_visible() and button.inner_text() == "出具回执"
        assert page.locator(f"#receive-{cid}").count() == 0  # the city's step is not the province's
        box = button.bounding_box()
        assert box is not None and box["height"] >= 40  # a finger's size on the phone
        checked(tab, f"province-before-{size}")
        button.click()
        page.wait_for_url(re.compile(rf"/changes#change-{cid}$"))
        number = event(engine, cid).receipt_no
        assert re.fullmatch(r"HZ-\d{4}-\d{6,}", number)
        assert page.locator("#flash").inner_text() == f"已出具回执，回执编号{number}"
        row = page.locator(f"#change-{cid}")
        assert row.get_attribute("data-receipt") == "acknowledged"
        assert row.locator(".receipt-no").inner_text() == number and page.locator(f"#acknowledge-{cid}").count() == 0
        checked(tab, f"province-after-{size}")
    finally:
        tab.close()

    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:
        page = tab.page
        login(page, server, "nanjing-bureau")
        page.goto(f"{server}/changes#change-{cid}", wait_until="load")
        assert page.locator(f"#change-{cid} .receipt-no").inner_text() == number
        assert page.locator(f"#acknowledge-{cid}").count() == 0
        page.locator(f"#receive-{cid}").click()
        page.wait_for_url(re.compile(rf"/changes#change-{cid}$"))
        assert page.locator("#flash").inner_text() == "已确认收到该变更报告的抄报"
        assert page.locator(f"#change-{cid}").get_attribute("data-copy") == "received"
        assert event(engine, cid).city_received_on is not None
        checked(tab, f"city-after-{size}")
    finally:
        tab.close()

    tab = Offline(browser, locale="zh-CN", **SIZES[size])
    try:  # the applicant reads the receipt number on its zone page
        page = tab.page
        login(page, server, "demo-applicant")
        page.goto(f"{server}/zones/{code}#change-{cid}", wait_until="load")
        item = page.locator(f"#change-{cid}")
        assert item.locator(".receipt-no").inner_text() == number and "抄报已收到" in item.inner_text()
        assert item.locator("form.receipt-form").count() == 0  # neither step is the applicant's
        checked(tab, f"applicant-zone-{size}")
    finally:
        tab.close()
