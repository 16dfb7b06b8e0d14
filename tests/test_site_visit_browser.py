"""The site visit on a phone (390×844) in a real headless Chromium, with every request off this machine blocked: the
expert marks institutions and a building with the network cut, sees them waiting (待发送), reloads the page offline
(the service worker keeps it), goes back online and finds each finding stored exactly once in the database."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import text

from tests.axe import describe, violations
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_lifecycle_edges_api import zone_in
from tests.test_site_visit import jpeg
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "has_touch": True, "is_mobile": True}


@pytest.fixture
def zone(engine, tmp_path) -> str:
    code = zone_in(engine, tmp_path, "under_review", {}, prefix="VISITB")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
    return code


def stored(engine, code: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT f.client_id, f.target_kind, f.status, f.observed_use, f.photo_distance_m IS NOT NULL, f.recorded_by "
            "FROM site_visit_finding f JOIN site_visit v ON v.id = f.visit_id JOIN zone z ON z.id = v.zone_id "
            "WHERE z.code = :c ORDER BY f.id"), {"c": code})]


def until(page, script: str, timeout_s: float = 30) -> None:
    """Poll ``script`` (evaluated through the debugging protocol, which the page's CSP does not govern)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            pytest.fail(f"not true after {timeout_s} s: {script}")
        time.sleep(0.2)


def cards(page, kind: str):
    return page.locator(f'section.target[data-kind="{kind}"]')


def test_findings_marked_offline_are_sent_once_when_the_network_returns(browser, server, engine, zone):  # noqa: F811
    tab = Offline(browser, **PHONE)
    page = tab.page
    login(page, server, "expert-wang")
    page.goto(f"{server}/zones/{zone}/visit", wait_until="load")
    assert page.locator("h1").inner_text() == "实地考察"
    # the service worker keeps the page, its map and its script before the network goes
    until(page, """async () => {
        if (!navigator.serviceWorker.controller) return false;
        const keys = await (await caches.open('zonegeo-visit-v1')).keys();
        return keys.length >= 3; }""")
    first, second = cards(page, "institution").nth(0), cards(page, "institution").nth(1)
    building = cards(page, "building").nth(0)
    lon, lat = 118.7, 32.0  # the photo's EXIF position

    tab.context.set_offline(True)
    first.locator("label.choice", has_text="在位").first.click()
    first.locator(".save").click()
    second.locator("label.choice", has_text="不在位").click()
    second.locator(".f-note").fill("门牌已更换")
    second.locator(".f-photo").set_input_files({"name": "IMG_0002.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg(lon, lat)})
    second.locator(".save").click()
    building.locator(".f-use").fill("知识产权服务机构办公")
    building.locator(".save").click()
    expect(page.locator("#pending-count")).to_have_text("3")
    assert "离线" in page.locator("#net-state").inner_text()
    assert "待发送" in second.locator(".local").inner_text() and "不在位" in second.locator(".local").inner_text()
    assert stored(engine, zone) == []

    # offline: a page the worker does not keep fails, the visit page reloads from the worker with its queue
    other = tab.context.new_page()
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        other.goto(f"{server}/zones/{zone}", wait_until="load", timeout=10000)
    other.close()
    page.reload(wait_until="load")
    assert page.locator("h1").inner_text() == "实地考察"
    expect(page.frame_locator("iframe.visit-map").locator(".leaflet-container")).to_have_count(1)  # the map too
    expect(page.locator("#pending-count")).to_have_text("3")

    tab.context.set_offline(False)
    expect(page.locator("#pending-count")).to_have_text("0", timeout=30000)
    rows = stored(engine, zone)
    assert len(rows) == 3 and len({r[0] for r in rows}) == 3
    assert sorted((r[1], r[2], r[3], r[4]) for r in rows) == [
        ("building", "", "知识产权服务机构办公", False), ("institution", "absent", "", True),
        ("institution", "present", "", False)]
    assert {r[5] for r in rows} == {"expert-wang"}
    assert "已保存" in second.locator(".local").inner_text()

    # the phone sends a finding again (e.g. the answer was lost): stored once, shown as not repeated
    page.evaluate("""async (row) => {
        const db = await new Promise((ok, no) => { const r = indexedDB.open('zonegeo-visit', 1);
                                                   r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
        await new Promise((ok, no) => { const tx = db.transaction('queue', 'readwrite');
            tx.objectStore('queue').put(row); tx.oncomplete = ok; tx.onerror = () => no(tx.error); });
    }""", {"client_id": next(r[0] for r in rows if r[2] == "present"), "code": zone, "user": "expert-wang",
           "target_kind": "institution",
           "target_id": first.get_attribute("data-id"), "status": "present", "observed_use": "", "note": "",
           "observed_at": "2026-01-01T10:00:00+08:00", "photo": None, "photo_name": "", "error": None})
    page.click("#sync-now")
    expect(first.locator(".local")).to_contain_text("未重复", timeout=20000)
    expect(page.locator("#pending-count")).to_have_text("0")
    assert len(stored(engine, zone)) == 3
    assert tab.errors == [], tab.errors
    tab.close()


def test_the_visit_page_passes_axe_at_390_px_and_targets_are_44_px(browser, server, zone):  # noqa: F811
    tab = Offline(browser, **PHONE)
    page = tab.page
    login(page, server, "expert-wang")
    page.goto(f"{server}/zones/{zone}/visit", wait_until="load")
    found = violations(page)
    assert found == [], describe(found)
    small = page.evaluate("""() => [...document.querySelectorAll('main label.choice, main button, main .f-use, '
        + 'main .f-note, main .f-photo')].filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML)""")
    assert small == []
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    tab.close()


def test_the_province_reads_the_visit_and_sees_no_buttons(browser, server, client, tokens, zone):  # noqa: F811
    from tests.conftest import bearer

    r = client.post(f"/api/zones/{zone}/visit/findings", headers=bearer(tokens, "expert"),
                    data={"client_id": uuid.uuid4().hex, "target_kind": "institution", "status": "present",
                          "target_id": "0", "observed_at": "2026-01-01T10:00:00+08:00"})
    assert r.status_code == 422  # institution 0 is nobody's: the page below shows no finding
    tab = Offline(browser, **PHONE)
    page = tab.page
    login(page, server, "province-bureau")
    page.goto(f"{server}/zones/{zone}/visit", wait_until="load")
    assert page.locator("#visit-readonly").count() == 1
    assert page.locator(".save").count() == 0 and page.locator("#pending-count").count() == 0
    page.goto(f"{server}/zones/{zone}", wait_until="load")
    assert page.locator("#site-visits").count() == 1
    tab.close()


def test_a_finding_the_server_refuses_stays_on_the_phone_with_the_reason(browser, server, engine, zone):  # noqa: F811
    tab = Offline(browser, **PHONE)
    page = tab.page
    login(page, server, "expert-wang")
    page.goto(f"{server}/zones/{zone}/visit", wait_until="load")
    card = cards(page, "institution").nth(0)
    tab.context.set_offline(True)
    card.locator("label.choice", has_text="未核实").click()
    card.locator(".save").click()
    expect(page.locator("#pending-count")).to_have_text("1")
    with engine.begin() as conn:  # meanwhile the province closes the review
        conn.execute(text("UPDATE zone SET status = 'construction' WHERE code = :c"), {"c": zone})
    tab.context.set_offline(False)
    expect(card.locator(".local")).to_contain_text("未能保存", timeout=30000)
    assert "建设期" in card.locator(".local").inner_text()
    expect(page.locator("#pending-count")).to_have_text("0")
    kept = page.evaluate("""async () => {
        const db = await new Promise(ok => { const r = indexedDB.open('zonegeo-visit', 1); r.onsuccess = () => ok(r.result); });
        return await new Promise(ok => { const q = db.transaction('queue').objectStore('queue').getAll();
                                         q.onsuccess = () => ok(q.result.map(i => [i.status, i.error])); });
    }""")
    assert len(kept) == 1 and kept[0][0] == "unverified" and "建设期" in kept[0][1]
    assert stored(engine, zone) == []
    tab.close()
