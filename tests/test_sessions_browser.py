"""The province ends a user's session on the 登录会话 page, in a real Chromium (network cut); the user's browser
is sent to the login page at its next click, and logging out ends the session for a replayed cookie too."""

from __future__ import annotations

import pytest

from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_province_ends_an_applicants_session_on_the_page(browser, server):  # noqa: F811
    applicant, province = Offline(browser), Offline(browser)
    try:
        login(applicant.page, server, "demo-applicant")
        applicant.page.goto(f"{server}/worklist", wait_until="load")
        assert applicant.page.url == f"{server}/worklist"

        login(province.page, server)
        province.page.click("#sessions-link")
        row = province.page.locator("#sessions tr[data-username='demo-applicant']").first
        assert "建设主体" in row.inner_text()
        row.locator("button.end-all").click()
        province.page.wait_for_load_state("load")
        assert "已结束用户 demo-applicant 的" in province.page.locator("#sessions-message").inner_text()
        assert province.page.locator("#sessions tr[data-username='demo-applicant']").count() == 0

        applicant.page.goto(f"{server}/worklist", wait_until="load")
        assert applicant.page.url.startswith(f"{server}/login")  # the cookie is still there, the session is not

        cookies = province.context.cookies()
        province.page.click("#logout")
        province.page.wait_for_url(f"{server}/")
        assert province.page.locator("header a[href='/login']").count() == 1
        replay = browser.new_context()
        replay.add_cookies(cookies)
        page = replay.new_page()
        page.goto(f"{server}/sessions", wait_until="load")
        assert page.url.startswith(f"{server}/login")
        replay.close()
        assert applicant.errors == [] and province.errors == []
    finally:
        applicant.close()
        province.close()
