"""The expert desk in a real headless Chromium at 390×844 with every request off this machine blocked: from the
header's 评审工作台 to the zone's form, 答辩 and 实地考察 filled in apart with two 需人工审核 items, stored (database
checked); a refused form keeps nothing and says why; axe finds nothing serious."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tests.axe import describe, violations
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_lifecycle_edges_api import zone_in
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "has_touch": True, "is_mobile": True}


def opinion_rows(engine, code: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT o.expert, o.recommend, o.hearing_on, o.hearing_recommend, o.inspection_on, o.inspection_recommend, "
            "o.inspection_opinion FROM expert_opinion o JOIN zone z ON z.id = o.zone_id WHERE z.code = :c"), {"c": code})]


def test_the_expert_fills_the_opinion_form_on_a_phone(browser, server, engine, tmp_path):  # noqa: F811
    code = zone_in(engine, tmp_path, "under_review", {}, prefix="DESKB")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
    tab = Offline(browser, **PHONE)
    page = tab.page
    login(page, server, "expert-wang")
    page.click("#nav-expert")
    page.wait_for_url(f"{server}/expert")
    found = violations(page)
    assert found == [], describe(found)
    page.click(f'#assigned tr[data-code="{code}"] a[href="/zones/{code}/expert"]')
    page.wait_for_url(f"{server}/zones/{code}/expert")
    found = violations(page)
    assert found == [], describe(found)
    assert page.evaluate("document.documentElement.scrollWidth <= 390")

    today = dt.date.today().isoformat()
    page.fill("#hearing-on", today)
    page.fill("#hearing-opinion", "答辩陈述清楚")
    page.check("#hearing-recommend-yes")
    page.fill("#inspection-opinion", "三家机构不在位")  # no date: refused, nothing kept
    page.check("#inspection-recommend-no")
    page.fill("#overall-opinion", "建议补充材料后推荐")
    page.check("#recommend-yes")
    page.select_option("#item-management", "meets")
    page.select_option("#item-institution_nature", "needs_more")
    page.fill("#note-institution_nature", "核实三家机构的营业执照")
    page.click("#opinion-submit")
    page.wait_for_load_state("load")
    assert "实地考察：请填写日期" in page.locator("#result").inner_text()
    assert opinion_rows(engine, code) == []

    # the refused form comes back as typed: only the missing date is added
    assert page.input_value("#inspection-opinion") == "三家机构不在位"
    assert page.input_value("#note-institution_nature") == "核实三家机构的营业执照"
    assert page.is_checked("#hearing-recommend-yes") and page.input_value("#item-management") == "meets"
    page.fill("#inspection-on", today)
    page.click("#opinion-submit")
    page.wait_for_load_state("load")
    assert "已提交评审意见（推荐）" in page.locator("#result").inner_text()
    day = dt.date.today()
    assert opinion_rows(engine, code) == [("expert-wang", True, day, True, day, False, "三家机构不在位")]
    assert page.locator('.item[data-item="institution_nature"]').get_attribute("data-result") == "needs_more"
    assert "三家机构不在位" in page.locator(".opinion-record").inner_text()
    # the refused form's page came with status 422, which Chromium logs; nothing else went wrong
    assert [e for e in tab.errors if "status of 422" not in e] == [] and tab.blocked == []
    tab.close()
