"""A new application made in Chromium, as an applicant would, at 1366×768 and 390×844 with the network cut: the
form refuses and keeps every entry, then creates the zone; the materials checklist marks 必填/未上传 until a file
is uploaded and shows its SHA-256; the templates download under their Chinese names; axe-core finds nothing serious."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}
ENTRIES = {"#code": "", "#name": "河西知识产权服务业集聚区", "#builder": "南京市建邺区人民政府", "#operator": "河西运营公司",
           "#side-east": "江东中路", "#side-south": "", "#side-west": "滨江公园", "#side-north": "梦都大街"}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_new_application_then_its_materials(browser, server, tmp_path, size):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    code = f"WEB-{uuid.uuid4().hex[:8]}"
    tab = Offline(browser, **SIZES[size])
    page = tab.page
    login(page, server, "demo-applicant")
    page.goto(f"{server}/apply", wait_until="load")
    assert page.locator("h1").count() == 1
    assert not (v := violations(page)), describe(v)
    assert no_sideways_scroll(page)

    # refused: a code in Chinese and no 南至; every entry is kept and the message is Chinese
    entries = ENTRIES | {"#code": "河西01"}
    for selector, value in entries.items():
        page.fill(selector, value)
    page.select_option("#city", "南京市")
    page.click("#apply-submit")
    page.wait_for_selector("#error")
    assert "集聚区编号只能由字母" in page.locator("#error").inner_text()
    for selector, value in entries.items():
        assert page.input_value(selector) == value, selector
    assert page.locator("#city").input_value() == "南京市"
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert not (v := violations(page)), describe(v)
    page.screenshot(path=str(ARTIFACTS / f"apply-refused-{size}.png"), full_page=True)

    page.fill("#code", code)
    page.click("#apply-submit")
    page.wait_for_selector("#error")
    assert "请填写南至" in page.locator("#error").inner_text()
    assert page.get_attribute("#side-south", "aria-invalid") == "true"
    assert all("status of 422" in e for e in tab.errors), tab.errors  # the refused form answers 422
    tab.errors.clear()

    page.fill("#side-south", "河西大街")
    page.click("#apply-submit")
    page.wait_for_url(f"**/zones/{code}/materials?created=1")
    assert "申报已创建" in page.locator("#message").inner_text()
    for kind in ("application_form", "work_plan", "commitment"):
        section = page.locator(f"#material-{kind}")
        assert section.get_attribute("data-missing") == "true"
        assert "必填" in section.inner_text() and "未上传" in section.inner_text()
    assert page.locator("#file-recommendation_letter").count() == 0  # the city's
    assert "南至河西大街" in page.locator("#four-sides-table").inner_text()
    assert not (v := violations(page)), describe(v)
    assert no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"materials-new-{size}.png"), full_page=True)

    form = tmp_path / "江苏省知识产权服务业集聚区申报表.pdf"
    form.write_bytes(b"%PDF-1.4\n" + "申报表".encode() * 500)
    page.set_input_files("#file-application_form", str(form))
    page.click("#upload-application_form")
    page.wait_for_url("**/materials?added=*")
    section = page.locator("#material-application_form")
    assert section.get_attribute("data-missing") == "false"
    text = section.inner_text()
    assert form.name in text and hashlib.sha256(form.read_bytes()).hexdigest() in text and "demo-applicant" in text
    assert "尚缺必填材料：集聚区创建工作方案、申报材料真实性承诺书" in page.locator("#missing-summary").inner_text()
    assert not (v := violations(page)), describe(v)
    assert no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"materials-uploaded-{size}.png"), full_page=True)

    # a refresh after the upload shows the page again: nothing is posted twice
    page.reload(wait_until="load")
    assert page.locator("#material-application_form li[data-attachment]").count() == 1

    with page.expect_download() as download:
        page.click("a[href='/templates/boundary-points.xlsx']")
    assert download.value.suggested_filename == "界址点坐标表.xlsx"
    assert tab.errors == [] and tab.blocked == []
    tab.close()
