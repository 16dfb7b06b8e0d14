"""Every page's header in a real Chromium (network cut), at 1366×768 and on a phone (390×844): the user's
organisation, name and role, 待办 with the count the worklist shows, logout, the pages the role can use, a skip
link to the main content; nothing hidden or scrolled sideways on the phone, every tap target at least 44 px tall.
And the header's count never breaks a page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ARTIFACTS, bearer
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.api import header as header_module
from zonegeo.api.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2, "has_touch": True}
SIZES = {"desktop": DESKTOP, "phone": PHONE}

# role → (username, organisation shown, links in the main navigation)
PUBLIC = ["/", "/notices", "/announcements"]  # the zone list, 公示 and 公告 (issue 14) for everyone
EXPECTED = {
    "applicant": ("demo-applicant", None, [*PUBLIC, "/apply", "/worklist", "/audit", "/docs"]),
    "city": ("nanjing-bureau", "南京市知识产权局", [*PUBLIC, "/apply", "/worklist", "/changes", "/annual-reports",
                                                 "/statistics", "/exports", "/evaluations", "/audit", "/docs"]),
    "province": ("province-bureau", "江苏省知识产权局", [*PUBLIC, "/apply", "/worklist", "/changes", "/annual-reports",
                                                       "/statistics", "/exports", "/evaluations", "/audit", "/sessions",
                                                       "/docs"]),
    "expert": ("expert-wang", "评审专家组", [*PUBLIC, "/worklist", "/expert", "/evaluations", "/audit", "/docs"]),
}


def nav_hrefs(page) -> list[str]:
    return page.eval_on_selector_all("nav[aria-label='主导航'] a", "els => els.map(e => e.getAttribute('href'))")


def check_layout(page, width: int) -> None:
    """Nothing of the header outside the screen, no sideways scroll, every header target at least 44 px tall."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    targets = page.locator("header.site nav a, header.site nav button, header.site a.brand")
    assert targets.count() >= 3
    for i in range(targets.count()):
        box = targets.nth(i).bounding_box()
        assert box is not None, targets.nth(i).inner_text()
        assert box["height"] >= 44, (targets.nth(i).inner_text(), box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (targets.nth(i).inner_text(), box)
        assert targets.nth(i).is_visible()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", EXPECTED)
def test_the_header_of_each_role(browser, server, role, size):  # noqa: F811
    username, organisation, links = EXPECTED[role]
    tab = Offline(browser, **SIZES[size])
    page = tab.page
    try:
        login(page, server, username)
        header = page.locator("header.site")
        if organisation:
            assert page.locator("#header-org").inner_text() == organisation
        else:  # the applicant acts for the 建设主体 of the zones it owns (the zone list's 建设主体 column)
            builders = set(page.locator("main table tbody td:nth-child(4)").all_text_contents())
            assert "南京市建邺区人民政府（演示）" in builders
            shown = page.locator("#header-org").inner_text()
            more = f"等{len(builders)}家" if len(builders) > 1 else ""
            assert shown.endswith(more) and shown.removesuffix(more) in builders, (shown, builders)
        assert f"{username}（" in page.locator("#header-user").inner_text()
        assert nav_hrefs(page) == links
        assert page.locator("nav[aria-label='主导航'] a[aria-current='page']").get_attribute("href") == "/"
        assert header.locator("#logout").is_visible() and header.locator("a[href='/login']").count() == 0
        check_layout(page, SIZES[size]["viewport"]["width"])
        page.screenshot(path=str(ARTIFACTS / f"header-{role}-{size}.png"))

        shown = int(page.locator("#todo-count").inner_text())
        page.click("#nav-worklist")
        page.wait_for_url(f"{server}/worklist")
        assert page.locator("#worklist tbody tr").count() == shown  # the count is the worklist's length
        assert int(page.locator("#todo-count").inner_text()) == shown
        assert page.locator("nav[aria-label='主导航'] a[aria-current='page']").get_attribute("href") == "/worklist"
        assert tab.errors == []
    finally:
        tab.close()


def test_the_province_has_work_waiting_and_the_count_says_so(browser, server):  # noqa: F811
    """The demo zone's deadlines (see the worklist) give the province a count above zero: the badge is not a
    constant."""
    tab = Offline(browser, **DESKTOP)
    try:
        login(tab.page, server)
        tab.page.goto(f"{server}/worklist", wait_until="load")
        rows = tab.page.locator("#worklist tbody tr").count()
        assert rows > 0
        assert tab.page.locator("#todo-count").inner_text() == str(rows)
    finally:
        tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_public_header_and_the_skip_link(browser, server, size):  # noqa: F811
    tab = Offline(browser, **SIZES[size])
    page = tab.page
    try:
        page.goto(f"{server}/", wait_until="load")
        assert nav_hrefs(page) == [*PUBLIC, "/docs", "/login"]
        assert page.locator("#todo-count, #logout, #header-user").count() == 0
        check_layout(page, SIZES[size]["viewport"]["width"])
        skip = page.locator("a.skip")
        assert skip.inner_text() == "跳到正文" and skip.get_attribute("href") == "#main"
        assert skip.bounding_box()["y"] < 0  # out of sight until focused
        page.keyboard.press("Tab")  # the first stop on the page
        assert page.evaluate("document.activeElement.className") == "skip"
        assert skip.bounding_box()["y"] >= 0
        page.keyboard.press("Enter")
        page.wait_for_function("location.hash === '#main'", timeout=5_000)  # the fragment moves after the key
        assert page.url.endswith("#main")
        assert page.locator("main#main h1").count() == 1
        page.goto(f"{server}/login", wait_until="load")
        assert page.locator("nav a[aria-current='page']").get_attribute("href") == "/login"
    finally:
        tab.close()


def test_logout_from_the_header_on_a_phone(browser, server):  # noqa: F811
    tab = Offline(browser, **PHONE)
    page = tab.page
    try:
        login(page, server, "nanjing-bureau")
        with page.expect_navigation():
            page.tap("#logout")
        assert page.url == f"{server}/"
        assert page.locator("#logout").count() == 0 and page.locator("header a[href='/login']").count() == 1
        page.goto(f"{server}/worklist", wait_until="load")
        assert page.url.startswith(f"{server}/login")
    finally:
        tab.close()


def test_a_failing_count_never_breaks_the_page(settings, tokens, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the worklist is broken")

    with TestClient(create_app(settings), headers=bearer(tokens, "province")) as c:
        before = c.get("/", headers={"accept": "text/html"})
        assert before.status_code == 200 and 'id="todo-count"' in before.text
        monkeypatch.setattr(header_module.lifecycle, "worklist", broken)
        c.app.state.header_cache.clear()  # the count is kept between pages: computed afresh now
        page = c.get("/", headers={"accept": "text/html"})
        assert page.status_code == 200 and "集聚区列表" in page.text
        assert 'id="todo-count"' not in page.text and 'id="logout"' in page.text and "江苏省知识产权局" in page.text


def test_a_database_error_in_the_count_is_undone_and_the_request_goes_on(settings, tokens, monkeypatch):
    """A failed statement inside the header's savepoint leaves the request's transaction usable: a form that writes
    (the province ends an applicant's sessions) still commits, and its page is answered without the count."""
    from sqlalchemy import text

    from tests.test_sessions import form_token, log_in

    def failing(request, session, user):
        session.execute(text("SELECT 1/0"))

    app = create_app(settings)
    with TestClient(app) as applicant, TestClient(app) as province:
        assert log_in(applicant, "demo-applicant").status_code == 303
        assert log_in(province, "province-bureau").status_code == 303
        assert applicant.get("/worklist", headers={"accept": "text/html"}, follow_redirects=False).status_code == 200
        csrf = form_token(province.get("/sessions").text)
        monkeypatch.setattr(header_module, "todo_count", failing)
        page = province.post("/sessions/end", data={"username": "demo-applicant", "csrf": csrf})
        assert page.status_code == 200 and "已结束用户 demo-applicant 的" in page.text
        assert 'id="todo-count"' not in page.text and 'id="logout"' in page.text
        ended = applicant.get("/worklist", headers={"accept": "text/html"}, follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")


def test_an_error_page_names_the_logged_in_user_and_a_stale_cookie_the_public(settings, tokens):
    from tests.test_sessions import log_in

    with TestClient(create_app(settings)) as c:
        assert log_in(c, "nanjing-bureau").status_code == 303
        page = c.get("/zones/NO-SUCH-ZONE", headers={"accept": "text/html"})
        assert page.status_code == 404 and "南京市知识产权局" in page.text and 'id="logout"' in page.text
        assert 'id="todo-count"' in page.text and 'href="/changes"' in page.text
        form = c.get("/").text
        cookie = c.cookies.get("zonegeo_session")
        assert c.post("/logout", data={"csrf": form.split('name="csrf" value="')[1].split('"')[0]},
                      follow_redirects=False).status_code == 303
        c.cookies.clear()
        c.cookies.set("zonegeo_session", cookie)  # the cookie of the ended session, replayed
        page = c.get("/zones/NO-SUCH-ZONE", headers={"accept": "text/html"})
        assert page.status_code == 404 and 'id="logout"' not in page.text and 'href="/login"' in page.text


def test_the_count_follows_a_write_at_once(settings, tokens, engine, tmp_path):
    """The count is kept between pages, but a write (here a change event, which the province must report) shows
    in the very next page's header; the count is always the worklist's length."""
    import datetime as dt

    from tests.conftest import import_demo_copy

    code = import_demo_copy(engine, tmp_path, "HDR")
    with TestClient(create_app(settings), headers=bearer(tokens, "province")) as c:
        def count() -> int:
            page = c.get("/", headers={"accept": "text/html"}).text
            return int(page.split('id="todo-count">')[1].split("<")[0])

        before = count()
        assert before == c.get("/api/worklist").json()["count"]
        assert count() == before  # kept
        body = {"kind": "operator", "occurred_on": dt.date.today().isoformat(), "description": "运营管理单位更换"}
        assert c.post(f"/api/zones/{code}/changes", json=body).status_code == 201
        assert count() == before + 1 == c.get("/api/worklist").json()["count"]


def test_an_applicant_of_several_builders_is_named_by_the_most_common(settings, engine, tmp_path):
    from sqlalchemy import select

    from tests.conftest import PASSWORD, import_demo_copy
    from zonegeo.db.models import Zone
    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services import access, auth

    codes = [import_demo_copy(engine, tmp_path / p, p) for p in ("HDA", "HDB", "HDC")]
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username="hdr-applicant", password=PASSWORD, role="applicant",
                      display_name="申报联系人")
        token = auth.create_token(session=session, username="hdr-applicant")
        session.scalar(select(Zone).where(Zone.code == codes[0])).builder = "乙科技园运营公司"
        for code in codes:
            access.add_member(session=session, code=code, username="hdr-applicant", relation_="applicant")
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as c:
        page = c.get("/", headers={"accept": "text/html"}).text
        assert '<strong id="header-org">南京市建邺区人民政府（演示）等2家</strong>' in page
        assert "申报联系人（建设主体）" in page
