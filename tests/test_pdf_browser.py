"""The PDF links in Debian's Chromium with the network cut, at 1366×768 and on a 390×844 phone: the province finds
the 打印文件 links on the zone page (finger-sized, axe-clean), clicks the receipt and gets a PDF with its number;
the public sees the report link only."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import pypdf
import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from tests.test_pdf import flat, world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}


@pytest.mark.parametrize("size", list(SIZES))
def test_the_province_prints_from_the_zone_page(browser, server, world, size):  # noqa: F811
    code, (cid, _) = world["code"], world["changes"]
    tab = Offline(browser, locale="zh-CN", accept_downloads=True, **SIZES[size])
    try:
        page = tab.page
        login(page, server, "province-bureau")
        page.goto(f"{server}/zones/{code}", wait_until="load")
        ids = ["report-pdf", "acceptance-pdf", "evaluation-pdf-2028", "evaluation-pdf-2029", f"receipt-pdf-{cid}"]
        for link_id in ids:
            link = page.locator(f"#{link_id}")
            link.scroll_into_view_if_needed()
            box = link.bounding_box()
            assert box is not None and box["height"] >= 44, (link_id, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["viewport"]["width"] + 1, (link_id, box)
        assert page.locator("#evaluation-pdf-2028").inner_text() == "2028年度绩效评价记录"
        assert not (v := violations(page)), describe(v)
        # the embedded map asks for its base tiles, which the cut network refuses; nothing else leaves the machine
        assert all(urlparse(u).hostname == "tile.openstreetmap.org" for u in tab.blocked), tab.blocked[:5]
        assert tab.errors == [], tab.errors
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#pdf-links").screenshot(path=str(ARTIFACTS / f"pdf-links-{size}.png"))
        href = page.locator(f"#receipt-pdf-{cid}").get_attribute("href")
        response = page.request.get(f"{server}{href}")  # the tab's own login session
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        reader = pypdf.PdfReader(io.BytesIO(response.body()))
        assert f"回执编号：{world['receipt_no']}" in flat("".join(p.extract_text() for p in reader.pages))
    finally:
        tab.close()


def test_the_public_sees_the_report_link_only(browser, server, world):  # noqa: F811
    tab = Offline(browser, locale="zh-CN", **SIZES["phone"])
    try:
        page = tab.page
        page.goto(f"{server}/zones/{world['code']}", wait_until="load")
        assert page.locator("#report-pdf").is_visible()
        assert page.locator("#acceptance-pdf").count() == 0 and page.locator(".pdf-link[href*=receipt]").count() == 0
        response = page.request.get(f"{server}/zones/{world['code']}/report.pdf")
        assert response.status == 200 and response.body().startswith(b"%PDF-")
        assert page.request.get(f"{server}/zones/{world['code']}/acceptance.pdf").status == 401
    finally:
        tab.close()
