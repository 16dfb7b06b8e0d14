"""The 待办 page in Chromium (network cut), at 1366×768 and 390×844, for the four roles: the province sees a
submitted layout version and a submitted register with their action pages, an overdue change report in red with its
working days, narrows the list by 设区市, 状态 and 只看逾期 (kept in the form) and opens the action with 办理; the
city recommends, the applicant completes its materials, the expert reviews. axe-core finds nothing serious."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_lifecycle_edges_api import zone_in
from tests.test_register_browser import zone_with_register_draft
from zonegeo.db.models import LifecycleEvent, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.services import access, changes
from zonegeo.services import register as registers

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}


@pytest.fixture(scope="module")
def desk(engine, tmp_path_factory, rules, tokens) -> dict[str, str]:
    """Committed zones giving each role something to do (codes by what they are for)."""
    tmp = tmp_path_factory.mktemp("worklist")
    province = zone_with_register_draft(engine, tmp / "p", rules, "WLB")
    today = dt.date.today()
    with transaction(session_factory(engine)) as session:
        registers.transition(session=session, code=province, number=1, action="submit", user=None,
                             by="demo-applicant")
        zone_id = session.scalar(select(Zone.id).where(Zone.code == province))
        session.execute(text(  # layout version 2 submitted: the approved one's geometry, uploaded again
            "INSERT INTO zone_version (zone_id, number, state, boundary, core, source_files, content_sha256, "
            "ingest_warnings, uploaded_by, effective_on, decided_by, decided_by_name) SELECT zone_id, 2, 'submitted', "
            "boundary, core, source_files, content_sha256, ingest_warnings, 'demo-applicant', effective_on, '', '' "
            "FROM zone_version WHERE zone_id = :z AND number = 1"), {"z": zone_id})
        for occurred in (today - dt.timedelta(days=60), today):  # one report overdue, one not yet
            changes.record_change(session=session, code=province, kind="operator", occurred_on=occurred,
                                  description="运营管理机构变更", rules=rules, calendar=WorkCalendar())
        wuxi_code = f"WLW-{province[-8:]}"
        wuxi = Zone(code=wuxi_code, name="无锡待评审集聚区", city="无锡市", builder="建设主体",
                    status="recommended", dates={}, four_sides={})
        session.add(wuxi)
        session.flush()
        session.add(LifecycleEvent(zone_id=wuxi.id, action="recommend", from_state="submitted", to_state="recommended",
                                   on_date=today, actor="wuxi-bureau", role="city", data={}))
    city = zone_in(engine, tmp / "c", "submitted", {}, prefix="WLC")
    applicant = zone_in(engine, tmp / "a", "draft", {}, prefix="WLA")
    expert = zone_in(engine, tmp / "e", "under_review", {}, prefix="WLE")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=applicant, username="demo-applicant", relation_="applicant")
        access.add_member(session=session, code=expert, username="expert-wang", relation_="expert")
    return {"province": province, "wuxi": wuxi_code, "city": city, "applicant": applicant, "expert": expert}


def check_page(page, name: str, width: int) -> None:
    assert page.locator("h1").count() == 1 and page.locator("h1").inner_text() == "待办事项"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert not (found := violations(page)), describe(found)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing scrolled sideways
    page.screenshot(path=str(ARTIFACTS / f"worklist-{name}.png"), full_page=True)


def row(page, code: str, kind: str):
    return page.locator(f'#worklist tr[data-zone="{code}"][data-kind="{kind}"]')


def open_action(page, base: str, code: str, kind: str, url: str, width: int) -> None:
    """The row is there; its 办理 button (a target big enough on a phone) opens ``url``, which answers."""
    target = row(page, code, kind)
    assert target.count() == 1, (code, kind)
    button = target.locator("a.act")
    assert button.get_attribute("href") == url
    box = button.bounding_box()
    assert box is not None and box["height"] >= (44 if width < 600 else 30) and box["x"] + box["width"] <= width
    with page.expect_navigation() as nav:
        button.click()
    assert page.url == f"{base}{url}" and nav.value is not None and nav.value.status < 400, (url, nav.value.status)


@pytest.mark.parametrize("size", SIZES)
def test_the_province_sees_versions_registers_and_narrows_the_list(browser, server, desk, size):  # noqa: F811
    tab = Offline(browser, **SIZES[size])
    page, width = tab.page, SIZES[size]["viewport"]["width"]
    code = desk["province"]
    try:
        login(page, server, "province-bureau")
        page.click("#nav-worklist")
        page.wait_for_url(f"{server}/worklist")
        version = row(page, code, "version_submitted")
        assert version.count() == 1 and "审批空间布局版本2" in version.inner_text()
        assert version.locator("a.act").get_attribute("href") == f"/zones/{code}/versions/2/decide"
        draft = row(page, code, "register_submitted")
        assert draft.count() == 1 and "机构名录1（12家）" in draft.inner_text()
        assert re.search(r"\d{4}-\d{2}-\d{2}", draft.locator("td[data-label='等待自']").inner_text())  # submitted on
        late = page.locator(f'#worklist tr[data-zone="{code}"][data-kind="change_report"][data-overdue="yes"]')
        due = page.locator(f'#worklist tr[data-zone="{code}"][data-kind="change_report"][data-overdue="no"]')
        assert late.count() == 1 and due.count() == 1
        red = late.locator("td.left .fail")
        assert re.fullmatch(r"逾期\d+个工作日", red.inner_text()) and red.evaluate(
            "e => getComputedStyle(e).color") == "rgb(198, 40, 40)"
        assert re.fullmatch(r"\d+个工作日", due.locator("td.left").inner_text())
        assert int(due.locator("td.left").inner_text().removesuffix("个工作日")) == 15  # recorded today: all 15 left
        counts = page.locator("#worklist-counts")
        assert "空间布局版本待审批" in counts.inner_text() and "机构名录待审批" in counts.inner_text()
        assert page.locator("#todo-count").inner_text() == str(page.locator("#worklist tbody tr").count())
        check_page(page, f"province-{size}", width)
        # 设区市: only 无锡市's zone
        page.select_option("#filter-city", "无锡市")
        page.click("#filter-submit")
        page.wait_for_load_state("load")
        assert "city=%E6%97%A0%E9%94%A1%E5%B8%82" in page.url
        assert page.locator("#filter-city").input_value() == "无锡市"  # kept in the form
        zones = set(page.locator("#worklist tbody tr").evaluate_all("rs => rs.map(r => r.dataset.zone)"))
        assert desk["wuxi"] in zones and code not in zones
        assert row(page, desk["wuxi"], "review_start").locator("a.act").get_attribute("href") == \
            f"/zones/{desk['wuxi']}/decide"
        # 状态 + 只看逾期 for every city: the overdue report only
        page.select_option("#filter-city", "")
        page.select_option("#filter-state", "construction")
        page.check("#filter-overdue")
        page.click("#filter-submit")
        page.wait_for_load_state("load")
        assert page.locator("#filter-overdue").is_checked() and page.locator("#filter-state").input_value() == \
            "construction"
        kinds = page.locator("#worklist tbody tr").evaluate_all(
            "rs => rs.map(r => [r.dataset.zone, r.dataset.kind, r.dataset.overdue])")
        assert [code, "change_report", "yes"] in kinds and all(k[2] == "yes" for k in kinds)
        assert not any(k[1] in ("version_submitted", "register_submitted") for k in kinds)
        check_page(page, f"province-filtered-{size}", width)
        page.click("#filter-clear")
        page.wait_for_url(f"{server}/worklist")
        open_action(page, server, code, "register_submitted", f"/zones/{code}/register-drafts/1", width)
        assert tab.blocked == []
        assert not tab.errors, tab.errors
    finally:
        tab.close()


# role → (username, the zone (desk key), kind, the action page)
ROLES = {
    "city": ("nanjing-bureau", "city", "application_recommend", "/zones/{code}/materials"),
    "applicant": ("demo-applicant", "applicant", "materials_missing", "/zones/{code}/materials"),
    "expert": ("expert-wang", "expert", "expert_review", "/zones/{code}/expert"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_finds_its_work_and_opens_it(browser, server, desk, role, size):  # noqa: F811
    username, key, kind, url = ROLES[role]
    code = desk[key]
    tab = Offline(browser, **SIZES[size])
    page, width = tab.page, SIZES[size]["viewport"]["width"]
    try:
        login(page, server, username)
        page.goto(f"{server}/worklist", wait_until="load")
        kinds = set(page.locator("#worklist tbody tr").evaluate_all("rs => rs.map(r => r.dataset.kind)"))
        assert kind in kinds
        # nothing the province decides shows up for the others
        assert not kinds & {"version_submitted", "register_submitted", "review_start", "acceptance_due"}
        assert page.locator("#filter-city").count() == 0  # the 设区市 filter is the province's
        assert page.locator("#todo-count").inner_text() == str(page.locator("#worklist tbody tr").count())
        check_page(page, f"{role}-{size}", width)
        open_action(page, server, code, kind, url.format(code=code), width)
        assert not tab.errors, tab.errors
    finally:
        tab.close()
