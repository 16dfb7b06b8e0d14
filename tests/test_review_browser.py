"""The 人工审核 page in a real headless Chromium (Debian's), with every request off this machine blocked:
an expert records items through the CSRF-protected form; the province confirms a proposed revocation."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD
from tests.test_browser import LOCAL, browser, server  # noqa: F401  (fixtures)
from tests.test_lifecycle_edges_api import zone_in
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access

pytestmark = pytest.mark.browser


@pytest.fixture
def tab(browser):  # noqa: F811
    """A phone-sized page whose requests never leave this machine (aborted and remembered)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "about:")) or urlparse(url).hostname in LOCAL:
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    yield page
    context.close()
    assert blocked == [], blocked


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login", wait_until="load")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}/")


def record(page, item: str, result: str, note: str = "") -> None:
    page.select_option("#review-item", item)
    page.select_option("#review-result", result)
    page.fill("#review-note", note)
    page.click("#review-submit")
    page.wait_for_load_state("load")


def test_an_expert_records_every_item_on_the_page(tab, server, engine, tmp_path, rules):  # noqa: F811
    code = zone_in(engine, tmp_path, "under_review", {}, prefix="WEB")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
    login(tab, server, "expert-wang")
    tab.goto(f"{server}/zones/{code}/review", wait_until="load")
    assert tab.locator("h1").inner_text() == "需人工审核事项"
    assert tab.locator("#review-items tbody tr").count() == len(rules.manual_review)
    assert "已有结论 0 / 6 项" in tab.locator("#progress").inner_text()
    record(tab, "management", "needs_more")  # no note: refused, nothing stored
    assert "说明" in tab.locator("#error").inner_text()
    assert tab.locator('tr[data-item="management"]').get_attribute("data-result") == ""
    record(tab, "management", "needs_more", "请补充管理人员名单")
    assert "已记录：管理科学高效 — 需补充" in tab.locator("#message").inner_text()
    row = tab.locator('tr[data-item="management"]')
    assert row.get_attribute("data-result") == "needs_more" and "expert-wang" in row.inner_text()
    for item in rules.manual_review:
        record(tab, item.id, "meets", "")
    assert "全部已记录" in tab.locator("#progress").inner_text()
    assert "已有结论 6 / 6 项" in tab.locator("#progress").inner_text()
    # the form is CSRF-protected: a post without the token from the page is refused and stores nothing
    forged = tab.request.post(f"{server}/zones/{code}/review", form={"item": "management", "result": "fails",
                                                                     "note": "伪造", "csrf": "wrong"})
    assert forged.status == 403
    tab.reload(wait_until="load")
    assert tab.locator('tr[data-item="management"]').get_attribute("data-result") == "meets"


def test_the_province_confirms_a_proposed_revocation_on_the_page(tab, server, client, engine, tmp_path):  # noqa: F811
    code = zone_in(engine, tmp_path, "rectification", {"approved_on": "2021-10-11", "construction_ends": "2023-10-11",
                                                       "rectification_ends": "2024-04-11"}, prefix="WEB")
    r = client.post(f"/api/zones/{code}/lifecycle/accept", json={"on": "2024-04-10", "data": {"result": "不合格"}})
    assert r.json()["state"] == "revocation_proposed"
    login(tab, server, "province-bureau")
    tab.goto(f"{server}/worklist", wait_until="load")
    tab.click(f'#worklist tr[data-kind="revocation_confirm"] a[href="/zones/{code}/review"]')
    tab.wait_for_url(f"{server}/zones/{code}/review")
    assert "验收不合格或者连续两年绩效评价不合格" in tab.locator("#proposal-reason").inner_text()
    assert "拟取消称号" in tab.locator("#zone-state").inner_text()
    tab.click("#decline-revocation")  # declining needs a reason
    tab.wait_for_load_state("load")
    assert "不予取消称号须说明理由" in tab.locator("#error").inner_text()
    assert "拟取消称号" in tab.locator("#zone-state").inner_text()
    tab.click("#confirm-revocation")
    tab.wait_for_load_state("load")
    assert "已确认取消称号" in tab.locator("#message").inner_text()
    assert tab.locator("#zone-state").inner_text() == "已取消称号"
    assert tab.locator("#proposal").count() == 0
    assert client.get(f"/api/zones/{code}").json()["status"] == "revoked"
