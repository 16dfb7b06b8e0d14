"""Placing institutions on the register draft's page in Chromium (network cut), at 1366×768 and 390×844: an
upload kept one row unlocated and geocoded another (through a local stand-in for 天地图); the page lists them
first, each with a small map of the zone (no tiles); submitting is refused until the applicant places the one by a
click on the map and confirms the other. Without JavaScript the longitude/latitude inputs do the same."""

from __future__ import annotations

import pytest
from shapely.geometry import Point
from sqlalchemy import select

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, DEMO, import_demo_copy
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_geocoder import coder, stand_in  # noqa: F401  (the stand-in geocoder)
from zonegeo.db.models import RegisterDraft, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access
from zonegeo.services.uploads import UploadedFile, upload_version

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}


def zone_with_unplaced_rows(engine, tmp_path, rules, prefix: str, geocoder_url: str) -> str:
    """Register draft 1 of a new demo zone: 甲 placed by its 楼栋, 乙 geocoded (to confirm), 丙 unlocated."""
    code = import_demo_copy(engine, tmp_path, prefix)
    path = tmp_path / "入驻机构名录.csv"
    path.write_text("名称,统一社会信用代码,地址,楼栋\n甲知识产权代理所,,南京市建邺区示例路100号,A座 知识产权大厦\n"
                    "乙专利事务所,,南京市建邺区示例路100号,\n丙商标代理公司,,状态错误路8号,Z座\n", encoding="utf-8")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="demo-applicant", relation_="applicant")
        result = upload_version(session=session, code=code, rules=rules, uploaded_by="demo-applicant",
                                files=[UploadedFile(path, path.name, "institutions")], geocoder=coder(geocoder_url))
    assert result.register_draft == 1
    return code


def rows_of(engine, code) -> list[dict]:
    with engine.connect() as conn:
        return conn.scalar(select(RegisterDraft.rows).join(Zone, Zone.id == RegisterDraft.zone_id)
                           .where(Zone.code == code, RegisterDraft.number == 1))


def check_page(page, name: str) -> None:
    assert page.locator("h1").count() == 1
    assert not (found := violations(page)), describe(found)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_placing_by_click_and_confirming_then_submitting(browser, server, engine, tmp_path, rules,  # noqa: F811
                                                         stand_in, size):  # noqa: F811
    code = zone_with_unplaced_rows(engine, tmp_path, rules, f"PL{size[0].upper()}", stand_in)
    url = f"{server}/zones/{code}/register-drafts/1"
    ARTIFACTS.mkdir(exist_ok=True)
    applicant = Offline(browser, **SIZES[size])
    page = applicant.page
    login(page, server, "demo-applicant")
    page.goto(url, wait_until="load")
    # the rows to place or confirm come first: 丙 unlocated, then 乙 geocoded
    cards = page.locator("#placing .place-row")
    assert [cards.nth(k).get_attribute("data-state") for k in range(cards.count())] == ["unlocated", "unconfirmed"]
    assert "丙商标代理公司" in cards.nth(0).inner_text() and "状态101" in cards.nth(0).inner_text()
    assert "乙专利事务所" in cards.nth(1).inner_text() and "118.735200, 32.005800" in cards.nth(1).inner_text()
    assert "1家机构尚未定位，未计入" in page.inner_text("#not-counted")
    assert page.locator("#register-rows tr[data-located-by=unlocated] td").nth(5).inner_text() == "未定位，未计入"
    page.wait_for_selector("#place-map-3[data-ready=true]")
    page.wait_for_selector("#place-map-2[data-ready=true]")
    # the zone's 四至 and buildings are drawn on a blank background; the geocoded point is marked
    assert page.locator("#place-map-3 path.leaflet-interactive").count() >= 2
    assert page.locator("#place-map-2 path.leaflet-interactive").count() >= 3
    assert page.locator("#place-map-3 img.leaflet-tile").count() == 0
    check_page(page, f"place-before-{size}")
    page.click("#action-submit")
    page.wait_for_selector("#flash[data-kind=error]")
    assert page.get_attribute("#flash", "data-code") == "register_rows_unresolved"
    assert "尚未定位" in page.inner_text("#flash") and "尚未确认" in page.inner_text("#flash")
    # a click on the map sets the point, then the button saves it
    page.locator("#place-map-3").scroll_into_view_if_needed()
    box = page.locator("#place-map-3").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lon, lat = float(page.input_value("#lon-3")), float(page.input_value("#lat-3"))
    assert page.get_attribute("#place-map-3", "data-clicked") == "true"
    assert page.inner_text("#place-3") == "保存此位置"
    page.click("#place-3")
    page.wait_for_selector("#flash[data-kind=ok]")
    assert "已在地图上放置" in page.inner_text("#flash") and "还有1家" in page.inner_text("#flash")
    placed = rows_of(engine, code)[2]
    assert (placed["located_by"], placed["lon"], placed["lat"]) == ("map", round(lon, 7), round(lat, 7))
    # the click was in the middle of the zone's map: inside its 四至 (the demo's boundary box)
    assert Point(lon, lat).within(Point(118.7352, 32.0059).buffer(0.003))
    page.click("#confirm-2")
    page.wait_for_selector("#flash[data-kind=ok]")
    assert "已确认" in page.inner_text("#flash") and "全部机构均已定位" in page.inner_text("#flash")
    assert page.locator("#placing").count() == 0
    labels = page.locator("#register-rows tbody tr td:nth-child(5)").all_inner_texts()
    assert labels == ["按楼栋定位", "按地址定位（天地图）", "在地图上放置"]
    check_page(page, f"place-after-{size}")
    page.click("#action-submit")
    page.wait_for_selector("#flash[data-kind=ok]")
    assert page.inner_text("#register-state") == "已提交"
    assert applicant.errors == [] and applicant.blocked == []
    applicant.close()


def test_without_javascript_the_point_is_typed(browser, server, engine, tmp_path, rules, stand_in):  # noqa: F811
    code = zone_with_unplaced_rows(engine, tmp_path, rules, "PLN", stand_in)
    offline = Offline(browser, viewport={"width": 1366, "height": 768}, java_script_enabled=False)
    page = offline.page
    login(page, server, "demo-applicant")
    page.goto(f"{server}/zones/{code}/register-drafts/1", wait_until="load")
    page.fill("#lon-3", "0")
    page.fill("#lat-3", "0")
    page.click("#place-3")  # min/max on the inputs: the browser asks for a value in range, nothing is sent
    assert rows_of(engine, code)[2]["lon"] is None
    page.fill("#lon-3", "118.7351")
    page.fill("#lat-3", "32.0061")
    page.click("#place-3")
    page.wait_for_selector("#flash[data-kind=ok]")
    assert (rows_of(engine, code)[2]["lon"], rows_of(engine, code)[2]["located_by"]) == (118.7351, "map")
    assert offline.blocked == []
    offline.close()


__all__ = ["DEMO"]


def test_names_from_uploaded_files_are_text_in_the_map_tooltips(browser, server, engine, tmp_path, rules,  # noqa: F811
                                                                stand_in):  # noqa: F811
    """A building name is the applicant's text: written into a tooltip as text, never as HTML."""
    from sqlalchemy import text

    code = zone_with_unplaced_rows(engine, tmp_path, rules, "PLX", stand_in)
    name = '<img id="injected" src="x.png">A座'
    with engine.begin() as conn:
        conn.execute(text("UPDATE building SET name = :n WHERE version_id IN (SELECT v.id FROM zone_version v "
                          "JOIN zone z ON z.id = v.zone_id WHERE z.code = :c)"), {"n": name, "c": code})
    tab = Offline(browser, viewport={"width": 1366, "height": 768})
    page = tab.page
    login(page, server, "province-bureau")
    page.goto(f"{server}/zones/{code}/register-drafts/1", wait_until="load")
    page.wait_for_selector("#place-map-3[data-ready=true]")
    buildings = page.locator("#place-map-3 path.leaflet-interactive")
    shown = []
    for k in reversed(range(buildings.count())):  # buildings are drawn above the 四至: hover until one answers
        buildings.nth(k).hover(force=True)
        shown = page.locator(".leaflet-tooltip").all_inner_texts()
        if any("A座" in t for t in shown):
            break
    assert name in shown, shown
    assert page.locator("#injected").count() == 0
    tab.close()
