"""The city bureau fills its annual summary report in Debian's Chromium with the network cut, at 1366×768 and on a
390×844 phone: a wrong figure is named and marked, the corrected form is filed, the page says 已报送 with its
timeliness; the province's table shows it. Each page free of serious axe-core violations, nothing beyond this
machine requested, no sideways scrolling on the phone, buttons and fields a finger's size."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, PASSWORD
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.db.models import CityAnnualReport, Zone
from zonegeo.db.session import session_factory, transaction

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CITY = "淮安市"
SIZES = {"desktop": ({"viewport": {"width": 1366, "height": 768}}, 2024),
         "phone": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}, 2023)}
FIGURES = {"institutions_entered": "4", "institutions_left": "1", "staff": "156", "service_revenue_wan": "2380.5",
           "policy_funds_wan": "120", "platform_cases": "33"}


@pytest.fixture(scope="module")
def huaian(engine, tokens) -> dict:
    from zonegeo.services import auth

    tag = uuid.uuid4().hex[:6]
    user, codes = f"ar-ha-{tag}", [f"HA-AR-{tag}-{i}" for i in (1, 2)]
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username=user, password=PASSWORD, role="city", city=CITY)
        for i, code in enumerate(codes):
            session.add(Zone(code=code, name=f"淮安年报集聚区{i + 1}", city=CITY, builder="建设主体", status="operating",
                             dates={"approved_on": "2020-06-01"}, four_sides={}))
    return {"user": user, "codes": codes}


def checked(tab: Offline, name: str, width: int, *, refused: bool = False) -> None:
    """``refused``: the page is the form sent back with its errors (422), which the console reports."""
    page = tab.page
    assert not (v := violations(page)), describe(v)
    errors = [e for e in tab.errors if not (refused and "status of 422" in e)]
    assert tab.blocked == [] and errors == [], (tab.blocked[:5], errors)
    tab.errors.clear()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1, "sideways scrolling"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"annual-report-{name}.png"), full_page=True, timeout=60_000)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_city_fills_and_files_its_report(browser, server, engine, huaian, size):  # noqa: F811
    context, year = SIZES[size]
    width = context["viewport"]["width"]
    a, b = huaian["codes"]
    tab = Offline(browser, locale="zh-CN", **context)
    try:
        page = tab.page
        login(page, server, huaian["user"])
        page.click("#nav-annual-reports")
        page.wait_for_url(re.compile(r"/annual-reports$"))
        item = page.locator(f'#ar-years li[data-year="{year}"]')
        assert item.get_attribute("data-status") == "overdue" and "逾期未报送" in item.inner_text()
        item.locator("a").click()
        page.wait_for_url(re.compile(rf"/annual-reports/.+/{year}$"))
        assert page.locator("#ar-state").inner_text() == "尚未填报"
        checked(tab, f"empty-{size}", width)
        page.fill("#f-development", "全市集聚区新增服务机构，链条更加完整。")
        page.fill("#f-problems", "高端人才不足。")
        page.fill("#f-suggestions", "建议加大政策资金支持。")
        for code in (a, b):
            for key, value in FIGURES.items():
                page.fill(f"#f-{code}-{key}", value)
        page.fill(f"#f-{a}-staff", "-3")  # a slip of the finger
        page.click("#ar-file-report")
        page.wait_for_selector("#ar-errors")
        errors = page.locator("#ar-errors").inner_text()
        assert f"集聚区“淮安年报集聚区1”（{a}）“从业人员（人）”：不能为负数" in errors
        assert page.locator(f"#f-{a}-staff").get_attribute("aria-invalid") == "true"
        assert page.locator(f"#f-{a}-staff").input_value() == "-3"  # what was typed stays
        assert page.locator("#f-problems").input_value() == "高端人才不足。"
        checked(tab, f"error-{size}", width, refused=True)
        for selector in (f"#f-{a}-staff", "#ar-file-report", "#ar-save"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["height"] >= 44, selector
        page.fill(f"#f-{a}-staff", "156")
        page.click("#ar-file-report")
        page.wait_for_selector("#flash")
        assert page.locator("#flash").inner_text().startswith(f"已报送{CITY}{year}年度总结报告")
        assert page.locator("#ar-state").inner_text() == "已报送"
        assert page.locator("#ar-timeliness").get_attribute("data-status") == "late"  # long after 31 March
        assert page.locator("#ar-file-report").inner_text() == "保存修改"  # revisable until received
        checked(tab, f"filed-{size}", width)
    finally:
        tab.close()
    with transaction(session_factory(engine)) as session:
        from sqlalchemy import select

        stored = session.scalar(select(CityAnnualReport).where(CityAnnualReport.city == CITY,
                                                               CityAnnualReport.year == year))
        assert stored is not None and stored.state == "filed" and stored.filed_via == "form"
        assert {r.staff for r in stored.indicators} == {156}

    tab = Offline(browser, locale="zh-CN", **context)
    try:  # the province sees who has reported
        page = tab.page
        login(page, server, "province-bureau")
        page.goto(f"{server}/annual-reports", wait_until="load")
        cell = page.locator(f'#ar-table tr[data-city="{CITY}"] td[data-year="{year}"]')
        assert cell.get_attribute("data-status") == "late" and "逾期报送" in cell.inner_text()
        checked(tab, f"province-{size}", width)
        cell.locator("a").click()
        page.wait_for_selector("#ar-receive")
        assert page.locator("#ar-form").count() == 0
        assert "全市集聚区新增服务机构" in page.locator("#text-development").inner_text()
        checked(tab, f"province-report-{size}", width)
    finally:
        tab.close()
