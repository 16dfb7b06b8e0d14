"""The 公示 on the public site (issue 14): the page, the public objection form (stored, receipt number, rate limit,
size and type limits, the period), the province's handling through the lifecycle, approval blocked meanwhile."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import app_client, bearer, import_demo_copy
from zonegeo.db.models import AuditEntry, LifecycleEvent, PublicObjection, User, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.maps.basemaps import DATA_SOURCE
from zonegeo.services import notices

PDF = b"%PDF-1.4\n% test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _notice(engine, code: str, start: dt.date, *, published: bool = False) -> dt.date:
    """Put a zone into its 公示 from ``start`` (the lifecycle's own count: 5 working days, the start day counted)."""
    end = WorkCalendar().add_working_days(start - dt.timedelta(days=1), 5).due
    with transaction(session_factory(engine)) as s:
        zone = s.scalar(select(Zone).where(Zone.code == code))
        assert zone is not None
        zone.status = "noticed"
        zone.dates = {"notice_start": start.isoformat(), "notice_end": end.isoformat()}
        zone.published = published
    return end


@pytest.fixture(scope="module")
def noticed(engine, tmp_path_factory, tokens) -> str:
    """A zone under notice since today (the period is open for days to come)."""
    code = import_demo_copy(engine, tmp_path_factory.mktemp("notice"), "NOT")
    _notice(engine, code, dt.date.today())
    return code


def _guest(settings):
    """A visitor from an address of its own (the rate limit counts per address)."""
    return app_client(settings, client=(f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}", 40000))


def _token(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _file(c, code: str, *, text: str = "四至范围与实际不符", files=None, name: str = "张三",
          contact: str = "13800000000", csrf: str | None = None):
    token = csrf if csrf is not None else _token(c.get(f"/notices/{code}").text)
    return c.post(f"/notices/{code}/objections", data={"csrf": token, "name": name, "contact": contact, "text": text},
                  files=files, headers={"Accept": "text/html"}, follow_redirects=False)


def test_the_notice_page_shows_the_zone_the_period_and_the_form(settings, noticed):
    with _guest(settings) as c:
        listing = c.get("/notices")
        assert listing.status_code == 200 and f'href="/notices/{noticed}"' in listing.text
        page = c.get(f"/notices/{noticed}")
        assert page.status_code == 200
        assert "公示期" in page.text and "（5个工作日）" in page.text and "剩余" in page.text
        assert 'id="objection-submit"' in page.text and "量化条件" in page.text
        assert 'id="objections-link"' not in page.text  # the province's handling page is not offered to the public
        assert f'src="/notices/{noticed}/map"' in page.text
        m = c.get(f"/notices/{noticed}/map")
        assert m.status_code == 200 and "公示地图" in m.text
        assert json.dumps(DATA_SOURCE)[1:-1] in m.text  # the data source line (folium writes it \u-escaped)
        # a zone not under notice has no 公示 page
        assert c.get("/notices/NJ-DEMO-01").status_code == 404


def test_days_left_counts_working_days_with_today(engine):
    cal = WorkCalendar()
    zone = Zone(code="X", name="x", city="南京市", dates={"notice_start": "2023-09-25", "notice_end": "2023-10-07"})
    # Monday 25 Sep 2023: 25, 26, 27, 28 Sep and make-up Saturday 7 Oct are the five working days
    first = notices.period(zone, dt.date(2023, 9, 25), cal)
    assert first is not None and (first.working_days, first.days_left, first.over) == (5, 5, False)
    holiday = notices.period(zone, dt.date(2023, 10, 3), cal)  # National Day: only 7 Oct is left
    assert holiday is not None and holiday.days_left == 1
    last = notices.period(zone, dt.date(2023, 10, 7), cal)
    assert last is not None and (last.days_left, last.over) == (1, False)
    after = notices.period(zone, dt.date(2023, 10, 8), cal)
    assert after is not None and (after.days_left, after.over) == (0, True)


def test_an_objection_is_stored_registered_and_acknowledged_with_a_receipt(settings, engine, noticed):
    with _guest(settings) as c:
        r = _file(c, noticed, text="建筑面积有误", files={"attachment": ("证明.pdf", PDF, "application/pdf")})
        assert r.status_code == 303, r.text
        page = c.get(r.headers["location"])
        receipt = re.search(r'id="receipt-number">([^<]+)<', page.text)
        assert receipt is not None and re.fullmatch(rf"YY-{dt.date.today().year}-\d{{6}}", receipt.group(1))
        assert "回执号" not in c.get(f"/notices/{noticed}").text  # shown once
    with transaction(session_factory(engine)) as s:
        row = s.scalar(select(PublicObjection).where(PublicObjection.receipt == receipt.group(1)))
        assert row is not None and (row.name, row.text, row.attachment) == ("张三", "建筑面积有误", PDF)
        assert row.attachment_type == "application/pdf" and row.attachment_size == len(PDF)
        event = s.get(LifecycleEvent, row.objection_event_id)
        assert event is not None and event.action == "objection" and event.data["public_objection"] == row.receipt
        assert "张三" not in str(event.data) and "13800000000" not in str(event.data)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "public_objection_filed")
                         .order_by(AuditEntry.id.desc()).limit(1))
        assert entry is not None and entry.actor == "anonymous" and "张三" not in str(entry.after)


def test_refusals_are_located_and_store_nothing(settings, engine, noticed, tmp_path):
    def count() -> int:
        with transaction(session_factory(engine)) as s:
            return len(s.scalars(select(PublicObjection.id)).all())

    before = count()
    limit = settings.public_objection_max_kb * 1024
    with _guest(settings) as c:
        big = _file(c, noticed, files={"attachment": ("扫描件.pdf", PDF + b"0" * (limit - len(PDF) + 1))})
        assert big.status_code == 422 and 'data-code="attachment_too_large"' in big.text
        assert "扫描件.pdf" in big.text and f"{settings.public_objection_max_kb} KB" in big.text
        assert "四至范围与实际不符" in big.text  # what was typed stays in the form
        exact = _file(c, noticed, files={"attachment": ("刚好.pdf", PDF + b"0" * (limit - len(PDF)))})
        assert exact.status_code == 303  # exactly at the limit is accepted
        exe = _file(c, noticed, files={"attachment": ("说明.pdf", b"MZ\x90\x00 not a pdf")})
        assert exe.status_code == 422 and 'data-code="attachment_type"' in exe.text and "说明.pdf" in exe.text
        empty = _file(c, noticed, text="   ")
        assert empty.status_code == 422 and "请填写异议内容" in empty.text
        long = _file(c, noticed, text="异" * (notices.MAX_TEXT + 1))
        assert long.status_code == 422 and f"不能超过{notices.MAX_TEXT}个字" in long.text
        at_limit = _file(c, noticed, text="异" * notices.MAX_TEXT)
        assert at_limit.status_code == 303
        forged = _file(c, noticed, csrf="forged")
        assert forged.status_code == 403
    assert count() == before + 2


def test_the_rate_limit_per_address_answers_429_in_chinese(settings, noticed):
    per_hour = settings.public_objections_per_hour
    with _guest(settings) as c:
        for _ in range(per_hour):
            assert _file(c, noticed).status_code == 303
        refused = _file(c, noticed)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert f"每小时最多提交{per_hour}份异议" in refused.text and 'data-code="objection_rate_limited"' in refused.text
    with _guest(settings) as other:  # another address is not limited by the first one's filings
        assert _file(other, noticed).status_code == 303


def test_an_objection_after_the_period_is_refused(settings, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "OVER")
    end = _notice(engine, code, dt.date.today() - dt.timedelta(days=30))
    with _guest(settings) as c:
        page = c.get(f"/notices/{code}")
        assert "公示已结束" in page.text and 'id="objection-submit"' not in page.text
        token = _token(page.text) if 'name="csrf"' in page.text else _token(c.get("/login").text)
        r = _file(c, code, csrf=token)
        assert r.status_code == 409 and f"公示期已于{end:%Y年%m月%d日}结束，不再受理异议" in r.text


def test_the_province_resolves_it_and_approval_is_blocked_until_then(settings, engine, tokens, tmp_path, web_as):
    code = import_demo_copy(engine, tmp_path, "OBJ")
    _notice(engine, code, dt.date.today() - dt.timedelta(days=14))  # over: approval waits on objections only
    with transaction(session_factory(engine)) as s:  # the period was open when the objection came in
        zone = s.scalar(select(Zone).where(Zone.code == code))
        assert zone is not None
        zone.dates = {**zone.dates, "notice_end": dt.date.today().isoformat()}
    with _guest(settings) as c:
        assert _file(c, code, text="该园区未实际运营").status_code == 303
    with transaction(session_factory(engine)) as s:
        receipt = s.scalar(select(PublicObjection.receipt).join(Zone, Zone.id == PublicObjection.zone_id)
                           .where(Zone.code == code))
        province = s.scalar(select(User).where(User.username == "province-bureau"))
        assert province is not None and receipt is not None
        items = [i for i in notices.worklist_items(s, province, dt.date.today()) if i["zone_code"] == code]
        assert [i["action_url"] for i in items] == [f"/notices/{code}/objections#{receipt}"]
        applicant = s.scalar(select(User).where(User.username == "demo-applicant"))
        assert notices.worklist_items(s, applicant, dt.date.today()) == []
    with app_client(settings, headers=bearer(tokens, "province")) as api:
        blocked = api.post(f"/api/zones/{code}/lifecycle/approve", json={"on": dt.date.today().isoformat(), "data": {}})
        assert blocked.status_code == 409
        assert "objections_open" in [m["code"] for m in blocked.json()["detail"]["missing"]]
    with app_client(settings, headers=bearer(tokens, "city")) as city:
        assert city.get(f"/notices/{code}/objections").status_code == 403
    with _guest(settings) as c:
        assert c.get(f"/notices/{code}/objections", follow_redirects=False).status_code in (303, 401)
    province_web = web_as("province-bureau")
    assert 'id="objections-link"' in province_web.get(f"/notices/{code}").text
    for where in (f"/zones/{code}", f"/zones/{code}/decide", f"/audit?zone={code}"):  # the public's event reads well
        assert province_web.get(where).status_code == 200, where
    assert "收到公众异议（回执号" in province_web.get(f"/audit?zone={code}").text
    page = province_web.get(f"/notices/{code}/objections")
    assert page.status_code == 200 and receipt in page.text and "该园区未实际运营" in page.text and "张三" in page.text
    too_long = province_web.post(f"/notices/{code}/objections/{receipt}/resolve", follow_redirects=False,
                                 data={"csrf": province_web.csrf, "outcome": "dismissed",
                                       "decision": "意" * (notices.MAX_TEXT + 1)})
    assert too_long.status_code == 303
    assert f"处理意见不能超过{notices.MAX_TEXT}个字" in province_web.get(f"/notices/{code}/objections").text
    done = province_web.post(f"/notices/{code}/objections/{receipt}/resolve",
                             data={"csrf": province_web.csrf, "outcome": "dismissed", "decision": "经核实，园区已运营",
                                   "on": dt.date.today().isoformat()}, follow_redirects=False)
    assert done.status_code == 303
    after = province_web.get(f"/notices/{code}/objections")
    assert "已处理：异议不成立" in after.text and "经核实，园区已运营" in after.text
    again = province_web.post(f"/notices/{code}/objections/{receipt}/resolve",
                              data={"csrf": province_web.csrf, "outcome": "dismissed", "decision": "重复",
                                    "on": dt.date.today().isoformat()}, follow_redirects=False)
    assert again.status_code == 303 and "已经处理" in province_web.get(f"/notices/{code}/objections").text
    with app_client(settings, headers=bearer(tokens, "province")) as api:
        later = api.post(f"/api/zones/{code}/lifecycle/approve", json={"on": dt.date.today().isoformat(), "data": {}})
        assert "objections_open" not in [m["code"] for m in later.json()["detail"]["missing"]]
    with transaction(session_factory(engine)) as s:
        row = s.scalar(select(PublicObjection).where(PublicObjection.receipt == receipt))
        assert row is not None and row.resolve_event_id is not None
        event = s.get(LifecycleEvent, row.resolve_event_id)
        assert event is not None and event.data["outcome"] == "dismissed" and event.data["public_objection"] == receipt
        assert notices.worklist_items(s, province, dt.date.today()) == [
            i for i in notices.worklist_items(s, province, dt.date.today()) if i["zone_code"] != code]


def test_an_objection_handled_on_the_decide_page_is_linked_when_the_province_opens_it(settings, engine, tokens,
                                                                                     tmp_path, web_as):
    code = import_demo_copy(engine, tmp_path, "LNK")
    _notice(engine, code, dt.date.today())
    with _guest(settings) as c:
        assert _file(c, code).status_code == 303
    with app_client(settings, headers=bearer(tokens, "province")) as api:  # the lifecycle's own form, no receipt
        r = api.post(f"/api/zones/{code}/lifecycle/resolve_objection",
                     json={"on": dt.date.today().isoformat(), "data": {"outcome": "upheld", "decision": "已核实"}})
        assert r.status_code == 200, r.text
    with transaction(session_factory(engine)) as s:
        receipt = s.scalar(select(PublicObjection.receipt).join(Zone, Zone.id == PublicObjection.zone_id)
                           .where(Zone.code == code))
        assert receipt is not None
    province = web_as("province-bureau")
    assert "（待处理）" in province.get(f"/notices/{code}/objections").text
    province.post(f"/notices/{code}/objections/{receipt}/resolve",
                  data={"csrf": province.csrf, "outcome": "dismissed", "decision": "x"}, follow_redirects=False)
    page = province.get(f"/notices/{code}/objections").text
    assert "现已关联该处理结果" in page and "已处理：异议成立" in page
    assert "已核实" in page  # the decision recorded on the lifecycle form
    with transaction(session_factory(engine)) as s:
        events = s.scalars(select(LifecycleEvent.action).join(Zone, Zone.id == LifecycleEvent.zone_id)
                           .where(Zone.code == code)).all()
        assert events.count("resolve_objection") == 1  # linked, not resolved twice
