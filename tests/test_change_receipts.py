"""Change-report receipts over HTTP on real PostGIS: the province's 回执 (with its receipt number) and the city
bureau's 抄报已收到 — who may do what, twice, a report not yet filed, another zone's change, the database's own
checks, the page forms (CSRF, Post/Redirect/Get, the Chinese refusal) and the 待办 rows appearing and going."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import PASSWORD, bearer
from tests.test_zone_desk import flash
from zonegeo.db.models import AuditEntry, ChangeEvent, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access, auth

REPORTED = dt.date(2026, 11, 20)


def make_zone(engine, city: str = "南京市", applicant: str | None = "demo-applicant") -> str:
    code = f"RCPT-{uuid.uuid4().hex[:8]}"
    with transaction(session_factory(engine)) as s:
        s.add(Zone(code=code, name=f"回执测试集聚区{code[-4:]}", city=city, builder="建设主体", status="operating",
                   dates={}, four_sides={}))
        s.flush()
        if applicant:
            access.add_member(session=s, code=code, username=applicant, relation_="applicant")
    return code


def make_change(engine, code: str, reported: bool = True) -> int:
    with transaction(session_factory(engine)) as s:
        zone = s.scalars(select(Zone).where(Zone.code == code)).one()
        row = ChangeEvent(zone_id=zone.id, kind="operator", description="运营管理机构更换",
                          occurred_on=REPORTED - dt.timedelta(days=10), report_due=REPORTED + dt.timedelta(days=5),
                          reported_on=REPORTED if reported else None, reported_by="申报单位" if reported else "",
                          metrics={})
        s.add(row)
        s.flush()
        return row.id


def event(engine, change_id: int) -> ChangeEvent:
    with transaction(session_factory(engine)) as s:
        row = s.get(ChangeEvent, change_id)
        s.expunge(row)
        return row


def audits(engine, code: str, change_id: int) -> list[AuditEntry]:
    with transaction(session_factory(engine)) as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.object == f"zone/{code}/change/{change_id}")
                              .order_by(AuditEntry.id)))
        s.expunge_all()
        return rows


@pytest.fixture
def suzhou_token(engine, tokens) -> str:
    name = f"suzhou-{uuid.uuid4().hex[:6]}"
    with transaction(session_factory(engine)) as s:
        auth.add_user(session=s, username=name, password=PASSWORD, role="city", city="苏州市")
        return auth.create_token(session=s, username=name)


def url(code: str, change_id: int, action: str) -> str:
    return f"/api/zones/{code}/changes/{change_id}/{action}"


def test_the_province_acknowledges_a_filed_report_once_with_a_receipt_number(client, engine):
    code = make_zone(engine)
    cid = make_change(engine, code)
    listed = {r["id"]: r for r in client.get("/api/changes").json()["data"]}[cid]
    assert (listed["receipt_status"], listed["receipt_label"]) == ("awaiting", "已报告待回执")
    assert (listed["copy_status"], listed["copy_label"]) == ("awaiting", "抄报待确认收到")
    r = client.post(url(code, cid, "acknowledge"), json={"by": "省局经办人"})
    assert r.status_code == 200, r.text
    body = r.json()
    today = dt.date.today()
    assert body["receipt_no"] == f"HZ-{today.year}-{cid:06d}" and re.fullmatch(r"HZ-\d{4}-\d{6,}", body["receipt_no"])
    assert body["receipt_status"] == "acknowledged" and body["receipt_label"] == "已回执"
    assert body["acknowledged_on"] == today.isoformat() and body["acknowledged_by"] == "省局经办人"
    assert body["copy_status"] == "awaiting"  # the city's copy is its own step
    (entry,) = audits(engine, code, cid)
    assert entry.action == "change_acknowledged" and entry.actor == "province-bureau"
    assert entry.after["receipt_no"] == body["receipt_no"]
    again = client.post(url(code, cid, "acknowledge"))
    assert again.status_code == 409 and again.json()["code"] == "already_acknowledged"
    assert body["receipt_no"] in again.json()["message"] and "已于" in again.json()["message"]
    assert event(engine, cid).receipt_no == body["receipt_no"] and len(audits(engine, code, cid)) == 1


def test_nothing_to_acknowledge_or_receive_before_the_report(client, settings, engine, tokens):
    code = make_zone(engine)
    cid = make_change(engine, code, reported=False)
    r = client.post(url(code, cid, "acknowledge"))
    assert r.status_code == 409 and r.json()["code"] == "change_not_reported" and "尚未报告" in r.json()["message"]
    r = client.post(url(code, cid, "receive"), headers=bearer(tokens, "city"))
    assert r.status_code == 409 and r.json()["code"] == "change_not_reported"
    row = event(engine, cid)
    assert row.acknowledged_on is None and row.receipt_no == "" and row.city_received_on is None
    assert audits(engine, code, cid) == []


def test_a_date_before_the_report_is_refused(client, engine):
    code = make_zone(engine)
    cid = make_change(engine, code)
    r = client.post(url(code, cid, "acknowledge"), json={"on": (REPORTED - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and r.json()["code"] == "before_report" and "不能早于" in r.json()["message"]
    assert event(engine, cid).receipt_no == ""
    r = client.post(url(code, cid, "acknowledge"), json={"on": REPORTED.isoformat()})  # the same day is fine
    assert r.status_code == 200 and r.json()["receipt_no"] == f"HZ-{REPORTED.year}-{cid:06d}"


def test_another_zones_change_is_not_found(client, engine, tokens):
    code, other = make_zone(engine), make_zone(engine)
    cid = make_change(engine, other)
    for action, role in (("acknowledge", "province"), ("receive", "city")):
        r = client.post(url(code, cid, action), headers=bearer(tokens, role))
        assert r.status_code == 404 and r.json()["code"] == "change_not_found", (action, r.text)
    r = client.post(url(code, 10**9, "acknowledge"))
    assert r.status_code == 404
    assert event(engine, cid).receipt_no == "" and event(engine, cid).city_received_on is None


def test_who_may_acknowledge_and_receive(client, anon, engine, tokens, suzhou_token):
    code = make_zone(engine)  # 南京市
    cid = make_change(engine, code)
    for role in ("applicant", "city", "expert"):
        r = client.post(url(code, cid, "acknowledge"), headers=bearer(tokens, role))
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden", role
    for role in ("applicant", "province", "expert"):
        r = client.post(url(code, cid, "receive"), headers=bearer(tokens, role))
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden", role
    for action in ("acknowledge", "receive"):
        assert anon.post(url(code, cid, action)).status_code == 401
    # the city bureau of another city does not even see the zone
    r = client.post(url(code, cid, "receive"), headers={"Authorization": f"Bearer {suzhou_token}"})
    assert r.status_code == 404
    row = event(engine, cid)
    assert row.receipt_no == "" and row.city_received_on is None and audits(engine, code, cid) == []
    # the zone's own city bureau: once
    r = client.post(url(code, cid, "receive"), headers=bearer(tokens, "city"), json={})
    assert r.status_code == 200, r.text
    assert r.json()["copy_status"] == "received" and r.json()["copy_label"] == "抄报已收到"
    assert r.json()["city_received_on"] == dt.date.today().isoformat() and r.json()["receipt_no"] == ""
    again = client.post(url(code, cid, "receive"), headers=bearer(tokens, "city"))
    assert again.status_code == 409 and again.json()["code"] == "already_received"
    (entry,) = audits(engine, code, cid)
    assert entry.action == "change_copy_received" and entry.actor == "nanjing-bureau"


def test_the_database_keeps_receipts_after_reports_and_their_numbers_unique(engine, tokens):
    code = make_zone(engine)
    unreported, a, b = make_change(engine, code, reported=False), make_change(engine, code), make_change(engine, code)
    factory = session_factory(engine)
    cases = [(unreported, {"acknowledged_on": REPORTED, "receipt_no": "HZ-X-1"}),
             (unreported, {"city_received_on": REPORTED}),
             (a, {"acknowledged_on": REPORTED - dt.timedelta(days=1), "receipt_no": "HZ-X-2"}),
             (a, {"city_received_on": REPORTED - dt.timedelta(days=1)}),
             (a, {"receipt_no": "HZ-X-3"}),  # a number without a 回执
             (a, {"acknowledged_on": REPORTED})]  # a 回执 without a number
    for cid, values in cases:
        with pytest.raises(IntegrityError), transaction(factory) as s:
            row = s.get(ChangeEvent, cid)
            for k, v in values.items():
                setattr(row, k, v)
    with transaction(factory) as s:
        s.get(ChangeEvent, a).acknowledged_on, s.get(ChangeEvent, a).receipt_no = REPORTED, "HZ-DUP-1"
    with pytest.raises(IntegrityError), transaction(factory) as s:
        s.get(ChangeEvent, b).acknowledged_on, s.get(ChangeEvent, b).receipt_no = REPORTED, "HZ-DUP-1"
    assert event(engine, b).receipt_no == ""


def test_the_worklist_rows_appear_and_go(client, engine, tokens):
    code = make_zone(engine)
    cid = make_change(engine, code)

    def kinds(role: str) -> set[str]:
        rows = client.get("/api/worklist", headers=bearer(tokens, role)).json()["data"]
        return {r["kind"] for r in rows if r["zone_code"] == code and r["kind"].startswith("change_")}

    assert kinds("province") == {"change_acknowledge"} and kinds("city") == {"change_copy"}
    assert not kinds("applicant")
    (row,) = [r for r in client.get("/api/worklist").json()["data"]
              if r["zone_code"] == code and r["kind"] == "change_acknowledge"]
    assert row["action_url"] == f"/changes#change-{cid}" and row["kind_label"] == "变更报告待出具回执"
    assert client.post(url(code, cid, "acknowledge")).status_code == 200
    assert not kinds("province") and kinds("city") == {"change_copy"}
    assert client.post(url(code, cid, "receive"), headers=bearer(tokens, "city")).status_code == 200
    assert not kinds("city")


# ---- the page forms -------------------------------------------------------------------------------------------

@pytest.fixture
def province(web_as):
    return web_as("province-bureau")


@pytest.fixture
def city(web_as):
    return web_as("nanjing-bureau")


@pytest.fixture
def applicant(web_as):
    return web_as("demo-applicant")


def test_the_province_issues_the_receipt_on_the_changes_page(province, engine):
    code = make_zone(engine)
    cid = make_change(engine, code)
    page = province.get("/changes").text
    assert f'id="acknowledge-{cid}"' in page and "出具回执" in page and f'id="receive-{cid}"' not in page
    form = f"/zones/{code}/changes/{cid}/acknowledge"
    refused = province.post(form, data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and event(engine, cid).receipt_no == ""
    r = province.post(form, data={"csrf": province.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/changes#change-{cid}"
    number = event(engine, cid).receipt_no
    page = province.get("/changes").text
    assert number and f"已出具回执，回执编号{number}" in flash(page)
    assert f'id="acknowledge-{cid}"' not in page and number in page and "已回执" in page
    assert flash(province.get("/changes").text) == ""  # shown once
    r = province.post(form, data={"csrf": province.csrf})  # twice: the Chinese refusal, nothing changed
    assert r.status_code == 200 and "已于" in flash(r.text) and 'data-code="already_acknowledged"' in r.text
    assert event(engine, cid).receipt_no == number and len(audits(engine, code, cid)) == 1


def test_the_city_confirms_the_copy_on_the_changes_page_and_the_zone_page(city, engine):
    code, other = make_zone(engine), make_zone(engine, city="苏州市", applicant=None)
    cid, hidden = make_change(engine, code), make_change(engine, other)
    page = city.get("/changes").text
    assert f'id="receive-{cid}"' in page and "确认收到抄报" in page and f'id="acknowledge-{cid}"' not in page
    assert f'data-change="{hidden}"' not in page  # 苏州市's reports are not 南京市's bureau's
    assert city.post(f"/zones/{other}/changes/{hidden}/receive", data={"csrf": city.csrf},
                     follow_redirects=False).status_code == 404
    zone_page = city.get(f"/zones/{code}").text
    assert f'id="receive-{cid}"' in zone_page
    r = city.post(f"/zones/{code}/changes/{cid}/receive", data={"csrf": city.csrf, "back": "zone"},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/zones/{code}#change-{cid}"
    zone_page = city.get(f"/zones/{code}").text
    assert flash(zone_page) == "已确认收到该变更报告的抄报" and "抄报已收到" in zone_page
    assert f'id="receive-{cid}"' not in zone_page and event(engine, cid).city_received_on == dt.date.today()
    assert event(engine, hidden).city_received_on is None
    # the province's form is not the city's
    assert city.post(f"/zones/{code}/changes/{cid}/acknowledge", data={"csrf": city.csrf},
                     follow_redirects=False).status_code == 403


def test_the_applicant_sees_the_receipt_number_on_the_zone_page(applicant, client, engine):
    code = make_zone(engine)
    cid = make_change(engine, code)
    page = applicant.get(f"/zones/{code}").text
    assert "已报告待回执" in page and f'id="acknowledge-{cid}"' not in page and f'id="receive-{cid}"' not in page
    number = client.post(url(code, cid, "acknowledge")).json()["receipt_no"]
    page = applicant.get(f"/zones/{code}").text
    assert f'<strong class="receipt-no">{number}</strong>' in page and "已回执" in page
    assert applicant.post(f"/zones/{code}/changes/{cid}/acknowledge", data={"csrf": applicant.csrf},
                          follow_redirects=False).status_code == 403
