"""Every kind of map page (reviewer, version, diff, public zone, province, offline file) is a proper Chinese document
for assistive technology: <title>, lang="zh-CN", one <h1>, a <main> landmark around the map, pinch-zoom allowed,
the controls first in the keyboard order, and no serious or critical axe-core violation. Chromium, network cut,
at 1366×768 and 390×844."""

from __future__ import annotations

import json
import re
import urllib.request

import numpy as np
import pytest
import shapely
import shapely.geometry

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, DEMO, import_demo_copy
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.db.session import session_factory, transaction
from zonegeo.services.publishing import publish

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
PAGES = ("reviewer", "version", "diff", "public", "province", "offline")
TITLES = {"reviewer": "空间布局版本1地图", "version": "空间布局版本2地图", "diff": "变化对比地图", "public": "空间布局地图",
          "province": "全省分布图", "offline": "现场核查地图"}
# Everything Leaflet and its plugins make focusable that is not a control: shapes, markers, popups.
SHAPES = ".leaflet-marker-icon, .leaflet-interactive, .leaflet-popup"


@pytest.fixture(scope="module")
def map_pages(server, settings, engine, rules, tokens, tmp_path_factory) -> dict[str, str]:  # noqa: F811
    """The URL of each kind of map page: the app's (log in first) or a file's."""
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    tmp = tmp_path_factory.mktemp("map-pages")
    code = import_demo_copy(engine, tmp, "MAPA", published=True)
    # Version 2: the 四至 moved about 30 m east, so the diff map has added, removed and unchanged parts.
    geo = json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))
    for f in geo["features"]:
        f["geometry"] = shapely.geometry.mapping(shapely.transform(
            shapely.geometry.shape(f["geometry"]), lambda xy: xy + np.array([0.0003, 0.0])))
    boundary = json.dumps(geo).encode()
    with TestClient(create_app(settings)) as c:
        up = c.post(f"/api/zones/{code}/uploads", data={"roles": ["boundary"]},
                    headers={"Authorization": f"Bearer {tokens['province']}"},
                    files=[("files", ("boundary.geojson", boundary, "application/geo+json"))])
    assert up.status_code == 201, up.text
    number = up.json()["version"]
    site = tmp / "site"
    with transaction(session_factory(engine)) as session:
        assert code in publish(session=session, rules=rules, out_dir=site, tiles="OpenStreetMap")["zones"]
    request = urllib.request.Request(f"{server}/zones/NJ-DEMO-01/map/offline",
                                     headers={"Authorization": f"Bearer {tokens['province']}"})
    offline = tmp / "现场核查.html"
    with urllib.request.urlopen(request) as r:
        offline.write_bytes(r.read())
    return {"reviewer": f"{server}/zones/NJ-DEMO-01/map",
            "version": f"{server}/zones/{code}/versions/{number}/map",
            "diff": f"{server}/zones/{code}/versions/1/diff/{number}/map",
            "public": (site / "zones" / f"{code}.html").as_uri(),
            "province": (site / "province.html").as_uri(),
            "offline": offline.as_uri()}


def open_map_page(browser, server: str, url: str, **context) -> Offline:  # noqa: F811
    """A tab (network cut) showing the map page at ``url``, its panels docked into Leaflet's corners."""
    tab = Offline(browser, **context)
    if url.startswith(server):
        login(tab.page, server)
    tab.page.goto(url, wait_until="load")
    tab.page.wait_for_selector(".leaflet-control-container #zg-title", state="attached")
    return tab


def focus_order(page, presses: int) -> list[dict]:
    """What Tab focuses, ``presses`` times from the top of the page: is it a control, a shape or the map itself?"""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    out = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        out.append(page.evaluate(f"""() => {{ const e = document.activeElement;
            return {{tag: e.tagName, cls: String(e.className && e.className.baseVal !== undefined
                                                   ? e.className.baseVal : e.className),
                     control: !!e.closest('.leaflet-control-container'),
                     shape: !!e.closest({SHAPES!r}), map: e.classList.contains('folium-map'),
                     name: e.getAttribute('title') || e.getAttribute('aria-label') || e.textContent.trim()}}; }}"""))
    return out


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", PAGES)
def test_map_page_is_a_chinese_document_with_a_main_landmark(browser, server, map_pages, kind, size):  # noqa: F811
    tab = open_map_page(browser, server, map_pages[kind], **SIZES[size])
    page = tab.page
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    title = page.title()
    assert TITLES[kind] in title, title  # each page says what it is
    assert page.locator("h1").count() == 1
    assert re.search(r"[\u4e00-\u9fff]", page.locator("h1").inner_text() or page.locator("h1").text_content())
    assert page.locator("main, [role=main]").count() == 1
    assert page.locator("main .folium-map").count() == 1  # the map itself is inside the landmark
    assert page.locator("main #zg-title").count() == 1  # and so are its panels, docked into the map's corners
    viewports = page.eval_on_selector_all("meta[name=viewport]", "ms => ms.map(m => m.content)")
    assert len(viewports) == 1 and "width=device-width" in viewports[0], viewports
    assert not re.search(r"maximum-scale|user-scalable\s*=\s*(no|0)", viewports[0]), viewports
    assert tab.errors == [], tab.errors
    tab.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", PAGES)
def test_axe_finds_nothing_serious_on_a_map_page(browser, server, map_pages, kind, size):  # noqa: F811
    tab = open_map_page(browser, server, map_pages[kind], **SIZES[size])
    page = tab.page
    page.wait_for_timeout(300)  # the fit-bounds animation ends, the tile requests are refused
    assert not (found := violations(page)), describe(found)
    # A popup is part of the page too: open one and check again.
    opened = page.evaluate("""() => { let done = false; zg.overlays.forEach(e => e.layer.eachLayer(l => {
        if (!done && l.openPopup && l.getPopup && l.getPopup()) { l.openPopup(); done = true; } })); return done; }""") \
        if page.evaluate("typeof zg !== 'undefined' && zg.overlays.length > 0") else False
    if opened:
        page.wait_for_selector(".leaflet-popup-content")
        # Leaflet fades a popup in: contrast is measured once it is opaque.
        page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
        assert not (found := violations(page)), describe(found)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-a11y-{kind}-{size}.png"))
    assert tab.errors == [], tab.errors
    tab.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["reviewer", "diff", "public", "offline"])
def test_keyboard_reaches_the_controls_before_the_shapes(browser, server, map_pages, kind, size):  # noqa: F811
    tab = open_map_page(browser, server, map_pages[kind], **SIZES[size])
    order = [f for f in focus_order(tab.page, 12) if not f["map"]]  # the map itself (arrow keys pan it) comes first
    first_shape = next((k for k, f in enumerate(order) if f["shape"]), len(order))
    controls = [f for f in order[:first_shape] if f["control"]]
    assert len(controls) >= 4, order  # zoom in, zoom out, layers, … before any marker or shape
    assert all(f["control"] for f in order[:4]), order
    names = " ".join(f["name"] for f in controls)
    assert "放大" in names and "缩小" in names, names
    if kind in ("reviewer", "offline"):  # then the platforms' markers, each named by what it is
        later = [f["name"] for f in focus_order(tab.page, 30) if f["shape"]]
        assert any(n.startswith("公共服务平台：") for n in later), later
    tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_public_index_page(browser, server, map_pages, size):  # noqa: F811
    tab = Offline(browser, **SIZES[size])
    page = tab.page
    page.goto(map_pages["province"].replace("province.html", "index.html"), wait_until="load")
    page.frame_locator("iframe").locator(".leaflet-control-zoom-in").wait_for()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("h1").count() == 1 and page.locator("main").count() == 1
    assert not (found := violations(page)), describe(found)
    tab.close()


def test_no_map_page_forbids_zooming(rules):
    """The viewport of every rendered map (reviewer, diff, public) lets people pinch-zoom (folium's template did not)."""
    from tests.factories import plan
    from zonegeo.domain.check import check_plan
    from zonegeo.maps.public import province_map
    from zonegeo.maps.render import render, to_html

    p = plan()
    for page in (to_html(render(p, check_plan(p, rules), title="t")),
                 to_html(render(p, check_plan(p, rules), title="t"), self_contained=True),
                 to_html(province_map([], tiles="", asset_base="assets"), asset_base="assets")):
        assert '<html lang="zh-CN">' in page and page.count("<h1") == 1 and page.count("<main") == 1
        assert "maximum-scale" not in page and "user-scalable" not in page
        assert re.search(r"<title>[^<]*[\u4e00-\u9fff][^<]*</title>", page)


def test_page_text_is_escaped():
    """A zone name is text in the <title>, the <h1> and the panel, never markup."""
    from tests.conftest import RULES_FILE
    from tests.factories import plan
    from zonegeo.domain.check import check_plan
    from zonegeo.ingest.rules_file import load_rules
    from zonegeo.maps.render import render, to_html

    p = plan()
    page = to_html(render(p, check_plan(p, load_rules(RULES_FILE)), title="<b>甲</b>&乙"))
    assert "<b>甲</b>" not in page
    assert page.count("&lt;b&gt;甲&lt;/b&gt;&amp;乙") >= 3
