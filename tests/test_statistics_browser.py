"""/statistics in a real headless Chromium with every request off this machine blocked: the Chart.js charts draw
(canvas pixels), no console errors, no request leaves the machine, the map shows the zones, and axe finds nothing
serious, at desktop and phone width; /exports passes axe too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, login, serve  # noqa: F401  (the browser fixture)
from zonegeo.api.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHARTS = ("states", "areas", "chains", "kinds", "changes", "grades", "years")
# the number of non-transparent pixels of a canvas: 0 when nothing was drawn
PAINTED = """(id) => { const c = document.getElementById(id); const d = c.getContext('2d')
  .getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; }
  return n; }"""


@pytest.fixture(scope="module")
def server(settings, demo_zone, tokens) -> Iterator[str]:
    """The app with no base map (an isolated network), so that nothing on the page asks for tiles."""
    yield from serve(create_app(settings.model_copy(update={"tiles": ""})))


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_the_charts_draw_offline_and_the_page_passes_axe(browser, server, viewport):  # noqa: F811
    tab = Offline(browser, viewport=viewport)
    try:
        page = tab.page
        login(page, server)
        page.goto(f"{server}/statistics", wait_until="load")
        page.wait_for_selector("html[data-charts='7']", timeout=15_000)
        for name in CHARTS:
            canvas = page.locator(f"#chart-{name}")
            assert canvas.get_attribute("data-drawn"), name
            assert page.evaluate(PAINTED, f"chart-{name}") > 100, name  # axes, labels and bars are drawn
            assert canvas.bounding_box()["width"] <= viewport["width"], name
        # the map frame shows the zones coloured by state
        frame = page.frame_locator("#stat-map")
        # a visible zone (in the session's database some test zones are a few metres wide: drawn, but not visible)
        frame.locator("path.leaflet-interactive").filter(visible=True).first.wait_for(timeout=15_000)
        assert frame.locator("#zg-legend").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#chart-states").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"statistics-{viewport['width']}.png"))
        found = violations(page)
        assert not found, describe(found)
        assert tab.errors == [], tab.errors
        assert tab.blocked == [], tab.blocked  # nothing asked of another machine: no CDN, no tiles
    finally:
        tab.close()


def test_the_exports_page_passes_axe_and_its_links_download(browser, server):  # noqa: F811
    tab = Offline(browser, viewport={"width": 390, "height": 844})
    try:
        page = tab.page
        login(page, server)
        page.goto(f"{server}/exports", wait_until="load")
        found = violations(page)
        assert not found, describe(found)
        with page.expect_download() as info:
            page.click("#export-zones-xlsx")
        assert info.value.suggested_filename.startswith("集聚区名录-全省-")
        assert page.locator("#one-zone-gpkg").bounding_box()["height"] >= 44
        assert tab.errors == [] and tab.blocked == []
    finally:
        tab.close()
