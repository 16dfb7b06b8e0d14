"""The zone's life as a pure state machine, with dates checked against the working-day reference and the
regulation's edges: checked results, proposed revocations, consecutive evaluation periods, approval
preconditions, 整改 periods set at the decision, deadlines that end on a working day."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import reference
from zonegeo.domain import lifecycle
from zonegeo.domain.lifecycle import LifecycleError, apply
from zonegeo.domain.workdays import WorkCalendar

CAL = WorkCalendar()
D = dt.date
ITEMS = [("management", "管理科学高效"), ("industry_demand", "产业需求强烈")]
READY = {"layout_approved": True, "operator": "运营公司", "review_items": ITEMS,
         "reviews": {"management": "meets", "industry_demand": "meets"}}
RECOMMENDED = [{"action": "recommend", "on": D(2025, 9, 5)}, {"action": "expert_opinion", "on": D(2025, 9, 20)}]


def ref_due(start: str, n: int) -> str:
    cases = json.loads(reference("workdays.json").read_text(encoding="utf-8"))["cases"]
    return next(c["due"] for c in cases if c["start"] == start and c["n_working_days"] == n)


def step(state, action, role, on, dates=None, history=None, today=None, **data):
    return apply(state, action, role=role, on=on, data=data, dates=dates or {}, calendar=CAL, history=history,
                 today=today)


def error(state, action, on, dates=None, history=None, role="province", today=None, **data) -> LifecycleError:
    with pytest.raises(LifecycleError) as e:
        step(state, action, role, on, dates, history, today, **data)
    return e.value


def test_a_whole_life_with_its_dates():
    materials = {"materials": ["application_form", "work_plan", "commitment", "recommendation_letter"]}
    s = step("draft", "submit", "applicant", D(2025, 9, 1), **materials)
    assert s.state == "submitted" and s.dates["submitted_on"] == D(2025, 9, 1)
    assert step("submitted", "recommend", "city", D(2025, 9, 5), **materials).state == "recommended"
    assert step("recommended", "start_review", "province", D(2025, 9, 10)).state == "under_review"
    # 公示5个工作日 starting Monday 29 September 2025, over National Day: the 5th working day counting that Monday.
    # Counted in working days, so it is not moved (2025-10-11 is a make-up Saturday, a working day).
    notice = step("under_review", "start_notice", "province", D(2025, 9, 29))
    assert notice.dates["notice_end"].isoformat() == ref_due("2025-09-28", 5)  # = 2025-10-11
    dates = dict(notice.dates)
    e = error("noticed", "approve", notice.dates["notice_end"], dates, RECOMMENDED, **READY)
    assert e.code == "approval_blocked" and [m["code"] for m in e.detail["missing"]] == ["notice_not_over"]
    approved = step("noticed", "approve", "province", D(2025, 10, 13), dates, RECOMMENDED, **READY)
    assert approved.state == "construction" and approved.dates["construction_ends"] == D(2027, 10, 13)
    assert approved.deadlines["construction_ends"].provisional  # 2027 has no published arrangement yet
    dates |= approved.dates
    assert error("construction", "accept", D(2027, 6, 1), dates, result="pass").code == "too_early"
    failed = step("construction", "accept", "province", D(2027, 10, 20), dates, result="fail")
    assert failed.state == "rectification" and failed.dates["rectification_ends"] == D(2028, 4, 20)
    passed = step("rectification", "accept", "province", D(2028, 4, 18), dates | failed.dates, result="pass")
    assert passed.state == "operating" and not passed.record.get("late")
    assert lifecycle.annual_report_due(2028, CAL).due == D(2029, 4, 2)  # 31 March 2029 is a Saturday
    good = step("operating", "evaluate", "province", D(2029, 6, 1), grade="excellent")
    assert good.state == "operating"
    bad = step("operating", "evaluate", "province", D(2030, 6, 1), grade="fail")
    # six months end on Sunday 1 December 2030: the period ends on the next working day (民法典 第二百零三条)
    assert bad.state == "rectifying" and bad.dates["rectification_ends"] == D(2030, 12, 2)
    assert bad.deadlines["rectification_ends"].nominal == D(2030, 12, 1)
    revoked = step("operating", "revoke", "province", D(2031, 1, 5), reason=5)
    assert revoked.state == "revoked" and "违法违规" in revoked.note


# --- results are checked values -------------------------------------------------------------------------------

def test_a_typed_chinese_pass_is_a_pass_and_never_revokes():
    """Old behaviour: anything but exactly "pass" was a fail, and in rectification a fail revoked the title."""
    dates = {"construction_ends": D(2024, 1, 10), "rectification_ends": D(2024, 7, 10)}
    s = step("rectification", "accept", "province", D(2024, 7, 1), dates, result="合格")
    assert s.state == "operating" and s.record["result"] == "pass"
    assert step("rectifying", "close_rectification", "province", D(2024, 7, 1), result="通过").state == "operating"
    assert step("operating", "evaluate", "province", D(2024, 7, 1), grade="优秀").record["grade"] == "excellent"
    assert step("operating", "evaluate", "province", D(2024, 7, 1), result="不合格").state == "rectifying"
    assert step("construction", "accept", "province", D(2024, 2, 1), dates, result=" PASS ").state == "operating"


@pytest.mark.parametrize("action,state,key,value", [
    ("accept", "rectification", "result", "ok"), ("accept", "construction", "result", "合 格"),
    ("accept", "rectification", "result", None), ("close_rectification", "rectifying", "result", "yes"),
    ("evaluate", "operating", "grade", "良好"), ("evaluate", "operating", "grade", "excelent"),
])
def test_anything_else_is_refused_naming_the_allowed_values(action, state, key, value):
    dates = {"construction_ends": D(2024, 1, 10)}
    e = error(state, action, D(2024, 7, 1), dates, **{key: value})
    assert e.code == "bad_result" and "合格（pass）" in e.message and "不合格（fail）" in e.message
    assert ("优秀（excellent）" in e.message) == (action == "evaluate")


# --- revocation is proposed, then confirmed or declined ---------------------------------------------------------

def test_a_failed_re_acceptance_proposes_revocation_and_a_province_user_decides():
    dates = {"construction_ends": D(2023, 10, 13), "rectification_ends": D(2024, 4, 22)}
    s = step("rectification", "accept", "province", D(2024, 4, 20), dates, result="fail")
    assert s.state == "revocation_proposed" and s.proposal["reason"] == 2
    assert s.proposal["return_to"] == "rectification" and lifecycle.REVOCATION_REASONS[2] in s.note
    history = [{"action": "accept", "on": D(2024, 4, 20), "from": "rectification", "to": "revocation_proposed",
                "proposal": s.proposal}]
    assert error("revocation_proposed", "confirm_revocation", D(2024, 4, 25), role="city",
                 history=history).code == "illegal_transition"
    confirmed = step("revocation_proposed", "confirm_revocation", "province", D(2024, 4, 25), history=history)
    assert confirmed.state == "revoked" and confirmed.note == lifecycle.REVOCATION_REASONS[2]
    assert error("revocation_proposed", "decline_revocation", D(2024, 4, 25), history=history).code == "missing_input"
    declined = step("revocation_proposed", "decline_revocation", "province", D(2024, 4, 25), history=history,
                    decision="整改材料补交后复核合格")
    assert declined.state == "rectification" and "整改材料" in declined.note


def test_no_proposal_no_confirmation():
    history = [{"action": "accept", "on": D(2024, 4, 20), "from": "rectification", "to": "revocation_proposed",
                "proposal": {"reason": 2, "return_to": "rectification"}},
               {"action": "decline_revocation", "on": D(2024, 4, 25), "from": "revocation_proposed",
                "to": "rectification"}]
    assert lifecycle.pending_proposal(history) is None
    assert error("revocation_proposed", "confirm_revocation", D(2024, 5, 1), history=history).code == "no_proposal"


@pytest.mark.parametrize("reason", ["abc", "", None, 7, 0, "-1", "1.5"])
def test_an_unknown_revocation_reason_is_an_input_error(reason):
    e = error("operating", "revoke", D(2024, 5, 1), reason=reason)
    assert e.code in ("bad_reason", "missing_input") and e.detail["field"] == "data.reason"


@pytest.mark.parametrize("reason", [1, 2, "2"])
def test_reasons_one_and_two_are_never_revoked_directly(reason):
    e = error("operating", "revoke", D(2024, 5, 1), reason=reason)
    assert e.code == "bad_reason" and "confirm_revocation" in e.message


def test_two_years_without_evaluation_is_proposed_only_when_it_holds():
    dates = {"accepted_on": D(2021, 1, 1)}
    history = [{"action": "evaluate", "on": D(2022, 5, 1), "grade": "pass"}]
    s = step("operating", "propose_revocation", "province", D(2025, 2, 1), dates, history, reason=1)
    assert s.state == "revocation_proposed" and s.proposal == {
        "reason": 1, "reason_text": lifecycle.REVOCATION_REASONS[1], "return_to": "operating", "proposed_on": "2025-02-01"}
    evaluated = [*history, {"action": "evaluate", "on": D(2024, 5, 1), "grade": "pass"}]
    assert error("operating", "propose_revocation", D(2025, 2, 1), dates, evaluated, reason=1).code == "reason_not_met"
    assert error("operating", "propose_revocation", D(2025, 2, 1), {}, history, reason=1).code == "missing_date"
    assert lifecycle.automatic_revocation(history, D(2025, 2, 1), D(2021, 1, 1)) == 1
    assert lifecycle.automatic_revocation(history, D(2024, 2, 1), D(2021, 1, 1)) is None


# --- 连续两年绩效评价不合格: consecutive evaluation periods ----------------------------------------------------

def ev(year: int, grade: str, month: int = 6) -> dict:
    return {"action": "evaluate", "on": D(year, month, 1), "grade": grade}


def close(history, on=D(2031, 12, 1)):
    return step("rectifying", "close_rectification", "province", on, history=history, result="fail")


def test_two_consecutive_failed_evaluations_and_a_failed_rectification_propose_revocation():
    s = close([ev(2029, "fail"), ev(2030, "fail")])
    assert s.state == "revocation_proposed" and s.proposal["reason"] == 2 and s.proposal["return_to"] == "operating"
    one = close([ev(2030, "fail")])
    assert one.state == "operating" and "记入评价档案" in one.note


def test_consecutive_means_evaluation_periods_not_calendar_years():
    """Evaluated in 2029 and 2031 (no evaluation in 2030): two consecutive periods both failed. The old rule,
    by calendar years of the action date, found no two adjacent years and let the zone go on."""
    assert close([ev(2029, "fail"), ev(2031, "fail")]).state == "revocation_proposed"


def test_any_pair_in_history_is_not_consecutive():
    """Failed in 2026 and 2027, then passed in 2028, failed in 2029: only one failure in a row. The old rule
    revoked on any two adjacent failed years anywhere in the history."""
    history = [ev(2026, "fail"), {"action": "close_rectification", "on": D(2026, 12, 1), "result": "pass"},
               ev(2027, "fail"), ev(2028, "pass"), ev(2029, "fail")]
    assert lifecycle.consecutive_failed_evaluations(history) == 1
    assert close(history).state == "operating"


def test_a_rectified_failure_followed_by_a_pass_resets_the_count():
    history = [ev(2028, "fail"), {"action": "close_rectification", "on": D(2028, 12, 1), "result": "pass"},
               ev(2029, "excellent"), ev(2030, "fail")]
    assert lifecycle.consecutive_failed_evaluations(history) == 1
    assert lifecycle.consecutive_failed_evaluations([ev(2028, "fail"), ev(2029, "fail"), ev(2030, "fail")]) == 3
    assert lifecycle.consecutive_failed_evaluations([ev(2028, "fail"), ev(2029, "pass")]) == 0


# --- approval needs what the regulation needs ------------------------------------------------------------------

NOTICED = {"notice_end": D(2025, 10, 11)}


def blockers(history=RECOMMENDED, dates=NOTICED, on=D(2025, 10, 13), **data) -> list[str]:
    try:
        step("noticed", "approve", "province", on, dates, history, **(READY | data))
    except LifecycleError as e:
        assert e.code == "approval_blocked"
        return [m["code"] for m in e.detail["missing"]]
    return []


def test_approval_with_everything_in_place():
    assert blockers() == []


@pytest.mark.parametrize("change,code", [
    ({"layout_approved": False}, "no_approved_layout"),
    ({"operator": "  "}, "no_operator"),
    ({"reviews": {"management": "meets"}}, "review_missing"),
    ({"reviews": {"management": "meets", "industry_demand": "needs_more"}}, "review_needs_more"),
    ({"reviews": {"management": "fails", "industry_demand": "meets"}}, "review_fails"),
])
def test_each_missing_fact_blocks_approval(change, code):
    assert blockers(**change) == [code]


def test_expert_opinion_and_recommendation_are_needed():
    assert blockers(history=[RECOMMENDED[0]]) == ["no_expert_opinion"]
    assert blockers(history=[RECOMMENDED[1]]) == ["no_recommendation"]


def test_every_missing_precondition_is_listed_in_one_message():
    with pytest.raises(LifecycleError) as e:
        step("noticed", "approve", "province", D(2025, 10, 11), NOTICED, [], layout_approved=False,
             review_items=ITEMS)
    codes = [m["code"] for m in e.value.detail["missing"]]
    assert codes == ["no_recommendation", "no_approved_layout", "no_operator", "no_expert_opinion", "review_missing",
                     "review_missing", "notice_not_over"]
    for text in ("推荐", "空间布局", "运营管理单位", "专家评审意见", "管理科学高效", "产业需求强烈", "公示期"):
        assert text in e.value.message


def test_the_notice_is_over_only_after_its_last_working_day():
    assert blockers(on=D(2025, 10, 11)) == ["notice_not_over"]
    assert blockers(on=D(2025, 10, 12)) == []  # the day after the fifth working day (a Sunday)
    assert blockers(dates={}) == ["notice_not_over"]


def test_objections_must_be_resolved_and_an_upheld_one_decided():
    objection = [*RECOMMENDED, {"action": "objection", "on": D(2025, 10, 9), "text": "边界与实际不符"}]
    assert blockers(history=objection) == ["objections_open"]
    e = error("noticed", "resolve_objection", D(2025, 10, 10), history=objection, decision="经核实")
    assert e.code == "bad_result" and "异议成立（upheld）" in e.message
    dismissed = step("noticed", "resolve_objection", "province", D(2025, 10, 10), history=objection,
                     outcome="不成立", decision="经核实，异议不成立")
    assert dismissed.record == {"outcome": "dismissed"}
    assert blockers(history=[*objection, {"action": "resolve_objection", "outcome": "dismissed"}]) == []
    upheld = [*objection, {"action": "resolve_objection", "outcome": "upheld"}]
    assert blockers(history=upheld) == ["objection_upheld"]
    assert error("noticed", "decide_objection", D(2025, 10, 12), history=upheld).code == "missing_input"
    decided = [*upheld, {"action": "decide_objection", "decision": "四至已更正并重新核验"}]
    assert blockers(history=decided) == []
    assert error("noticed", "decide_objection", D(2025, 10, 12), history=decided).code == "no_upheld_objection"
    assert error("noticed", "resolve_objection", D(2025, 10, 10), history=decided, outcome="upheld",
                 decision="x").code == "no_open_objection"


# --- 整改 periods set at the decision; late re-checks flagged ----------------------------------------------------

def test_evaluation_rectification_period_is_set_and_at_most_six_months():
    three = step("operating", "evaluate", "province", D(2025, 6, 3), grade="fail", rectification_months=3)
    assert three.dates["rectification_ends"] == D(2025, 9, 3) and three.record["rectification_months"] == 3
    six = step("operating", "evaluate", "province", D(2025, 6, 3), grade="fail", rectification_months="6")
    assert six.dates["rectification_ends"] == D(2025, 12, 3)
    for bad in (7, 0, -1, "半年"):
        e = error("operating", "evaluate", D(2025, 6, 3), grade="fail", rectification_months=bad)
        assert e.code == "bad_period" and e.detail["field"] == "data.rectification_months"


def test_acceptance_rectification_is_six_months_unless_another_period_is_stated_with_its_reason():
    dates = {"construction_ends": D(2024, 1, 10)}
    default = step("construction", "accept", "province", D(2024, 1, 15), dates, result="fail")
    assert default.dates["rectification_ends"] == D(2024, 7, 15) and default.record["rectification_months"] == 6
    assert error("construction", "accept", D(2024, 1, 15), dates, result="fail",
                 rectification_months=8).detail["field"] == "data.period_reason"
    eight = step("construction", "accept", "province", D(2024, 1, 15), dates, result="fail", rectification_months=8,
                 period_reason="涉及新建载体，需跨一个施工季")
    assert eight.dates["rectification_ends"] == D(2024, 9, 18)  # 15 September 2024 is a Sunday, 16–17 中秋
    assert error("construction", "accept", D(2024, 1, 15), dates, result="fail", rectification_months=13,
                 period_reason="x").code == "bad_period"


def test_a_re_acceptance_after_the_period_is_flagged():
    dates = {"construction_ends": D(2023, 10, 13), "rectification_ends": D(2024, 4, 22)}
    on_time = step("rectification", "accept", "province", D(2024, 4, 22), dates, result="pass")
    assert "late" not in on_time.record and on_time.note == ""
    late = step("rectification", "accept", "province", D(2024, 4, 23), dates, result="pass")
    assert late.record["late"] is True and late.record["period_end"] == "2024-04-22" and "届满" in late.note
    recheck = step("rectifying", "close_rectification", "province", D(2024, 4, 30), dates, result="pass")
    assert recheck.record["late"] is True


# --- deadlines in calendar days end on a working day --------------------------------------------------------------

def test_calendar_deadlines_move_off_rest_days_and_holidays():
    approved = step("noticed", "approve", "province", D(2023, 10, 1), {"notice_end": D(2023, 9, 28)}, RECOMMENDED,
                    **READY)
    # two years end on 1 October 2025 (National Day): the construction period ends on Thursday 9 October
    assert approved.dates["construction_ends"] == D(2025, 10, 9)
    assert approved.deadlines["construction_ends"].nominal == D(2025, 10, 1)
    assert not approved.deadlines["construction_ends"].provisional
    assert lifecycle.annual_report_due(2023, CAL).due == D(2024, 4, 1)  # 31 March 2024 was a Sunday
    assert lifecycle.annual_report_due(2024, CAL).due == D(2025, 3, 31)  # a Monday: unchanged
    assert not lifecycle.annual_report_due(2024, CAL).provisional
    assert lifecycle.annual_report_due(2027, CAL).provisional


# --- no 500 on bad input -------------------------------------------------------------------------------------------

def test_a_zone_in_construction_without_dates_names_the_missing_date():
    e = error("construction", "accept", D(2024, 5, 1), {}, result="pass")
    assert e.code == "missing_date" and e.detail["field"] == "dates.construction_ends"


def test_dates_in_the_future_and_years_that_do_not_exist():
    today = D(2026, 11, 26)
    e = error("operating", "evaluate", D(2026, 11, 27), today=today, grade="pass")
    assert e.code == "future_date" and e.detail["field"] == "on"
    assert step("operating", "evaluate", "province", today, today=today, grade="pass").state == "operating"
    for year in (10000, -1, 0, 1999, 2026):
        with pytest.raises(LifecycleError) as err:
            lifecycle.check_report_year(year, today)
        assert err.value.code == "bad_year" and err.value.detail["field"] == "year"
    lifecycle.check_report_year(2025, today)


def test_who_may_do_what():
    e = error("noticed", "approve", D(2025, 10, 13), role="applicant")
    assert e.code == "illegal_transition" and "公示中" in e.message and e.allowed == []
    assert "申报准备中" in error("draft", "recommend", D(2025, 9, 1), role="city").message
    assert lifecycle.allowed_actions("submitted", "city") == ["return", "recommend"]
    assert lifecycle.allowed_actions("revocation_proposed", "province") == ["confirm_revocation", "decline_revocation"]


def test_materials_are_required():
    e = error("draft", "submit", D(2025, 9, 1), role="applicant", materials=["application_form"])
    assert e.code == "missing_material" and "创建工作方案" in e.message
    assert "推荐函" in error("submitted", "recommend", D(2025, 9, 1), role="city", materials=["application_form"]).message


def test_month_arithmetic_at_month_ends():
    assert lifecycle.add_months(D(2027, 8, 31), 6) == D(2028, 2, 29)
    assert lifecycle.add_years(D(2024, 2, 29), 2) == D(2026, 2, 28)
