"""提交申报 on the zone page: the applicant sends a drafted application to the city bureau with a confirmation
step; the state machine's Chinese reason (missing materials) is shown on the page and nothing changes; other roles
see no form and get 403 on the POST."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import bearer
from zonegeo.db import repo
from zonegeo.db.models import LifecycleEvent
from zonegeo.db.session import session_factory, transaction


@pytest.fixture
def applicant(web_as):
    return web_as("demo-applicant")


def flash(html: str) -> tuple[str, str]:
    m = re.search(r'id="flash"[^>]*data-code="([^"]*)">([^<]*)<', html)
    return (m.group(1), m.group(2).strip()) if m else ("", "")


def new_application(applicant) -> str:
    code = f"SUB-{uuid.uuid4().hex[:6]}"
    body = {"code": code, "name": "提交申报测试集聚区", "city": "南京市", "builder": "南京某区人民政府", "operator": ""}
    r = applicant.post("/api/zones", json=body, headers={"X-CSRF-Token": applicant.csrf})
    assert r.status_code == 201, r.text
    return code


def submit(client, code: str, **form):
    return client.post(f"/zones/{code}/submit-application", data={"csrf": client.csrf, **form})


def state_and_events(engine, code: str) -> tuple[str, list[str]]:
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        return zone.status, [e.action for e in s.query(LifecycleEvent).filter_by(zone_id=zone.id)]


def test_the_applicant_submits_after_confirming_with_every_material(applicant, engine):
    code = new_application(applicant)
    page = applicant.get(f"/zones/{code}").text
    assert 'id="submit-application-submit"' in page and 'id="submit-application-confirm"' in page

    r = submit(applicant, code)  # not confirmed: nothing happens
    assert r.status_code == 200 and flash(r.text) == ("not_confirmed", "提交申报前请先勾选确认")
    assert state_and_events(engine, code) == ("draft", [])

    r = submit(applicant, code, confirm="yes")  # the state machine refuses: the materials are not all there
    code_, text = flash(r.text)
    assert code_ == "missing_material"
    assert text == "申报材料不全：缺少江苏省知识产权服务业集聚区申报表、集聚区创建工作方案、申报材料真实性承诺书"
    assert state_and_events(engine, code) == ("draft", [])

    for kind in ("application_form", "work_plan", "commitment"):
        up = applicant.post(f"/api/zones/{code}/attachments", data={"kind": kind},
                            files={"file": (f"{kind}.pdf", b"%PDF-1.4 " + kind.encode())},
                            headers={"X-CSRF-Token": applicant.csrf})
        assert up.status_code == 201, up.text
    r = submit(applicant, code, confirm="yes")
    assert flash(r.text) == ("", "申报已提交；当前状态：已申报（待设区市推荐），等待设区市知识产权局推荐")
    assert state_and_events(engine, code) == ("submitted", ["submit"])
    assert 'id="submit-application-submit"' not in r.text  # submitted: no second submission from the page
    again = submit(applicant, code, confirm="yes")
    assert flash(again.text)[0] == "illegal_transition"
    assert state_and_events(engine, code) == ("submitted", ["submit"])


def test_other_roles_see_no_form_and_get_403(applicant, web_as, settings, tokens, client):
    code = new_application(applicant)
    for username in ("nanjing-bureau", "province-bureau"):
        other = web_as(username)
        assert 'id="submit-application' not in other.get(f"/zones/{code}").text
        assert submit(other, code, confirm="yes").status_code == 403
    assert client.post(f"/zones/{code}/submit-application", data={"confirm": "yes"},
                       headers=bearer(tokens, "city")).status_code == 403
