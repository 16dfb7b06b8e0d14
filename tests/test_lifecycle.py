"""The zone's life as a pure state machine, with dates checked against the working-day reference."""

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


def ref_due(start: str, n: int) -> str:
    cases = json.loads(reference("workdays.json").read_text(encoding="utf-8"))["cases"]
    return next(c["due"] for c in cases if c["start"] == start and c["n_working_days"] == n)


def step(state, action, role, on, dates=None, history=None, **data):
    return apply(state, action, role=role, on=on, data=data, dates=dates or {}, calendar=CAL, history=history)


def test_a_whole_life_with_its_dates():
    materials = {"materials": ["application_form", "work_plan", "commitment", "recommendation_letter"]}
    s = step("draft", "submit", "applicant", D(2025, 9, 1), **materials)
    assert s.state == "submitted" and s.dates["submitted_on"] == D(2025, 9, 1)
    assert step("submitted", "recommend", "city", D(2025, 9, 5), **materials).state == "recommended"
    assert step("recommended", "start_review", "province", D(2025, 9, 10)).state == "under_review"
    # 公示5个工作日 starting Monday 29 September 2025, over National Day: the 5th working day counting that Monday.
    notice = step("under_review", "start_notice", "province", D(2025, 9, 29))
    assert notice.dates["notice_end"].isoformat() == ref_due("2025-09-28", 5)  # = 2025-10-11, a make-up Saturday
    dates = dict(notice.dates)
    with pytest.raises(LifecycleError) as e:
        step("noticed", "approve", "province", notice.dates["notice_end"], dates)
    assert e.value.code == "notice_not_over"
    approved = step("noticed", "approve", "province", D(2025, 10, 13), dates)
    assert approved.state == "construction" and approved.dates["construction_ends"] == D(2027, 10, 13)
    dates |= approved.dates
    with pytest.raises(LifecycleError) as e:
        step("construction", "accept", "province", D(2027, 6, 1), dates, result="pass")
    assert e.value.code == "too_early"
    failed = step("construction", "accept", "province", D(2027, 10, 20), dates, result="fail")
    assert failed.state == "rectification" and failed.dates["rectification_ends"] == D(2028, 4, 20)
    passed = step("rectification", "accept", "province", D(2028, 4, 18), dates | failed.dates, result="pass")
    assert passed.state == "operating"
    assert lifecycle.annual_report_due(2028) == D(2029, 3, 31)
    good = step("operating", "evaluate", "province", D(2029, 6, 1), grade="excellent")
    assert good.state == "operating"
    bad = step("operating", "evaluate", "province", D(2030, 6, 1), grade="fail")
    assert bad.state == "rectifying" and bad.dates["rectification_ends"] == D(2030, 12, 1)
    revoked = step("operating", "revoke", "province", D(2031, 1, 5), reason=5)
    assert revoked.state == "revoked" and "违法违规" in revoked.note


def test_a_failed_re_acceptance_revokes_the_title():
    s = step("rectification", "accept", "province", D(2028, 4, 20), {"construction_ends": D(2027, 10, 13)},
             result="fail")
    assert s.state == "revoked" and s.note == lifecycle.REVOCATION_REASONS[2]


def test_two_consecutive_failed_evaluations_and_a_failed_rectification_revoke():
    history = [{"action": "evaluate", "on": D(2029, 6, 1), "grade": "fail"},
               {"action": "evaluate", "on": D(2030, 6, 1), "grade": "fail"}]
    s = step("rectifying", "close_rectification", "province", D(2030, 12, 1), history=history, result="fail")
    assert s.state == "revoked"
    one = step("rectifying", "close_rectification", "province", D(2030, 12, 1), history=history[1:], result="fail")
    assert one.state == "operating" and one.note


def test_who_may_do_what():
    with pytest.raises(LifecycleError) as e:
        step("noticed", "approve", "applicant", D(2025, 10, 13))
    assert e.value.code == "illegal_transition" and "公示中" in e.value.message and e.value.allowed == []
    with pytest.raises(LifecycleError) as e:
        step("draft", "recommend", "city", D(2025, 9, 1))
    assert "申报准备中" in e.value.message
    assert lifecycle.allowed_actions("submitted", "city") == ["return", "recommend"]


def test_materials_are_required():
    with pytest.raises(LifecycleError) as e:
        step("draft", "submit", "applicant", D(2025, 9, 1), materials=["application_form"])
    assert e.value.code == "missing_material" and "创建工作方案" in e.value.message
    with pytest.raises(LifecycleError) as e:
        step("submitted", "recommend", "city", D(2025, 9, 1), materials=["application_form"])
    assert "推荐函" in e.value.message


def test_two_years_without_evaluation_is_an_automatic_revocation_reason():
    history = [{"action": "evaluate", "on": D(2027, 5, 1), "grade": "pass"}]
    assert lifecycle.automatic_revocation(history, D(2030, 2, 1), D(2026, 1, 1)) == 1
    assert lifecycle.automatic_revocation(history, D(2029, 2, 1), D(2026, 1, 1)) is None


def test_month_arithmetic_at_month_ends():
    assert lifecycle.add_months(D(2027, 8, 31), 6) == D(2028, 2, 29)
    assert lifecycle.add_years(D(2024, 2, 29), 2) == D(2026, 2, 28)


def test_objections_must_be_resolved_before_approval():
    dates = {"notice_end": D(2025, 10, 11)}
    objection = [{"action": "objection", "on": D(2025, 10, 9), "text": "边界与实际不符"}]
    with pytest.raises(LifecycleError) as e:
        step("noticed", "approve", "province", D(2025, 10, 13), dates, history=objection)
    assert e.value.code == "objections_open"
    resolved = [*objection, {"action": "resolve_objection", "on": D(2025, 10, 10), "decision": "经核实，异议不成立"}]
    assert step("noticed", "approve", "province", D(2025, 10, 13), dates, history=resolved).state == "construction"
    with pytest.raises(LifecycleError):
        step("noticed", "resolve_objection", "province", D(2025, 10, 10), history=resolved, decision="x")
