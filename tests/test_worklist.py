"""The 待办 on real PostGIS: what each role sees (and does not), the working days left, the action pages, the
filters, and a bounded number of SQL statements whatever the number of zones."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from geoalchemy2 import WKTElement

from tests.conftest import count_statements
from zonegeo.db.models import (
    Attachment,
    ChangeEvent,
    LifecycleEvent,
    RegisterDraft,
    User,
    Zone,
    ZoneMember,
    ZoneVersion,
)
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError
from zonegeo.services import lifecycle
from zonegeo.services.worklist import KINDS, check_filters, counts, worklist

TODAY = dt.date(2026, 11, 26)  # a Thursday with no holiday near
CAL = WorkCalendar()
SQUARE = "MULTIPOLYGON(((118.70 32.00,118.71 32.00,118.71 32.01,118.70 32.01,118.70 32.00)))"


def user(session, role: str, city: str | None = None) -> User:
    row = User(username=f"wl-{role}-{uuid.uuid4().hex[:8]}", role=role, city=city, password_hash="-",
               display_name=role)
    session.add(row)
    session.flush()
    return row


def zone(session, status: str, city: str = "苏州市", dates: dict | None = None, *members: User) -> Zone:
    code = f"WLT-{uuid.uuid4().hex[:10]}"
    row = Zone(code=code, name=f"测试集聚区{code[-4:]}", city=city, builder="建设主体", status=status,
               dates=dates or {}, four_sides={})
    session.add(row)
    session.flush()
    for m in members:
        session.add(ZoneMember(zone_id=row.id, user_id=m.id, relation=m.role))
    return row


def lifecycle_event(session, z: Zone, action: str, source: str, target: str, on: dt.date, actor: str = "x",
                    **data) -> None:
    session.add(LifecycleEvent(zone_id=z.id, action=action, from_state=source, to_state=target, on_date=on,
                               actor=actor, role="province", data=data))


def version(session, z: Zone, number: int, state: str) -> None:
    session.add(ZoneVersion(zone_id=z.id, number=number, state=state, boundary=WKTElement(SQUARE, srid=4490),
                            content_sha256="0" * 64, effective_on=TODAY))


def register(session, z: Zone, number: int, state: str, rows: int = 2, note: str = "",
             version_number: int | None = None) -> None:
    session.add(RegisterDraft(zone_id=z.id, number=number, state=state, rows=[{"name": f"机构{i}"} for i in range(rows)],
                              content_sha256="0" * 64, note=note, version_number=version_number))


def change(session, z: Zone, due: dt.date, reported: bool = False, receipts: bool = True) -> ChangeEvent:
    """A change event; a reported one also has the province's 回执 and the city's 抄报 unless ``receipts`` is False."""
    done = reported and receipts
    row = ChangeEvent(zone_id=z.id, kind="operator", occurred_on=due - dt.timedelta(days=21), report_due=due,
                      reported_on=due if reported else None, acknowledged_on=due if done else None,
                      receipt_no=f"HZ-T-{uuid.uuid4().hex[:12]}" if done else "", city_received_on=due if done else None)
    session.add(row)
    session.flush()
    return row


def group(session, people: dict[str, User], city: str = "苏州市") -> dict[str, Zone]:
    """Three zones that give every role something: a returned application short of materials (applicant), an
    application under review (expert, province), an application waiting for the city with a submitted layout
    version, a submitted and a returned register and an overdue change report."""
    applicant, expert = people["applicant"], people["expert"]
    a = zone(session, "draft", city, None, applicant)
    lifecycle_event(session, a, "submit", "draft", "submitted", dt.date(2026, 11, 2))
    lifecycle_event(session, a, "return", "submitted", "draft", dt.date(2026, 11, 9), reason="缺少承诺书")
    session.add(Attachment(zone_id=a.id, kind="application_form", filename="申报表.pdf", sha256="0" * 64, size=1,
                           content=b"x", uploaded_by="x"))
    b = zone(session, "under_review", city, None, applicant, expert)
    lifecycle_event(session, b, "recommend", "submitted", "recommended", dt.date(2026, 11, 3))
    lifecycle_event(session, b, "start_review", "recommended", "under_review", dt.date(2026, 11, 10))
    c = zone(session, "submitted", city, None, applicant)
    lifecycle_event(session, c, "submit", "draft", "submitted", dt.date(2026, 11, 16))
    version(session, c, 1, "submitted")
    register(session, c, 1, "submitted", rows=3)
    register(session, c, 2, "returned", note="信用代码有误")
    change(session, c, dt.date(2026, 11, 20))
    change(session, c, dt.date(2026, 11, 20), reported=True)  # reported: nothing to do
    session.flush()
    return {"returned": a, "review": b, "waiting": c}


@pytest.fixture
def people(session) -> dict[str, User]:
    return {"applicant": user(session, "applicant"), "expert": user(session, "expert"),
            "city": user(session, "city", "苏州市"), "province": user(session, "province")}


def mine(rows: list[dict], *zones: Zone) -> list[dict]:
    codes = {z.code for z in zones}
    return [r for r in rows if r["zone_code"] in codes]


def by_kind(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["kind"], []).append(r)
    return out


def test_the_province_sees_versions_registers_reviews_and_reports_with_their_pages(session, people):
    z = group(session, people)
    rows = mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL), *z.values())
    kinds = by_kind(rows)
    code = z["waiting"].code
    assert set(kinds) == {"version_submitted", "register_submitted", "review_items", "change_report"}
    (v,) = kinds["version_submitted"]
    assert v["action_url"] == f"/zones/{code}/versions/1/decide" and v["role"] == "province" and v["due"] is None
    assert v["since"] == dt.date.today().isoformat()  # no submission in the audit trail: its upload day
    (r,) = kinds["register_submitted"]
    assert r["action_url"] == f"/zones/{code}/register-drafts/1" and "3家" in r["what"]
    (review,) = kinds["review_items"]
    assert review["action_url"] == f"/zones/{z['review'].code}/review" and review["since"] == "2026-11-10"
    (report,) = kinds["change_report"]
    assert report["role"] == "applicant" and report["action_url"].startswith(f"/zones/{code}#change-")
    # not the province's: the city recommends, the applicant completes its materials
    assert not {"application_recommend", "materials_missing", "register_returned"} & set(kinds)


def test_working_days_left_and_overdue(session, people):
    z = group(session, people)
    rows = mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL), *z.values())
    (report,) = by_kind(rows)["change_report"]
    # due Friday 20 November; Monday to Thursday 26 November are four working days late
    assert report["due"] == "2026-11-20" and report["workdays_left"] == -4 and report["overdue"] is True
    assert report["days_left"] == -6
    for day, left, overdue in ((dt.date(2026, 11, 19), 1, False), (dt.date(2026, 11, 20), 0, False),
                               (dt.date(2026, 11, 21), 0, True), (dt.date(2026, 11, 23), -1, True)):
        (again,) = by_kind(mine(worklist(session=session, user=people["province"], today=day, calendar=CAL),
                                z["waiting"]))["change_report"]
        assert (again["workdays_left"], again["overdue"]) == (left, overdue), day  # Saturday: late, 0 working days
    # the row order: dated rows first, nearest first; undated after
    dues = [r["due"] for r in rows]
    assert dues == sorted(dues, key=lambda d: (d is None, d or ""))


def test_the_city_recommends_and_receives_copies_of_its_own_city_only(session, people):
    own = group(session, people)
    other = group(session, people, city="无锡市")
    rows = worklist(session=session, user=people["city"], today=TODAY, calendar=CAL)
    assert not mine(rows, *other.values())  # 无锡市's zones are not 苏州市's bureau's
    kinds = by_kind(mine(rows, *own.values()))
    assert set(kinds) == {"application_recommend", "change_report"}
    (rec,) = kinds["application_recommend"]
    assert rec["action_url"] == f"/zones/{own['waiting'].code}/materials" and rec["since"] == "2026-11-16"
    assert rec["role"] == "city" and rec["due"] is None and rec["overdue"] is False
    # asking for another city gives its own
    assert mine(worklist(session=session, user=people["city"], today=TODAY, city="无锡市", calendar=CAL),
                *own.values())


def test_the_applicant_sees_returns_missing_materials_and_reports(session, people):
    z = group(session, people)
    kinds = by_kind(mine(worklist(session=session, user=people["applicant"], today=TODAY, calendar=CAL), *z.values()))
    assert set(kinds) == {"application_returned", "materials_missing", "register_returned", "change_report"}
    assert "缺少承诺书" in kinds["application_returned"][0]["what"]
    assert kinds["application_returned"][0]["since"] == "2026-11-09"
    missing = kinds["materials_missing"][0]
    assert "集聚区创建工作方案" in missing["what"] and "申报材料真实性承诺书" in missing["what"]
    assert "申报表" not in missing["what"].split("缺少")[1]
    assert missing["action_url"] == f"/zones/{z['returned'].code}/materials"
    (returned,) = kinds["register_returned"]
    assert returned["action_url"] == f"/zones/{z['waiting'].code}/register-drafts/2" and "信用代码有误" in returned["what"]


def test_the_expert_sees_assigned_reviews_until_the_opinion_is_in(session, people):
    z = group(session, people)
    unassigned = zone(session, "under_review", "苏州市", None)
    rows = worklist(session=session, user=people["expert"], today=TODAY, calendar=CAL)
    assert [(r["zone_code"], r["kind"]) for r in rows] == [(z["review"].code, "expert_review")]
    assert rows[0]["action_url"] == f"/zones/{z['review'].code}/expert" and rows[0]["since"] == "2026-11-10"
    province = mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL), unassigned)
    assert {r["kind"] for r in province} == {"expert_assign", "review_items"}  # nobody assigned: the province assigns
    lifecycle_event(session, z["review"], "expert_opinion", "under_review", "under_review", TODAY,
                    actor=people["expert"].username, opinion="同意", recommend=True)
    session.flush()
    assert worklist(session=session, user=people["expert"], today=TODAY, calendar=CAL) == []
    after = by_kind(mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL), z["review"]))
    assert set(after) == {"notice_start"} and after["notice_start"][0]["action_url"].endswith("/decide")


def test_the_province_decides_the_course_notice_objections_acceptance(session, people):
    recommended = zone(session, "recommended")
    lifecycle_event(session, recommended, "recommend", "submitted", "recommended", dt.date(2026, 11, 12))
    noticed = zone(session, "noticed", "苏州市", {"notice_end": "2026-11-27"})
    lifecycle_event(session, noticed, "start_notice", "under_review", "noticed", dt.date(2026, 11, 20))
    lifecycle_event(session, noticed, "objection", "noticed", "noticed", dt.date(2026, 11, 23), text="有异议")
    building = zone(session, "construction", "苏州市", {"approved_on": "2024-12-01", "construction_ends": "2026-12-01"})
    proposed = zone(session, "revocation_proposed", "苏州市", {"revocation_proposed_on": "2026-11-02"})
    session.flush()
    rows = mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL),
                recommended, noticed, building, proposed)
    got = {(r["zone_code"], r["kind"]): r for r in rows}
    assert got[(recommended.code, "review_start")]["action_url"] == f"/zones/{recommended.code}/decide"
    assert got[(recommended.code, "review_start")]["since"] == "2026-11-12"
    assert got[(noticed.code, "objection_open")]["since"] == "2026-11-23"
    close = got[(noticed.code, "notice_close")]
    assert close["due"] == "2026-11-27" and close["workdays_left"] == 1 and not close["overdue"]
    accept = got[(building.code, "acceptance_due")]
    assert accept["due"] == "2026-12-01" and accept["workdays_left"] == 3 and accept["action_url"].endswith("/decide")
    assert accept["since"] == "2024-12-01"  # imported in construction: waiting since its approval
    confirm = got[(proposed.code, "revocation_confirm")]
    assert confirm["action_url"] == f"/zones/{proposed.code}/review" and confirm["due"] is None
    assert confirm["since"] == "2026-11-02"
    assert all(r["role"] == "province" for r in rows)
    assert all(r["kind_label"] == KINDS[r["kind"]][0] and r["zone_state_label"] for r in rows)


def test_filters_narrow_and_unknown_values_are_named(session, people):
    z = group(session, people)
    wuxi = group(session, people, city="无锡市")
    everything = mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL),
                      *z.values(), *wuxi.values())
    suzhou = worklist(session=session, user=people["province"], today=TODAY, city="苏州市", calendar=CAL)
    assert {r["city"] for r in suzhou} == {"苏州市"} and len(mine(suzhou, *wuxi.values())) == 0
    assert len(mine(suzhou, *z.values())) == len(everything) // 2
    reviews = worklist(session=session, user=people["province"], today=TODAY, state="under_review", calendar=CAL)
    assert {r["zone_state"] for r in reviews} == {"under_review"} and mine(reviews, z["review"])
    late = worklist(session=session, user=people["province"], today=TODAY, overdue=True, calendar=CAL)
    assert late and all(r["overdue"] for r in late) and len(mine(late, *z.values())) == 1
    for kwargs, code in (({"city": "火星市"}, "unknown_city"), ({"state": "flying"}, "unknown_state")):
        with pytest.raises(InputError) as exc:
            worklist(session=session, user=people["province"], today=TODAY, calendar=CAL, **kwargs)
        assert exc.value.code == code and exc.value.detail["field"] in kwargs
    assert check_filters(people["city"], "南京市", " ") == ("苏州市", None)  # a city bureau: its own city


def test_counts_per_kind_follow_the_rows(session, people):
    z = group(session, people)
    group(session, people)
    rows = mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL), *z.values())
    summary = {c["kind"]: c for c in counts(rows)}
    assert sum(c["count"] for c in summary.values()) == len(rows)
    assert summary["change_report"]["overdue"] == 1 and summary["version_submitted"]["overdue"] == 0
    assert list(summary) == [k for k in KINDS if k in summary]  # in the page's order


def test_the_header_alias_is_the_same_list(session, people):
    group(session, people)
    for role in ("province", "applicant", "city", "expert"):
        assert lifecycle.worklist(session=session, user=people[role], today=TODAY, calendar=CAL) == \
            worklist(session=session, user=people[role], today=TODAY, calendar=CAL)


def test_the_number_of_queries_does_not_grow_with_the_zones(session, engine, people):
    """3 zones, then 30: each role's worklist costs the same number of SQL statements (one per kind of record)."""
    def run(role: str) -> tuple[int, int]:
        rows: list[dict] = []
        n = count_statements(engine, lambda: rows.extend(worklist(session=session, user=people[role], today=TODAY,
                                                            calendar=CAL)))
        return n, len(rows)

    group(session, people)
    session.flush()
    session.expire_all()
    few = {role: run(role) for role in people}
    for _ in range(9):
        group(session, people)
    session.flush()
    session.expire_all()
    many = {role: run(role) for role in people}
    for role in people:
        assert many[role][1] > few[role][1], role  # the 30 zones are there ...
        assert many[role][0] == few[role][0], (role, few[role], many[role])  # ... and cost no more queries
        assert few[role][0] <= 13, (role, few[role])  # one per kind of record (events, excused years, the rounds: 4 …)


def test_the_api_and_the_page_take_the_same_filters(client, engine, tmp_path):
    """Over HTTP as the province: the response model's fields, the filters, the counts, named 422s (JSON and page)."""
    from tests.test_lifecycle_edges_api import zone_in

    code = zone_in(engine, tmp_path, "recommended", {}, prefix="WLAPI")
    body = client.get("/api/worklist").json()
    assert body["count"] == len(body["data"]) and body["filters"] == {"city": None, "state": None, "overdue": False}
    assert sum(c["count"] for c in body["counts"]) == body["count"]
    (row,) = [r for r in body["data"] if r["zone_code"] == code]
    assert row["kind"] == "review_start" and row["action_url"] == f"/zones/{code}/decide" and row["due"] is None
    assert row["zone_state"] == "recommended" and row["role"] == "province" and row["role_label"] == "省知识产权局"
    narrowed = client.get("/api/worklist", params={"state": "recommended", "city": "南京市"}).json()
    assert code in {r["zone_code"] for r in narrowed["data"]}
    assert {r["zone_state"] for r in narrowed["data"]} == {"recommended"}
    assert narrowed["filters"] == {"city": "南京市", "state": "recommended", "overdue": False}
    assert code not in {r["zone_code"] for r in client.get("/api/worklist", params={"city": "无锡市"}).json()["data"]}
    late = client.get("/api/worklist", params={"overdue": "true"}).json()
    assert all(r["overdue"] for r in late["data"]) and code not in {r["zone_code"] for r in late["data"]}
    for params, error in (({"city": "火星市"}, "unknown_city"), ({"state": "flying"}, "unknown_state")):
        r = client.get("/api/worklist", params=params)
        assert r.status_code == 422 and r.json()["code"] == error and r.json()["message"]
        page = client.get("/worklist", params=params)
        assert page.status_code == 422 and 'id="worklist-error"' in page.text
        assert ("不是江苏省的设区市" if error == "unknown_city" else "状态“flying”不正确") in page.text
    page = client.get("/worklist", params={"state": "recommended", "city": "南京市", "overdue": "1"})
    assert page.status_code == 200
    assert '<option value="南京市" selected>' in page.text and '<option value="recommended" selected>' in page.text
    assert 'id="filter-overdue" name="overdue" value="1" checked' in page.text  # the filters are kept in the form
    page = client.get("/worklist", params={"state": "recommended"})
    assert f'href="/zones/{code}/decide"' in page.text and 'data-kind="review_start"' in page.text


def test_filed_reports_wait_for_the_receipt_and_the_copy_until_done(session, engine, people):
    """A filed report without a 回执 is the province's (``change_acknowledge``), without the city's 抄报已收到 the
    city's (``change_copy``); the applicant has nothing left to do; each row goes once its step is recorded; the
    number of SQL statements stays the same."""
    z = group(session, people)
    filed = change(session, z["waiting"], dt.date(2026, 11, 24), reported=True, receipts=False)
    session.flush()
    n = count_statements(engine, lambda: worklist(session=session, user=people["province"], today=TODAY, calendar=CAL))
    province = by_kind(mine(worklist(session=session, user=people["province"], today=TODAY, calendar=CAL), *z.values()))
    (ack,) = province["change_acknowledge"]
    assert ack["role"] == "province" and ack["action_url"] == f"/changes#change-{filed.id}"
    assert ack["since"] == "2026-11-24" and ack["due"] is None and "出具回执" in ack["what"]
    assert "change_copy" not in province
    city = by_kind(mine(worklist(session=session, user=people["city"], today=TODAY, calendar=CAL), *z.values()))
    (copy,) = city["change_copy"]
    assert copy["role"] == "city" and copy["action_url"] == f"/changes#change-{filed.id}" and "抄报" in copy["what"]
    assert "change_acknowledge" not in city
    applicant = by_kind(mine(worklist(session=session, user=people["applicant"], today=TODAY, calendar=CAL),
                             *z.values()))
    assert not {"change_acknowledge", "change_copy"} & set(applicant)
    other_city = user(session, "city", "无锡市")
    assert not mine(worklist(session=session, user=other_city, today=TODAY, calendar=CAL), *z.values())
    filed.acknowledged_on, filed.receipt_no = TODAY, f"HZ-T-{uuid.uuid4().hex[:12]}"
    session.flush()
    assert "change_acknowledge" not in by_kind(mine(worklist(session=session, user=people["province"], today=TODAY,
                                                             calendar=CAL), *z.values()))
    assert "change_copy" in by_kind(mine(worklist(session=session, user=people["city"], today=TODAY, calendar=CAL),
                                         *z.values()))
    filed.city_received_on = TODAY
    session.flush()
    assert "change_copy" not in by_kind(mine(worklist(session=session, user=people["city"], today=TODAY,
                                                      calendar=CAL), *z.values()))
    assert count_statements(engine, lambda: worklist(session=session, user=people["province"], today=TODAY,
                                               calendar=CAL)) == n
