"""The city's annual summary report (总结报告) as data: the figures' checks at their limits, the deadline (31 March,
moved off rest days by the reference calendar in tests/data/workdays.json), which zones a year covers, and on real
PostGIS the city's draft → filed → received with located errors, the zones counted as reported and the worklist."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import select

from tests.conftest import DATA
from zonegeo.db.models import AuditEntry, Institution, LifecycleEvent, User, Zone
from zonegeo.domain import annual_report as ar
from zonegeo.domain.audit_labels import known, sentence
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, PermissionDeniedError
from zonegeo.services import annual_reports
from zonegeo.services.worklist import worklist

CAL = WorkCalendar()
TODAY = dt.date(2026, 11, 26)
D = dt.date
REFERENCE = json.loads((DATA / "workdays.json").read_text(encoding="utf-8"))


def reference_workday(day: dt.date) -> bool:
    """Working day by the reference tables (not by zonegeo): Monday–Friday not a holiday, or a make-up day."""
    year = REFERENCE["years"][str(day.year)]
    if day.isoformat() in {d["date"] for d in year["makeup_workdays"]}:
        return True
    return day.weekday() < 5 and day.isoformat() not in {d["date"] for d in year["holidays"]}


# ---- the figures ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "raw", "value"), [
    ("staff", "0", 0), ("staff", 1_000_000, 1_000_000), ("staff", "1,234", 1234), ("staff", "１２", 12),
    ("staff", 12.0, 12), ("service_revenue_wan", "100000000", Decimal("100000000.00")),
    ("service_revenue_wan", 12.3, Decimal("12.30")), ("policy_funds_wan", " 0.05 ", Decimal("0.05")),
    ("platform_cases", "", None), ("platform_cases", None, None),
])
def test_figures_accepted_up_to_their_limits(key, raw, value):
    assert ar.parse_value(ar.BY_KEY[key], raw) == (value, "")


@pytest.mark.parametrize(("key", "raw", "why"), [
    ("staff", "-1", "不能为负数"), ("staff", 1_000_001, "超过上限1,000,000人"), ("staff", "3.5", "应为整数"),
    ("service_revenue_wan", "100000000.01", "超过上限"), ("service_revenue_wan", "1.234", "最多保留两位小数"),
    ("policy_funds_wan", "十万", "不是数字"), ("platform_cases", float("nan"), "应为数字"),
    ("platform_cases", True, "应为数字"), ("staff", "9" * 41, "超过40个字符"), ("staff", "Infinity", "不是数字"),
])
def test_bad_figures_say_why(key, raw, why):
    value, message = ar.parse_value(ar.BY_KEY[key], raw)
    assert value is None and why in message


def test_every_bad_figure_is_named_with_its_zone_and_field():
    values, problems = ar.check_indicators("LYG-1", "连云港甲", {"staff": "-3", "service_revenue_wan": "x"},
                                           required=True)
    assert values["staff"] is None
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {i.key for i in ar.INDICATORS}  # two bad, four missing (filing needs every figure)
    assert by_field["staff"].text() == "集聚区“连云港甲”（LYG-1）“从业人员（人）”：不能为负数"
    assert "未填写" in by_field["platform_cases"].message
    _, draft = ar.check_indicators("LYG-1", "连云港甲", {"staff": "5"}, required=False)
    assert draft == []  # a draft may be incomplete
    cell = ar.Problem("LYG-1", "", "service_revenue_wan", "服务收入（万元）", "-1", "不能为负数", "工作表“指标”第5行")
    assert cell.text() == "工作表“指标”第5行“服务收入（万元）”列：不能为负数"


def test_sections_are_bounded_and_required_only_to_file():
    text, problems = ar.check_sections({"development": "x" * ar.SECTION_MAX, "problems": " 问题\r\n二 "},
                                       required=False)
    assert problems == [] and text["problems"] == "问题\n二" and text["suggestions"] == ""
    _, problems = ar.check_sections({"development": "x" * (ar.SECTION_MAX + 1)}, required=True)
    assert [p["field"] for p in problems] == ["development", "problems", "suggestions"]
    assert "超过上限5000个字符" in problems[0]["message"] and problems[1]["message"] == "请填写“存在问题”"


# ---- the deadline ---------------------------------------------------------------------------------------------

def test_due_exactly_on_31_march_a_working_day():
    assert reference_workday(D(2025, 3, 31))
    on_time = ar.timeliness(2024, D(2025, 3, 31), TODAY, CAL)
    assert (on_time.due, on_time.status, on_time.workdays_late, on_time.label) == (D(2025, 3, 31), "filed", 0, "已报送")
    late = ar.timeliness(2024, D(2025, 4, 1), TODAY, CAL)
    assert (late.status, late.workdays_late, late.label) == ("late", 1, "逾期报送（逾期1个工作日）")


def test_a_weekend_31_march_moves_the_deadline_and_lateness_counts_working_days():
    # 31 March 2024 was a Sunday: due Monday 1 April; 清明 4–6 April off, Sunday 7 April a make-up working day
    assert not reference_workday(D(2024, 3, 31)) and reference_workday(D(2024, 4, 1))
    on_time = ar.timeliness(2023, D(2024, 4, 1), TODAY, CAL)
    assert (on_time.due, on_time.nominal_due, on_time.status) == (D(2024, 4, 1), D(2024, 3, 31), "filed")
    filed = D(2024, 4, 8)
    expected = sum(reference_workday(D(2024, 4, 1) + dt.timedelta(days=n)) for n in range(1, 8))
    assert expected == 4  # 2, 3, 7 (make-up Sunday) and 8 April
    late = ar.timeliness(2023, filed, TODAY, CAL)
    assert (late.status, late.workdays_late) == ("late", expected)
    # filed on a rest day right after the due date: late, with no working day in between
    assert ar.timeliness(2023, D(2024, 4, 6), TODAY, CAL).workdays_late == 2  # 2 and 3 April


def test_not_yet_filed_is_pending_then_overdue_by_working_days():
    assert ar.timeliness(2025, None, D(2026, 3, 31), CAL).status == "pending"
    overdue = ar.timeliness(2025, None, D(2026, 4, 2), CAL)
    assert (overdue.status, overdue.workdays_late, overdue.label) == ("overdue", 2, "逾期未报送（已逾期2个工作日）")
    assert ar.timeliness(2025, None, TODAY, CAL, has_zones=False).label == "本年度无集聚区"


def test_which_zones_a_year_covers():
    assert ar.titled_during("operating", {"approved_on": "2021-05-01"}, 2025)
    assert ar.titled_during("construction", {}, 2025)  # imported without its approval date
    assert ar.titled_during("construction", {"approved_on": "2025-12-31"}, 2025)
    assert not ar.titled_during("construction", {"approved_on": "2026-01-01"}, 2025)
    assert ar.titled_during("revoked", {"approved_on": "2020-01-01", "revoked_on": "2025-01-01"}, 2025)
    assert not ar.titled_during("revoked", {"approved_on": "2020-01-01", "revoked_on": "2024-12-31"}, 2025)
    assert not ar.titled_during("noticed", {}, 2025) and not ar.titled_during("rejected", {}, 2025)


def test_register_figures_count_service_institutions_of_the_year():
    rows = [
        {"kind": "institution", "entered_on": D(2025, 3, 1), "left_on": None, "chain": ["创造", "运用"],
         "services": ["代理"]},
        {"kind": "institution", "entered_on": D(2024, 1, 1), "left_on": D(2025, 12, 31), "chain": ["保护"],
         "services": ["法律"]},
        {"kind": "institution", "entered_on": D(2024, 1, 1), "left_on": None, "chain": ["运用"], "services": ["代理"]},
        {"kind": "protection_center", "entered_on": D(2025, 2, 1), "left_on": None, "chain": [], "services": []},
        {"kind": "institution", "entered_on": D(2026, 1, 1), "left_on": None, "chain": ["人才"], "services": []},
    ]
    got = ar.register_figures(2025, rows)
    assert (got["entered"], got["left"], got["active"], got["platforms"]) == (1, 1, 2, 1)
    assert got["chain"] == {"创造": 1, "运用": 2, "保护": 0, "人才": 0} and got["chain_missing"] == ["保护", "人才"]
    assert got["services"] == {"代理": 2}


# ---- the service on PostGIS -------------------------------------------------------------------------------------

CITY, OTHER = "连云港市", "宿迁市"
POINT = WKTElement("POINT(119.2 34.6)", srid=4490)


def make_user(session, role: str, city: str | None = None) -> User:
    row = User(username=f"ar-{role}-{uuid.uuid4().hex[:8]}", role=role, city=city, password_hash="-")
    session.add(row)
    session.flush()
    return row


def make_zone(session, status: str, dates: dict, city: str = CITY) -> Zone:
    code = f"AR-{uuid.uuid4().hex[:8]}"
    row = Zone(code=code, name=f"年报测试{code[-4:]}", city=city, builder="建设主体", status=status, dates=dates,
               four_sides={})
    session.add(row)
    session.flush()
    return row


def institution(session, zone: Zone, entered: dt.date, left: dt.date | None = None, **kw) -> None:
    session.add(Institution(zone_id=zone.id, name=f"机构{uuid.uuid4().hex[:6]}", credit_code="", location=POINT,
                            entered_on=entered, left_on=left, chain=kw.get("chain", ["创造"]),
                            services=kw.get("services", ["代理"]), kind=kw.get("kind", "institution")))
    session.flush()


FULL = {"institutions_entered": "2", "institutions_left": "0", "staff": "120", "service_revenue_wan": "3560.5",
        "policy_funds_wan": "200", "platform_cases": "45"}
TEXT = {"development": "全市集聚区运行平稳。", "problems": "高端人才不足。", "suggestions": "加大政策支持。"}


def full_figures(session, user, year: int) -> dict[str, dict[str, str]]:
    view = annual_reports.view(session=session, user=user, city=CITY, year=year, today=TODAY, calendar=CAL)
    return {z["code"]: dict(FULL) for z in view["zones"]}


@pytest.fixture
def city_setup(session):
    city = make_user(session, "city", CITY)
    running = make_zone(session, "operating", {"approved_on": "2021-04-01", "accepted_on": "2023-05-01"})
    building = make_zone(session, "construction", {"approved_on": "2025-06-01"})
    later = make_zone(session, "construction", {"approved_on": "2026-02-01"})  # not titled in 2025
    institution(session, running, D(2025, 3, 1), chain=["创造", "运用"])
    institution(session, running, D(2025, 5, 1))
    institution(session, running, D(2022, 1, 1), D(2025, 9, 30))
    institution(session, running, D(2025, 2, 1), kind="protection_center", chain=[])
    return {"city": city, "running": running, "building": building, "later": later}


def save(session, user, year=2025, *, file=False, on=D(2026, 3, 20), sections=None, figures=None, city=CITY):
    return annual_reports.save(session=session, user=user, city=city, year=year, sections=sections or {},
                               indicators=figures or {}, file=file, on=on, via="form", calendar=CAL, today=TODAY)


def city_rows(session, user):
    return [r for r in worklist(session=session, user=user, today=TODAY, calendar=CAL) if r["kind"] == "annual_report"]


def test_a_draft_then_the_filing_marks_every_zone_reported(session, city_setup):
    city, running, building, later = (city_setup[k] for k in ("city", "running", "building", "later"))
    view = annual_reports.view(session=session, user=city, city=CITY, year=2025, today=TODAY, calendar=CAL)
    codes = {z["code"] for z in view["zones"]}
    assert {running.code, building.code} <= codes and later.code not in codes
    mine = {z["code"]: z for z in view["zones"]}[running.code]
    assert mine["prefilled"] and mine["values"] == {"institutions_entered": 2, "institutions_left": 1}
    assert mine["from_register"]["platforms"] == 1 and mine["from_register"]["chain"]["运用"] == 1
    assert view["timeliness"]["status"] == "overdue" and view["editable"]
    # the worklist: one row per zone titled in 2025, linking to the city's form
    rows = {r["zone_code"]: r for r in city_rows(session, city)}
    assert {running.code, building.code} <= set(rows) and later.code not in rows
    assert rows[running.code]["action_url"] == f"/annual-reports/{CITY}/2025" and rows[running.code]["due"] == "2026-03-31"

    draft = save(session, city, figures={running.code: {"staff": "80"}}, sections={"development": "草稿"})
    assert draft.state == "draft" and draft.filed_on is None
    assert {r["zone_code"] for r in city_rows(session, city)} >= {running.code}  # a draft is not a report

    with pytest.raises(InputError) as refused:
        save(session, city, file=True, figures={running.code: {"staff": "-1"}})
    detail = refused.value.detail
    assert refused.value.code == "annual_report_invalid" and refused.value.message.startswith("未报送，请更正：")
    bad = {(e["zone"], e["field"]): e for e in detail["errors"]}
    assert bad[(running.code, "staff")]["message"] == "不能为负数"
    assert (building.code, "service_revenue_wan") in bad and {s["field"] for s in detail["sections"]} == {
        "problems", "suggestions"}

    filed = save(session, city, file=True, sections=TEXT, figures=full_figures(session, city, 2025),
                 on=D(2026, 4, 2))
    assert (filed.state, filed.filed_on, filed.workdays_late) == ("filed", D(2026, 4, 2), 2)
    stored = {r.zone_id: r for r in filed.indicators}
    assert stored[running.id].service_revenue_wan == Decimal("3560.50") and stored[running.id].staff == 120
    assert later.id not in stored
    assert {r["zone_code"] for r in city_rows(session, city)}.isdisjoint({running.code, building.code})
    events = session.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == running.id,
                                                          LifecycleEvent.action == "annual_report")).all()
    assert [(e.data["year"], e.data["late"], e.actor) for e in events] == [(2025, True, city.username)]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.object == f"annual-report/{CITY}/2025")
                            .order_by(AuditEntry.id)).all()
    assert [a.action for a in audit] == ["annual_report_saved", "annual_report_filed"]
    assert all(known(a.action) for a in audit) and sentence("annual_report_filed", audit[-1].object) == \
        f"报送{CITY}2025年度总结报告"


def test_revised_until_received_then_locked(session, city_setup):
    city = city_setup["city"]
    province = make_user(session, "province")
    with pytest.raises(ConflictError, match="尚未报送"):
        annual_reports.receive(session=session, user=province, city=CITY, year=2025, on=TODAY)
    save(session, city, file=True, sections=TEXT, figures=full_figures(session, city, 2025), on=D(2026, 3, 31))
    code = city_setup["running"].code
    revised = save(session, city, figures={code: {"staff": "121"}}, sections={"problems": "更正后的问题"})
    assert (revised.state, revised.revisions, revised.filed_on, revised.workdays_late) == ("filed", 1,
                                                                                         D(2026, 3, 31), 0)
    with pytest.raises(InputError):  # a filed report stays complete
        save(session, city, figures={code: {"staff": ""}})
    annual_reports.receive(session=session, user=province, city=CITY, year=2025, on=TODAY)
    with pytest.raises(ConflictError) as locked:
        save(session, city, figures={code: {"staff": "1"}})
    assert locked.value.code == "annual_report_received"
    view = annual_reports.view(session=session, user=province, city=CITY, year=2025, today=TODAY, calendar=CAL)
    assert view["report"]["state"] == "received" and not view["editable"] and not view["can_receive"]
    assert view["timeliness"]["status"] == "filed"


def test_only_the_own_city_files_and_the_province_reads_all(session, city_setup):
    other = make_user(session, "city", OTHER)
    province = make_user(session, "province")
    for user in (other, province, make_user(session, "applicant"), make_user(session, "expert")):
        with pytest.raises(PermissionDeniedError):
            save(session, user, sections={"development": "越权"})
    with pytest.raises(PermissionDeniedError):
        annual_reports.view(session=session, user=other, city=CITY, year=2025, today=TODAY, calendar=CAL)
    with pytest.raises(PermissionDeniedError):
        annual_reports.receive(session=session, user=city_setup["city"], city=CITY, year=2025, on=TODAY)
    seen = annual_reports.view(session=session, user=province, city=CITY, year=2025, today=TODAY, calendar=CAL)
    assert seen["editable"] is False
    overview = annual_reports.overview(session=session, user=province, today=TODAY, calendar=CAL)
    assert len(overview["cities"]) == 13 and overview["years"] == [2025, 2024, 2023, 2022, 2021]
    own = annual_reports.overview(session=session, user=other, today=TODAY, calendar=CAL)
    assert [c["city"] for c in own["cities"]] == [OTHER]


def test_years_that_cannot_be_reported_and_zones_not_in_the_report(session, city_setup):
    city = city_setup["city"]
    for year in (1999, 2026, 10_000):
        with pytest.raises(InputError) as bad:
            save(session, city, year=year)
        assert bad.value.detail["field"] == "year"
    with pytest.raises(InputError) as unknown:
        save(session, city, figures={city_setup["later"].code: {"staff": "1"}})
    (error,) = unknown.value.detail["errors"]
    assert error["field"] == "zone" and "不是连云港市2025年度应报告的集聚区" in error["message"]
    with pytest.raises(InputError, match="晚于今天"):
        save(session, city, on=TODAY + dt.timedelta(days=1))
    with pytest.raises(InputError) as typo:
        save(session, city, figures={city_setup["running"].code: {"stafff": "1"}})
    (error,) = typo.value.detail["errors"]
    assert error["field"] == "stafff" and "不是可填写的指标" in error["message"]


def test_the_province_does_not_read_a_draft(session, city_setup):
    save(session, city_setup["city"], sections={"development": "尚在起草"},
         figures={city_setup["running"].code: {"staff": "7"}})
    seen = annual_reports.view(session=session, user=make_user(session, "province"), city=CITY, year=2025,
                               today=TODAY, calendar=CAL)
    assert seen["report"]["development"] == "" and seen["report"]["state"] is None
    assert seen["report"]["state_label"] == "尚未报送（设区市正在填写草稿）"
    assert all(z["values"].get("staff") is None for z in seen["zones"])
    own = annual_reports.view(session=session, user=city_setup["city"], city=CITY, year=2025, today=TODAY,
                              calendar=CAL)
    assert own["report"]["development"] == "尚在起草"


def test_the_overview_says_who_has_not_reported(session, city_setup):
    province = make_user(session, "province")
    before = annual_reports.overview(session=session, user=province, today=TODAY, calendar=CAL)
    cell = next(c for r in before["cities"] if r["city"] == CITY for c in r["years"] if c["year"] == 2025)
    assert cell["status"] == "overdue" and cell["zones"] >= 2 and cell["url"] == f"/annual-reports/{CITY}/2025"
    city = city_setup["city"]
    save(session, city, file=True, sections=TEXT, figures=full_figures(session, city, 2025), on=D(2026, 3, 31))
    after = annual_reports.overview(session=session, user=province, today=TODAY, calendar=CAL)
    cell = next(c for r in after["cities"] if r["city"] == CITY for c in r["years"] if c["year"] == 2025)
    assert (cell["status"], cell["status_label"], cell["state"]) == ("filed", "已报送", "filed")


def test_a_report_is_never_dated_before_its_year_has_ended(session, city_setup):
    user = city_setup["city"]
    with pytest.raises(InputError) as caught:
        save(session, user, 2025, file=True, on=D(2025, 12, 31))  # the last day of the year reported on
    assert caught.value.code == "filed_before_year_end" and "2025年度结束" in caught.value.message
    save(session, user, 2025, file=False, on=D(2026, 1, 1))  # the first day after it: accepted (a draft)
