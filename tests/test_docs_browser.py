"""/docs in Chromium with the network cut: Swagger UI comes from the app and lists the operations."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_api_docs_work_with_no_network(browser, server):  # noqa: F811
    tab = Offline(browser, viewport={"width": 1366, "height": 768})
    tab.page.goto(f"{server}/docs", wait_until="load")
    tab.page.wait_for_selector(".opblock-summary-path", timeout=20000)
    paths = tab.page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/zones/{code}/report" in p for p in paths)
    tab.page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    assert tab.blocked == [] and tab.errors == [], (tab.blocked, tab.errors)
    tab.close()
