"""Maps on a phone (site visits), in Chromium with the network cut, at 390×844 and 1366×768: the measure tool works
by touch and click and nothing covers its results; controls are 44 px targets on a phone with Chinese tooltips;
the scale bar is metric; the legend is readable (≥ 14 px)."""

from __future__ import annotations

import re

import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import browser, server  # noqa: F401  (fixtures)
from tests.test_map_a11y_browser import PHONE, SIZES, map_pages, open_map_page  # noqa: F401  (map_pages: fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CJK = re.compile(r"[\u4e00-\u9fff]")
# The buttons of a site-visit map, each of which must be a 44×44 px target on a phone.
BUTTONS = {"放大": ".leaflet-control-zoom-in", "缩小": ".leaflet-control-zoom-out",
           "图层": ".leaflet-control-layers-toggle", "全屏": "a.fullscreen-icon",
           "测量": ".leaflet-control-measure-toggle", "定位": ".leaflet-control-locate a",
           "说明": "#zg-title > summary", "图例": "#zg-legend > summary"}


def box(page, selector: str) -> dict:
    b = page.locator(selector).first.bounding_box()
    assert b is not None, f"{selector} is not on the screen"
    return b


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def visible_boxes(page, selector: str) -> list[dict]:
    """Bounding boxes of the visible elements matching ``selector``, with a short description of each."""
    return page.eval_on_selector_all(selector, """es => es.filter(e => e.offsetWidth && e.offsetHeight
        && getComputedStyle(e).visibility !== 'hidden').map(e => { const r = e.getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height, what: e.className || e.id}; })""")


def tap_or_click(page, phone: bool, selector: str) -> None:
    if phone:
        page.tap(selector)
    else:
        page.click(selector)


def empty_points(page) -> list[tuple[float, float]]:
    """Three screen points around the middle of the map, clear of every control and panel."""
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    return [(w * 0.40, h * 0.45), (w * 0.62, h * 0.45), (w * 0.55, h * 0.60)]


@pytest.mark.parametrize("size", SIZES)
def test_measure_a_distance_and_an_area_and_nothing_covers_the_result(browser, server, map_pages, size):  # noqa: F811
    phone = size == "phone"
    tab = open_map_page(browser, server, map_pages["reviewer"], **SIZES[size])
    page = tab.page
    toggle = page.locator(".leaflet-control-measure-toggle")
    assert toggle.is_visible()  # at 390 px too (it was hidden under 481 px)
    if phone:
        assert page.locator(".leaflet-control-minimap").count() == 0 or page.locator(
            ".leaflet-control-minimap").is_hidden()
        page.tap("#zg-title > summary")  # the reader opens the title panel: a measurement folds it away again
        assert page.locator("#zg-title .zg-name").is_visible()
        page.tap(".leaflet-control-measure-toggle")
    else:
        page.locator(".leaflet-control-measure").hover()  # the tool unfolds under the mouse
    page.locator(".leaflet-control-measure .js-start").wait_for(state="visible")
    tap_or_click(page, phone, ".leaflet-control-measure .js-start")
    for x, y in empty_points(page):
        if phone:
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)
        page.wait_for_timeout(600)  # apart enough not to be read as a double tap (which ends a measurement)
    results = page.locator(".leaflet-control-measure .js-results")
    results.wait_for(state="visible")
    text = results.inner_text()
    assert "米" in text and ("平方米" in text or "公顷" in text), text  # a length and an area, in metric units
    panel = box(page, ".leaflet-control-measure")
    if phone:
        assert page.locator("#zg-title .zg-name").is_hidden()  # folded when the measurement started
    coverers = visible_boxes(page, "#zg-title, #zg-legend, .leaflet-control-minimap")
    assert coverers, "the title panel is missing"
    for c in coverers:
        assert not overlap(panel, c), (panel, c)
    # Leaflet stacks the controls of a corner: the measure panel lies over none of them.
    for c in visible_boxes(page, ".leaflet-control:not(.leaflet-control-measure)"):
        assert not overlap(panel, c), (panel, c)
    page.screenshot(path=str(ARTIFACTS / f"map-measure-{size}.png"))
    assert not (found := violations(page)), describe(found)  # the measure panel's text is readable (contrast)
    tap_or_click(page, phone, ".leaflet-control-measure .js-finish")
    popup = page.locator(".leaflet-measure-resultpopup")
    popup.wait_for(state="visible")
    page.wait_for_timeout(400)  # the popup's auto-pan
    assert "面积" in popup.inner_text()
    result = box(page, ".leaflet-measure-resultpopup .leaflet-popup-content-wrapper")
    for c in visible_boxes(page, "#zg-title, #zg-legend, .leaflet-control-minimap"):
        assert not overlap(result, c), (result, c)
    page.screenshot(path=str(ARTIFACTS / f"map-measure-result-{size}.png"))
    assert tab.errors == [], tab.errors
    tab.close()


@pytest.mark.parametrize("kind", ["reviewer", "offline", "diff", "province"])
def test_controls_are_44_px_targets_on_a_phone(browser, server, map_pages, kind):  # noqa: F811
    tab = open_map_page(browser, server, map_pages[kind], **PHONE)
    page = tab.page
    checked = []
    for name, selector in BUTTONS.items():
        if page.locator(selector).count() == 0:
            assert kind != "reviewer" and kind != "offline", f"{name} ({selector}) missing from the {kind} map"
            continue
        b = box(page, selector)
        assert b["width"] >= 44 and b["height"] >= 44, (name, b)
        checked.append(name)
    assert {"放大", "缩小", "图层", "说明"} <= set(checked), checked
    if kind in ("reviewer", "offline"):
        assert set(checked) == set(BUTTONS), checked
    # No control, panel or the scale bar lies on another (the folded title panel included).
    boxes = visible_boxes(page, ".leaflet-control")
    assert len(boxes) >= 5
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not overlap(a, b), (a, b)
    # The title panel unfolds on a tap and shows the zone's name.
    assert page.locator("#zg-title .zg-body").is_hidden()
    page.tap("#zg-title > summary")
    assert page.locator("#zg-title .zg-body").is_visible()
    assert page.locator("#zg-title").get_attribute("open") is not None
    # A popup's close button is a target too.
    if kind in ("reviewer", "offline"):
        page.evaluate("""() => { let done = false; zg.overlays.forEach(e => e.layer.eachLayer(l => {
            if (!done && l.getPopup && l.getPopup()) { l.openPopup(); done = true; } })); }""")
        page.wait_for_selector(".leaflet-popup-close-button")
        b = box(page, ".leaflet-popup-close-button")
        assert b["width"] >= 44 and b["height"] >= 44, b
        assert page.get_attribute(".leaflet-popup-close-button", "aria-label") == "关闭"
    page.screenshot(path=str(ARTIFACTS / f"map-controls-{kind}-phone.png"))
    assert tab.errors == [], tab.errors
    tab.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["reviewer", "diff", "public", "offline"])
def test_every_tooltip_is_chinese_and_the_scale_is_metric(browser, server, map_pages, kind, size):  # noqa: F811
    tab = open_map_page(browser, server, map_pages[kind], **SIZES[size])
    page = tab.page
    words = page.eval_on_selector_all(
        ".leaflet-control-container [title], .leaflet-control-container [aria-label]",
        "es => es.map(e => [e.className, e.getAttribute('title'), e.getAttribute('aria-label')])")
    assert len(words) >= 4, words
    for cls, title, label in words:
        for text in (title, label):
            assert text is None or CJK.search(text), (cls, text)  # no "Zoom in", "Layers", "Hide MiniMap" …
    titles = {t for _, t, _ in words} | {a for _, _, a in words}
    assert {"放大", "缩小", "图层"} <= titles, titles
    if kind in ("reviewer", "offline"):
        assert {"全屏", "显示我的位置", "同时测量距离和面积"} <= titles, titles
        if size == "desktop" and kind == "reviewer":
            assert "隐藏鹰眼图" in titles, titles
    scale = page.locator(".leaflet-control-scale-line")
    assert scale.count() == 1  # metres only: no second (imperial) line
    assert re.fullmatch(r"\d+ (m|km)", scale.inner_text().strip()), scale.inner_text()
    tab.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["reviewer", "public", "diff"])
def test_legend_and_title_text_is_at_least_14_px(browser, server, map_pages, kind, size):  # noqa: F811
    tab = open_map_page(browser, server, map_pages[kind], **SIZES[size])
    page = tab.page
    if page.locator("#zg-legend").get_attribute("open") is None:
        assert size == "phone"  # folded to its heading on a phone, unfolded by a tap
        page.tap("#zg-legend > summary")
    legend = page.locator("#zg-legend .zg-body")
    assert legend.is_visible()
    sizes = page.eval_on_selector_all(
        "#zg-legend, #zg-legend *, #zg-title .zg-body, #zg-title .zg-body *",
        """es => es.filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
                   .map(e => [e.textContent.trim().slice(0, 12), parseFloat(getComputedStyle(e).fontSize)])""")
    assert len(sizes) >= 2, sizes
    small = [s for s in sizes if s[1] < 14]
    assert small == [], small
    # The legend stays on the screen, clear of the controls.
    b = box(page, "#zg-legend")
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= w and b["y"] + b["height"] <= h, b
    page.screenshot(path=str(ARTIFACTS / f"map-legend-{kind}-{size}.png"))
    tab.close()
