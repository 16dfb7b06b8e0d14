"""The upload page in Chromium: each file is stored under the role of its own row, whichever rows are left empty,
and a refused upload keeps every choice the applicant made."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import ARTIFACTS, DEMO, import_demo_copy
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def newest_version(engine, code):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT v.number, ST_AsText(v.boundary) AS boundary, ST_AsText(v.core) AS core, v.source_files "
            "FROM zone_version v JOIN zone z ON z.id = v.zone_id WHERE z.code = :c ORDER BY v.number DESC LIMIT 1"),
            {"c": code}).one()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_core_only_upload_is_stored_as_the_core(browser, server, engine, tmp_path, size):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "FORM")
    before = newest_version(engine, code)
    tab = Offline(browser, viewport=SIZES[size], is_mobile=size == "phone")
    login(tab.page, server)
    tab.page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    tab.page.set_input_files("#file-core", str(DEMO / "core.geojson"))
    tab.page.select_option("#crs-core", "EPSG:4490")  # lon/lat: the page asks unless the source is chosen
    tab.page.click("#submit")
    tab.page.wait_for_selector("#result")
    tab.page.screenshot(path=str(ARTIFACTS / f"upload-core-only-{size}.png"), full_page=True)
    after = newest_version(engine, code)
    assert after.number == before.number + 1
    assert after.boundary == before.boundary  # carried over, not replaced by the core
    roles = {i["role"]: i for i in after.source_files}
    assert roles["core"]["file"] == "core.geojson" and "carried_from_version" in roles["boundary"]
    tab.close()


def test_an_institutions_only_upload_is_read_as_institutions(browser, server, engine, tmp_path):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "FORMI")
    tab = Offline(browser, viewport=SIZES["desktop"])
    login(tab.page, server)
    tab.page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    tab.page.set_input_files("#file-institutions", str(DEMO / "institutions.csv"))
    tab.page.select_option("#crs-institutions", "EPSG:4490")
    tab.page.click("#submit")
    # an institutions-only upload makes a register draft, shown on its own page
    tab.page.wait_for_url("**/register-drafts/*")
    assert tab.page.locator("#findings").count() == 0
    assert "边界自相交" not in tab.page.content()
    tab.close()


def test_a_refused_upload_keeps_every_choice(browser, server, engine, tmp_path):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "FORMK")
    bad = tmp_path / "四至.csv"
    bad.write_text("点号,X,Y\nJ1,3545000,375000\nJ2,3545100,375000\n", encoding="utf-8")
    tab = Offline(browser, viewport=SIZES["phone"], is_mobile=True)
    login(tab.page, server)
    tab.page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    tab.page.set_input_files("#file-boundary", str(bad))
    tab.page.select_option("#crs-boundary", "EPSG:4549")
    tab.page.select_option("#crs-institutions", "gcj02")
    tab.page.check("input[name=repair]")
    tab.page.click("#submit")
    tab.page.wait_for_selector("#findings")
    assert tab.page.input_value("#crs-boundary") == "EPSG:4549"
    assert tab.page.input_value("#crs-institutions") == "gcj02"
    assert tab.page.is_checked("input[name=repair]")
    tab.close()


def test_refreshing_after_an_upload_makes_no_second_draft(browser, server, engine, tmp_path):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "PRG")
    tab = Offline(browser, viewport=SIZES["desktop"])
    login(tab.page, server)
    tab.page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    tab.page.set_input_files("#file-core", str(DEMO / "core.geojson"))
    tab.page.select_option("#crs-core", "EPSG:4490")  # lon/lat: the page asks unless the source is chosen
    tab.page.click("#submit")
    tab.page.wait_for_selector("#result")
    assert tab.page.url.endswith(f"/zones/{code}/upload?draft=2")  # Post/Redirect/Get
    tab.page.reload(wait_until="load")
    assert "草稿版本 2" in tab.page.locator("#result").inner_text()
    # the same file chosen again and sent again: the draft it made, not a third version
    tab.page.set_input_files("#file-core", str(DEMO / "core.geojson"))
    tab.page.select_option("#crs-core", "EPSG:4490")  # lon/lat: the page asks unless the source is chosen
    tab.page.click("#submit")
    tab.page.wait_for_selector("#result")
    assert tab.page.url.endswith("?draft=2")
    assert newest_version(engine, code).number == 2
    tab.close()
