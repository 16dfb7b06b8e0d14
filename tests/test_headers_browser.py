"""Every kind of page works under the Content-Security-Policy in a real Chromium (network cut): no script, style or
eval refused, and the maps still draw (issue 11)."""

from __future__ import annotations

import pytest

from tests.test_browser import OVERLAY_PATHS, Offline, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PAGES = ["/", "/zones/NJ-DEMO-01", "/zones/NJ-DEMO-01/map", "/worklist", "/changes", "/sessions",
         "/zones/NJ-DEMO-01/upload", "/zones/NJ-DEMO-01/review"]


def test_no_page_breaks_the_policy(browser, server):  # noqa: F811
    tab = Offline(browser)
    violations: list[str] = []
    tab.page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        login(tab.page, server)
        for path in PAGES:
            r = tab.page.goto(f"{server}{path}", wait_until="load")
            assert r.status == 200, path
            assert "script-src 'self'" in r.headers["content-security-policy"], path
            if path.endswith("/map"):
                tab.page.wait_for_selector(OVERLAY_PATHS)
        tab.page.wait_for_timeout(300)
        assert violations == [] and tab.errors == [], violations + tab.errors
    finally:
        tab.close()
