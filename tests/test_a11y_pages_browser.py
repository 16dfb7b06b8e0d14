"""The app's own HTML pages checked with the vendored axe-core in a real Chromium (network cut), at 1366×768 and
on a phone (390×844): no serious or critical violation, and each page has a <title>, lang="zh-CN", exactly one
<h1>, one main landmark that the skip link reaches, and a label on every input."""

from __future__ import annotations

import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}

# name → (path, who is logged in (None: the public), expected status)
PAGES = {
    "login": ("/login", None, 200),
    "index-public": ("/", None, 200),
    "index": ("/", "province-bureau", 200),
    "worklist": ("/worklist", "demo-applicant", 200),
    "sessions": ("/sessions", "province-bureau", 200),
    "changes": ("/changes", "nanjing-bureau", 200),
    "zone": ("/zones/NJ-DEMO-01", "demo-applicant", 200),
    "review": ("/zones/NJ-DEMO-01/review", "expert-wang", 200),
    "review-province": ("/zones/NJ-DEMO-01/review", "province-bureau", 200),
    "worklist-province": ("/worklist", "province-bureau", 200),
    "error-404": ("/zones/NO-SUCH-ZONE", "province-bureau", 404),
    "error-404-public": ("/zones/NO-SUCH-ZONE", None, 404),
    "error-403": ("/sessions", "demo-applicant", 403),
    "docs": ("/docs", None, 200),
}
# Pages whose templates other work is rewriting: a violation found there is recorded, not fixed here.
NOT_OURS: dict[str, str] = {}
# /docs is Swagger UI's own page (vendored, served by the app): its markup nests the operation's buttons
# (nested-interactive) and greys its version stamp and method badges (color-contrast); restyling the vendored
# copy is out of scope. Its structure is checked in test_the_api_docs_page_structure.
SWAGGER = ("Swagger UI's own markup: serious nested-interactive (.opblock-summary-control holds buttons) and "
           "color-contrast (.version-stamp, .url, .opblock-summary-method)")


def open_page(browser, server, name: str, size: str) -> Offline:  # noqa: F811
    path, username, status = PAGES[name]
    tab = Offline(browser, **SIZES[size])
    if username:
        login(tab.page, server, username)
    response = tab.page.goto(f"{server}{path}", wait_until="load")
    assert response is not None and response.status == status, (path, response and response.status)
    if name == "docs":
        tab.page.wait_for_selector(".swagger-ui .opblock-tag", timeout=15000)
    return tab


def structure(page) -> dict:
    return page.evaluate("""() => ({
        title: document.title.trim(),
        lang: document.documentElement.lang,
        h1: document.querySelectorAll('h1').length,
        main: document.querySelectorAll('main, [role=main]').length,
        mainId: (document.querySelector('main') || {}).id || '',
        unlabelled: [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.getAttribute('aria-labelledby') && !e.title)
            .map(e => e.name || e.id || e.outerHTML.slice(0, 60)),
    })""")


def _cases():
    for name in PAGES:
        for size in SIZES:
            reason = SWAGGER if name == "docs" else NOT_OURS.get(name)
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            yield pytest.param(name, size, id=f"{name}-{size}", marks=marks)


@pytest.mark.parametrize(("name", "size"), list(_cases()))
def test_page_has_no_serious_accessibility_violation(browser, server, name, size):  # noqa: F811
    tab = open_page(browser, server, name, size)
    page, status = tab.page, PAGES[name][2]
    try:
        found = structure(page)
        assert found["title"] and found["lang"] == "zh-CN", found
        assert found["h1"] == 1 and found["main"] == 1, found
        assert found["unlabelled"] == [], found
        if name != "docs":  # Swagger UI is its own page, without the app's header
            # the header knows who is logged in, on error pages too
            assert page.locator("header.site #logout").count() == (1 if PAGES[name][1] else 0), name
            assert found["mainId"] == "main" and page.locator("a.skip[href='#main']").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]
        assert not (v := violations(page)), describe(v)
        page.screenshot(path=str(ARTIFACTS / f"a11y-{name}-{size}.png"), full_page=True)
        expected = [f"the server responded with a status of {status}"] if status >= 400 else []
        assert [e for e in tab.errors if not any(x in e for x in expected)] == []
    finally:
        tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_api_docs_page_structure(browser, server, size):  # noqa: F811
    """Swagger UI works offline and says its language, title, one h1 and a main landmark."""
    tab = open_page(browser, server, "docs", size)
    try:
        found = structure(tab.page)
        assert found["title"] == "zonegeo 集聚区空间登记系统 · 接口文档" and found["lang"] == "zh-CN", found
        assert found["h1"] == 1 and found["main"] == 1, found
        assert {v["id"] for v in violations(tab.page)} <= {"nested-interactive", "color-contrast"}
        assert tab.errors == [] and tab.blocked == []
    finally:
        tab.close()


def tall_enough(page, size: str, *selectors: str) -> None:
    """On the phone every form control is a tap target at least 44 px tall."""
    if size == "phone":
        for selector in selectors:
            assert page.locator(selector).bounding_box()["height"] >= 44, selector


@pytest.mark.parametrize("size", SIZES)
def test_the_review_form_and_a_refused_login_are_accessible(browser, server, engine, tmp_path, size):  # noqa: F811
    """The pages with their forms and messages shown: the expert's review form (a zone under review) with a
    recorded result, and the login page after a wrong password."""
    from tests.test_lifecycle_edges_api import zone_in
    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services import access

    code = zone_in(engine, tmp_path, "under_review", {}, prefix=f"AXE{size[0].upper()}")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
    tab = Offline(browser, **SIZES[size])
    page = tab.page
    try:
        page.goto(f"{server}/login", wait_until="load")
        page.fill("#username", "expert-wang")
        page.fill("#password", "wrong password!")
        page.click("#login-submit")
        page.wait_for_selector("#login-error")
        assert not (v := violations(page)), describe(v)
        tall_enough(page, size, "#username", "#password", "#login-submit")
        assert all("status of 401" in e for e in tab.errors), tab.errors
        tab.errors.clear()
        login(page, server, "expert-wang")
        page.goto(f"{server}/zones/{code}/review", wait_until="load")
        page.select_option("#review-result", "needs_more")
        page.fill("#review-note", "请补充场地租赁合同")
        page.click("#review-submit")
        page.wait_for_selector("#message")
        assert page.locator("#review-form").count() == 1 and structure(page)["unlabelled"] == []
        tall_enough(page, size, "#review-item", "#review-result", "#review-note", "#review-submit")
        assert not (v := violations(page)), describe(v)
        page.screenshot(path=str(ARTIFACTS / f"a11y-review-form-{size}.png"), full_page=True)
        assert tab.errors == []
    finally:
        tab.close()
