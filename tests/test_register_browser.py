"""The institution register draft page in Chromium (network cut), at 1366×768 and 390×844: the applicant submits
an institutions-only upload's draft, the province is refused a return without a comment (Chinese message, nothing
changed) and approves it; the zone's institutions change only then. axe-core finds nothing serious."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, DEMO, import_demo_copy
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.db.models import Institution, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access
from zonegeo.services.uploads import UploadedFile, upload_version

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}


def active_institutions(engine, code) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Institution).join(Zone, Zone.id == Institution.zone_id)
                           .where(Zone.code == code, Institution.left_on.is_(None)))


def zone_with_register_draft(engine, tmp_path, rules, prefix: str) -> str:
    """A zone owned by the applicant with register draft 1: the demo's first 12 institutions (of 20)."""
    code = import_demo_copy(engine, tmp_path, prefix)
    lines = (DEMO / "institutions.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "入驻机构名录.csv"
    path.write_text("\n".join(lines[:13]) + "\n", encoding="utf-8")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="demo-applicant", relation_="applicant")
        result = upload_version(session=session, code=code, rules=rules, uploaded_by="demo-applicant",
                                files=[UploadedFile(path, path.name, "institutions", crs="EPSG:4490")])
    assert (result.version, result.register_draft) == (None, 1)
    return code


def check_page(page, name: str) -> None:
    assert page.locator("h1").count() == 1
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert not (found := violations(page)), describe(found)
    # nothing wider than the screen but the tables' own scrolling regions
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, timeout=90_000)  # slow on a loaded machine


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_applicant_submits_and_province_approves(browser, server, engine, tmp_path, rules, size):  # noqa: F811
    code = zone_with_register_draft(engine, tmp_path, rules, f"RB{size[0].upper()}")
    url = f"{server}/zones/{code}/register-drafts/1"
    ARTIFACTS.mkdir(exist_ok=True)

    applicant = Offline(browser, **SIZES[size])
    page = applicant.page
    login(page, server, "demo-applicant")
    page.goto(url, wait_until="load")
    assert page.inner_text("#register-state") == "草稿"
    rows = page.locator("#register-rows tbody tr")
    assert rows.count() == 12
    assert "按坐标" in rows.first.inner_text() and "范围内" in rows.first.inner_text()
    assert page.inner_text("#draft-total") == "12" and int(page.inner_text("#approved-counted")) >= 15
    assert page.locator("#action-approve").count() == 0 and page.locator("#action-return").count() == 0
    check_page(page, f"register-draft-applicant-{size}")
    page.click("#action-submit")
    page.wait_for_selector("#flash[data-kind=ok]")
    assert page.url == url  # Post/Redirect/Get: a refresh submits nothing again
    assert "已提交" in page.inner_text("#flash") and page.inner_text("#register-state") == "已提交"
    assert page.locator("#action-submit").count() == 0
    page.reload(wait_until="load")
    assert page.locator("#flash").count() == 0  # the message is shown once
    assert applicant.errors == [] and applicant.blocked == []
    applicant.close()
    assert active_institutions(engine, code) == 20  # submitted, not approved

    province = Offline(browser, **SIZES[size])
    page = province.page
    login(page, server, "province-bureau")
    page.goto(url, wait_until="load")
    page.click("#action-return")  # without a comment
    page.wait_for_selector("#flash[data-kind=error]")
    assert "必须填写退回意见" in page.inner_text("#flash") and page.inner_text("#register-state") == "已提交"
    check_page(page, f"register-draft-province-refused-{size}")
    page.fill("#approve-note-input", "名录与现场核查一致")
    page.click("#action-approve")
    page.wait_for_selector("#flash[data-kind=ok]")
    assert "已批准" in page.inner_text("#flash") and page.inner_text("#register-state") == "已批准"
    assert page.locator("#no-actions").count() == 1
    # the approved register is now the zone's: the comparison shows the same counts on both sides
    assert page.inner_text("#draft-counted") == page.inner_text("#approved-counted")
    check_page(page, f"register-draft-approved-{size}")
    assert province.errors == [] and province.blocked == []
    province.close()
    assert active_institutions(engine, code) == 12
