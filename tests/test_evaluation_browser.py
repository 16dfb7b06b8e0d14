"""综合评价 in Debian's Chromium with the network cut: an expert enters the five scores on a 390×844 phone (touch
targets of a finger's size, nothing wider than the screen), the city bureau and a second expert have scored, and the
province confirms the grade with its confirmation box at 1366×768 — each page free of serious axe-core violations,
nothing requested beyond this machine."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, PASSWORD
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.db.models import LifecycleEvent, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import evaluation as ev
from zonegeo.services import auth, evaluations

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


def checked(tab: Offline, name: str) -> None:
    page = tab.page
    assert not (v := violations(page)), describe(v)
    assert tab.blocked == [] and tab.errors == [], (tab.blocked[:5], tab.errors)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"evaluation-{name}.png"), timeout=60_000)


def test_an_expert_scores_on_a_phone_and_the_province_confirms(browser, server, engine, rules):  # noqa: F811
    with transaction(session_factory(engine)) as s:
        experts = [auth.add_user(session=s, username=f"ev-expert-{uuid.uuid4().hex[:6]}", password=PASSWORD,
                                 role="expert").username for _ in range(2)]
        code = f"EVB-{uuid.uuid4().hex[:8]}"
        s.add(Zone(code=code, name="浏览器评价集聚区", city="南京市", builder="建设主体", operator="运营单位",
                   status="operating", dates={"accepted_on": "2021-06-01"}, four_sides={}))
        s.flush()
        row = evaluations.create_round(session=s, user=auth.get_user(s, "province-bureau"), year=dt.date.today().year,
                                       rules=rules, zones=[code], experts=experts)
        round_id = row.id
        evaluations.enter_scores(session=s, user=auth.get_user(s, experts[1]), round_id=round_id, code=code,
                                 scores=dict.fromkeys(ev.DIMENSIONS, "60"))
        evaluations.enter_scores(session=s, user=auth.get_user(s, "nanjing-bureau"), round_id=round_id, code=code,
                                 scores=dict.fromkeys(ev.DIMENSIONS, "50"))
    sheet = f"{server}/evaluations/{round_id}/zones/{code}"

    tab = Offline(browser, locale="zh-CN", **PHONE)
    try:
        page = tab.page
        login(page, server, experts[0])
        page.goto(f"{server}/evaluations", wait_until="load")
        assert page.locator("#create").count() == 0  # the province's form only
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        checked(tab, "expert-phone-list")
        page.click(f"tr[data-round='{round_id}'] a")
        page.wait_for_url(f"{server}/evaluations/{round_id}")
        assert page.locator("#exports").count() == 0 and page.locator("#expert-select").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        checked(tab, "expert-phone-round")
        page.click(f"tr[data-zone='{code}'] a")
        page.wait_for_url(sheet)
        assert page.locator("#confirm").count() == 0 and page.locator("#participation").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        for d in ev.DIMENSIONS:
            field = page.locator(f"#score-{d}")
            box = field.bounding_box()
            assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390
        checked(tab, "expert-phone-before")
        values = {"institutions": "70", "functions": "65.5", "management": "58", "policy": "62", "industry": "61.25"}
        for d, v in values.items():
            page.fill(f"#score-{d}", v)
        page.locator("#scores-submit").click()
        page.wait_for_url(f"{sheet}#sheet")
        assert page.locator("#flash").inner_text() == "评分已保存"
        # 独立评分: the expert sees its own scores, not the others', nor a total, until the province confirms
        assert page.locator("#score-functions").input_value() == "65.50"
        assert page.locator("#sealed").is_visible() and page.locator("#dimension-table").count() == 0
        assert page.locator("#total").inner_text() == "—"
        assert page.locator("#computed-grade").inner_text() == "确认前不公开"
        checked(tab, "expert-phone-after")
    finally:
        tab.close()

    tab = Offline(browser, locale="zh-CN", **DESKTOP)
    try:
        page = tab.page
        login(page, server, "province-bureau")
        page.goto(f"{server}/evaluations", wait_until="load")
        assert page.locator(f"#create input[name=zones][value='{code}']").count() == 1
        checked(tab, "province-list")
        page.goto(sheet, wait_until="load")
        assert page.locator("#scores").count() == 0 and page.locator("#sealed").count() == 0
        # experts' mean of (70, 60) = 65 → 0.8 × 65 + 0.2 × 50 = 62.00 for 机构集聚效果
        assert page.locator("tr[data-dimension='institutions'] td").nth(2).inner_text() == "62.00"
        # each dimension: 0.8 × mean + 0.2 × 50; total = mean of the five: (62 + 60.2 + 57.2 + 58.8 + 58.5) / 5
        assert page.locator("#total").inner_text() == "59.34"
        assert page.locator("#computed-grade").get_attribute("data-grade") == "fail"
        mine = page.locator(f"#scorer-table tr[data-scorer='{experts[0]}'] td")
        assert mine.all_inner_texts() == ["70.00", "65.50", "58.00", "62.00", "61.25"]
        assert page.locator("#scorer-table tbody tr").count() == 3  # two experts and the city bureau
        checked(tab, "province-before")
        page.fill("#confirm-months", "4")
        page.locator("#confirm-submit").click()  # the box not ticked: refused, nothing recorded
        page.wait_for_url(f"{sheet}#sheet")
        assert "请先勾选确认" in page.locator("#flash").inner_text()
        assert page.locator("#confirmed-grade").get_attribute("data-grade") == ""
        page.fill("#confirm-months", "4")
        page.check("#confirm-box")
        page.locator("#confirm-submit").click()
        page.wait_for_url(f"{sheet}#sheet")
        assert page.locator("#flash").inner_text() == "已确认评价结果：不合格；集聚区当前状态：运行整改期"
        assert page.locator("#confirmed-grade").get_attribute("data-grade") == "fail"
        assert page.locator("#confirm").count() == 0
        checked(tab, "province-after")
    finally:
        tab.close()
    with transaction(session_factory(engine)) as s:
        zone = s.scalars(select(Zone).where(Zone.code == code)).one()
        event = s.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == zone.id)).one()
        assert (zone.status, event.data["grade"], event.data["rectification_months"]) == ("rectifying", "fail", 4)
        assert zone.dates["rectification_ends"] >= dt.date.today().isoformat()
