"""Pages and maps opened in a real headless Chromium, with every request off this machine blocked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import uvicorn

from tests.conftest import ARTIFACTS, DEMO, import_demo_copy
from zonegeo.api.app import create_app
from zonegeo.ingest.plan import read_zone_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
# Paths of the main map's overlays (the minimap has an overlay pane of its own).
OVERLAY_PATHS = ".folium-map > .leaflet-map-pane .leaflet-overlay-pane path.leaflet-interactive"
LOCAL = {"127.0.0.1", "localhost", ""}


def serve(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port in a thread; yields its base URL, stops it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(settings, demo_zone, tokens) -> Iterator[str]:
    yield from serve(create_app(settings))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield b
        b.close()


def login(page, server: str, username: str = "province-bureau") -> None:
    """Log in through the login form, as a person would."""
    from tests.conftest import PASSWORD

    page.goto(f"{server}/login", wait_until="load")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{server}/")


class Offline:
    """A page whose requests leave this machine never: they are aborted and remembered."""

    def __init__(self, browser, **context):
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _route(self, route):
        url = route.request.url
        if url.startswith(("data:", "file:", "about:")) or urlparse(url).hostname in LOCAL:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, msg):
        if msg.type != "error":
            return
        source = (msg.location or {}).get("url", "")
        if source and urlparse(source).hostname not in LOCAL:
            return  # a blocked tile: expected with no network
        if "Failed to load resource" in msg.text and any(self.blocked):
            return
        self.errors.append(msg.text)

    def close(self):
        self.context.close()


def open_map(browser, server, **context) -> Offline:
    """A logged-in tab showing the demo zone's reviewer map."""
    tab = Offline(browser, **({"viewport": {"width": 1100, "height": 800}} | context))
    login(tab.page, server)
    tab.page.goto(f"{server}/zones/NJ-DEMO-01/map", wait_until="load")
    return tab


def _expected_counts():
    plan = read_zone_dir(DEMO).read.plan
    institutions = sum(not i.kind.is_platform for i in plan.institutions)
    platforms = sum(i.kind.is_platform for i in plan.institutions)
    return len(plan.buildings), institutions, platforms


def test_zone_map_renders_every_overlay_and_popups_open(browser, server):
    tab = open_map(browser, server)
    page = tab.page
    page.wait_for_selector(".leaflet-overlay-pane path")
    buildings, institutions, platforms = _expected_counts()
    # boundary + core + buildings + institution circle markers, all SVG paths
    assert page.locator(OVERLAY_PATHS).count() == 2 + buildings + institutions
    assert page.locator(".zg-platform").count() == platforms
    assert "河西知识产权服务业集聚区" in page.locator(".zg-title").inner_text()
    assert "图例" in page.locator(".zg-legend").inner_text()
    page.locator(".zg-platform").first.click()
    page.wait_for_selector(".leaflet-popup-content")
    assert "快速维权中心" in page.locator(".leaflet-popup-content").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "zone-map.png"))
    assert tab.blocked and all(urlparse(u).hostname == "tile.openstreetmap.org" for u in tab.blocked), tab.blocked
    assert tab.errors == []
    tab.close()


def test_zone_page_on_a_phone(browser, server):
    tab = Offline(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = tab.page
    login(page, server)
    page.goto(f"{server}/zones/NJ-DEMO-01", wait_until="load")
    assert page.locator("#rules tbody tr").count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scrolling
    frame = page.frame_locator("iframe.map")
    frame.locator(".leaflet-overlay-pane path").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "zone-page-phone.png"), full_page=True)
    assert tab.errors == []
    tab.close()


def test_self_contained_map_opens_from_a_file_with_no_network(browser, tmp_path):
    from typer.testing import CliRunner

    from zonegeo.cli import app

    out = tmp_path / "check.html"
    args = ["check", "--boundary", str(DEMO / "boundary.geojson"), "--core", str(DEMO / "core.geojson"),
            "--buildings", str(DEMO / "buildings.geojson"), "--institutions", str(DEMO / "institutions.csv"),
            "--json", "--map", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    tab = Offline(browser)
    tab.page.goto(out.as_uri(), wait_until="load")
    tab.page.wait_for_selector(".leaflet-overlay-pane path")
    buildings, institutions, _ = _expected_counts()
    assert tab.page.locator(OVERLAY_PATHS).count() == 2 + buildings + institutions
    assert tab.errors == []
    tab.close()


def test_upload_page_shows_findings_then_a_draft_preview(browser, server, settings, tmp_path):
    from tests import formats

    code = _fresh_zone(settings)
    tab = Offline(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = tab.page
    login(page, server)
    page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    bad = tmp_path / "四至.csv"
    bad.write_text("点号,X,Y\nJ1,3545000,375000\nJ2,3545100,375000\nJ3,3545100,375100\n", encoding="utf-8")
    page.set_input_files("#file-boundary", str(bad))
    page.click("#submit")
    page.wait_for_selector("#findings")
    assert page.locator("#findings li[data-code]").first.get_attribute("data-code") == "crs_ambiguous"
    assert "EPSG:4549" in page.locator("#findings").inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload-findings-phone.png"), full_page=True)
    # The refused form answers 422, which Chromium logs; nothing else may be logged.
    assert all("status of 422" in e for e in tab.errors), tab.errors
    tab.errors.clear()
    page.set_input_files("#file-boundary", str(bad))
    page.select_option("#crs-boundary", "EPSG:4549")
    page.set_input_files("#file-core", str(formats.write_kml(tmp_path / "核心区.kml")))
    page.select_option("#crs-core", "EPSG:4490")  # lon/lat: the page asks for the source unless it is chosen
    page.click("#submit")
    page.wait_for_selector("#result")
    assert "草稿版本 2" in page.locator("#result").inner_text()
    page.frame_locator("iframe.map").locator(".leaflet-overlay-pane path").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "upload-draft-phone.png"), full_page=True)
    assert tab.errors == []
    tab.close()


def _fresh_zone(settings) -> str:
    import tempfile
    from pathlib import Path

    from zonegeo.db.session import make_engine

    engine = make_engine(settings)
    with tempfile.TemporaryDirectory() as tmp:
        code = import_demo_copy(engine, Path(tmp), "BR")
    engine.dispose()
    return code


def _web_mercator_pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Global pixel coordinates of a lon/lat on 256-pixel Web Mercator tiles (the grid OSM and Amap share)."""
    import math

    scale = 256 * 2**zoom
    x = (lon + 180) / 360 * scale
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * scale
    return x, y


def test_overlays_follow_amap_into_gcj02(browser, server):
    from zonegeo.domain.chinacoords import wgs84_to_gcj02

    tab = open_map(browser, server)
    page = tab.page
    page.wait_for_selector(".zg-platform")
    plan = read_zone_dir(DEMO).read.plan
    platform = next(i for i in plan.institutions if i.kind.is_platform)
    find = """name => { var out = null; zg.overlays.forEach(function (e) { e.layer.eachLayer(function (l) {
        if (l.feature && l.feature.properties.n === name) { out = l.getLatLng(); } }); });
        return out && [out.lng, out.lat]; }"""
    zoom = 18
    lon, lat = page.evaluate(find, platform.name)
    assert (lon, lat) == pytest.approx((platform.lon, platform.lat), abs=1e-6)
    page.locator(".leaflet-control-layers").hover()
    page.get_by_text("高德地图（GCJ-02）").click()
    assert page.evaluate("zg.isGcj()") is True
    g_lon, g_lat = (float(v) for v in wgs84_to_gcj02(platform.lon, platform.lat))
    lon, lat = page.evaluate(find, platform.name)
    assert (lon, lat) == pytest.approx((g_lon, g_lat), abs=1e-6)
    # The marker sits on the Amap tile pixel of its GCJ-02 position, about 500 m from its OSM pixel.
    px = page.evaluate("([lng, lat, z]) => { var m = Object.values(window).find(v => v instanceof L.Map);"
                       " var p = m.project(L.latLng(lat, lng), z); return [p.x, p.y]; }", [lon, lat, zoom])
    assert px == pytest.approx(_web_mercator_pixel(g_lon, g_lat, zoom), abs=0.5)
    osm_px = _web_mercator_pixel(platform.lon, platform.lat, zoom)
    assert abs(px[0] - osm_px[0]) > 500  # the shift is hundreds of metres: thousands of pixels at zoom 18
    page.get_by_text("OpenStreetMap 地图").click()
    lon, lat = page.evaluate(find, platform.name)
    assert (lon, lat) == pytest.approx((platform.lon, platform.lat), abs=1e-6)
    assert page.locator(OVERLAY_PATHS).count() > 20
    assert tab.errors == []
    tab.close()


def test_offline_site_visit_map_from_a_file(browser, server, tmp_path, tokens):
    import urllib.request

    request = urllib.request.Request(f"{server}/zones/NJ-DEMO-01/map/offline",
                                     headers={"Authorization": f"Bearer {tokens['province']}"})
    with urllib.request.urlopen(request) as r:
        (tmp_path / "现场核查.html").write_bytes(r.read())
    tab = Offline(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = tab.page
    page.goto((tmp_path / "现场核查.html").as_uri(), wait_until="load")
    page.wait_for_selector(OVERLAY_PATHS)
    buildings, institutions, platforms = _expected_counts()
    assert page.locator(OVERLAY_PATHS).count() == 2 + buildings + institutions
    assert page.locator(".zg-platform").count() == platforms
    assert page.locator(".leaflet-control-locate").count() == 1
    assert page.locator(".leaflet-control-fullscreen, .leaflet-control-zoom-fullscreen").count() >= 1
    # Tap the building with nothing on top of it, where it is on the screen.
    x, y = page.evaluate("""name => { var m = Object.values(window).find(v => v instanceof L.Map), c = null;
        zg.overlays.forEach(function (e) { e.layer.eachLayer(function (l) {
          if (l.feature && l.feature.properties.n === name) { c = m.latLngToContainerPoint(l.getBounds().getCenter()); }
        }); });
        var r = m.getContainer().getBoundingClientRect(); return [r.left + c.x, r.top + c.y]; }""", "G座 孵化器")
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup-content")
    assert "使用层数" in page.locator(".leaflet-popup-content").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "offline-map-phone.png"))
    # The file asks this machine for nothing and the world only for base-map tiles, which the cut network refuses:
    # the block saw them (so it works), and the map above was drawn without them.
    assert tab.blocked, "no request tried to leave the machine: the tile layer is missing or the block is not seen"
    assert all(urlparse(u).hostname == "tile.openstreetmap.org" for u in tab.blocked), tab.blocked
    assert tab.errors == []
    tab.close()


def test_measure_tool_and_print_layout(browser, server):
    tab = open_map(browser, server)
    page = tab.page
    page.wait_for_selector(".leaflet-control-measure")
    page.locator(".leaflet-control-measure").hover()
    assert "测量" in page.locator(".leaflet-control-measure").inner_text()
    page.emulate_media(media="print")
    assert page.locator(".leaflet-control-layers").is_hidden()
    assert page.locator(".zg-title").is_visible() and "制图日期" in page.locator(".zg-title").inner_text()
    assert page.locator(".leaflet-control-scale").is_visible()
    page.screenshot(path=str(ARTIFACTS / "zone-map-print.png"))
    assert tab.errors == []
    tab.close()
