"""The step bar's reading of a zone's life (domain/journey.py): pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from zonegeo.domain import journey
from zonegeo.domain.lifecycle import STATES
from zonegeo.domain.workdays import WorkCalendar

CAL = WorkCalendar()
# A Friday. 2025-10-01..08 is the National Day holiday; Sunday 2025-09-28 and Saturday 10-11 are make-up workdays.
TODAY = dt.date(2025, 9, 26)


def statuses(j: journey.Journey) -> dict[str, str]:
    return {s.key: s.status for s in j.steps}


def ev(action: str, on: str, frm: str, to: str, role: str, **data) -> dict:
    return {"action": action, "on": dt.date.fromisoformat(on), "from": frm, "to": to, "role": role, **data}


@pytest.mark.parametrize(("state", "current", "waiting"), [
    ("draft", "apply", "等待建设主体准备申报材料并提交申报"),
    ("submitted", "recommend", "等待设区市知识产权局审核申报材料并推荐"),
    ("recommended", "review", "等待省知识产权局组织专家评审"),
    ("under_review", "review", "等待省知识产权局专家评审中，由省知识产权局组织"),
    ("noticed", "notice", "等待省知识产权局向社会公示5个工作日，公示期满后批复"),
    ("construction", "build", "等待建设主体按创建工作方案建设，建设期满后由省知识产权局组织验收"),
    ("rectification", "accept", "等待建设主体验收不合格，在整改期内整改后由省知识产权局复核"),
    ("rectifying", "operate", "等待建设主体绩效评价不合格，在整改期内整改后由省知识产权局复核"),
    ("revocation_proposed", "operate", "等待省知识产权局拟取消称号，待省知识产权局确认或不予取消"),
])
def test_each_state_stands_at_one_step_waiting_on_someone(state, current, waiting):
    j = journey.journey(state, [], [], today=TODAY, calendar=CAL)
    keys = [s.key for s in j.steps]
    assert [s.label for s in j.steps] == ["申报", "推荐", "评审", "公示", "批复", "建设", "验收", "运行"]
    at = keys.index(current)
    assert [s.status for s in j.steps] == ["done"] * at + ["current"] + ["ahead"] * (len(keys) - at - 1)
    assert j.current is not None and j.current.key == current
    assert j.waiting == waiting and j.state_label == STATES[state] and not j.stopped


def test_every_lifecycle_state_has_a_reading():
    for state in STATES:
        j = journey.journey(state, [], [], today=TODAY, calendar=CAL)
        assert len(j.steps) == 8 and sum(s.status in ("current", "failed") for s in j.steps) == 1


def test_operating_is_the_last_step_with_nothing_awaited():
    j = journey.journey("operating", [], [], today=TODAY, calendar=CAL)
    assert statuses(j)["operate"] == "current" and list(statuses(j).values())[:-1] == ["done"] * 7
    assert j.waiting == ""


def test_a_return_is_an_open_comment_until_resubmitted():
    history = [ev("submit", "2025-09-01", "draft", "submitted", "applicant"),
               ev("return", "2025-09-05", "submitted", "draft", "city", reason="工作方案缺少年度目标")]
    j = journey.journey("draft", history, [], today=TODAY, calendar=CAL)
    (c,) = j.comments
    assert (c.kind, c.label, c.role_label, c.open) == ("return", "退回意见", "设区市知识产权局", True)
    assert c.text == "工作方案缺少年度目标"
    again = journey.journey("submitted", [*history, ev("submit", "2025-09-10", "draft", "submitted", "applicant")], [],
                            today=TODAY, calendar=CAL)
    assert [c.open for c in again.comments] == [False]  # answered by the new submission, still shown


@pytest.mark.parametrize(("left", "stopped_at"), [("submitted", "recommend"), ("under_review", "review"),
                                                  ("noticed", "approve")])
def test_a_rejection_marks_the_step_it_stopped_at(left, stopped_at):
    history = [ev("reject", "2025-09-20", left, "rejected", "province", reason="核心区面积不足")]
    j = journey.journey("rejected", history, [], today=TODAY, calendar=CAL)
    s = statuses(j)
    assert s[stopped_at] == "failed" and j.current is not None and j.current.key == stopped_at
    keys = list(s)
    assert all(s[k] == "done" for k in keys[:keys.index(stopped_at)])
    assert all(s[k] == "closed" for k in keys[keys.index(stopped_at) + 1:])
    assert j.stopped == "未获批准：核心区面积不足" and j.waiting == ""
    assert [c.label for c in j.comments] == ["不予批准理由"]


def test_a_revocation_is_shown_with_its_reason():
    history = [ev("revoke", "2025-09-20", "operating", "revoked", "province", reason=5)]
    j = journey.journey("revoked", history, [], today=TODAY, calendar=CAL)
    assert statuses(j)["operate"] == "failed" and j.stopped == "已取消称号：有重大违法违规行为"


def test_a_revocation_without_history_still_says_so():
    j = journey.journey("revoked", [], [], today=TODAY, calendar=CAL)
    assert j.stopped == "已取消称号" and statuses(j)["operate"] == "failed"


def test_deadlines_count_working_days_across_the_national_day_holiday():
    items = [{"what": "公示期结束，可批复", "due": "2025-10-10", "role": "province", "kind": "deadline",
              "provisional": False},
             {"what": "审核申报材料并推荐", "due": TODAY.isoformat(), "role": "city", "kind": "deadline"},
             {"what": "集聚区的日期记录有误，请更正", "due": TODAY.isoformat(), "role": "province", "kind": "flag"}]
    j = journey.journey("noticed", [], items, today=TODAY, calendar=CAL)
    (d,) = j.deadlines  # a task without a deadline and a flag are not deadlines
    # Sunday 9/28 (made a workday), 9/29, 9/30, then the holiday 10/1–10/8, then 10/9, 10/10: five working days
    assert d.working_days_left == 5 and not d.overdue and d.role_label == "省知识产权局"


def test_working_days_left_edges():
    assert journey.working_days_left(CAL, TODAY, TODAY) == 0
    assert journey.working_days_left(CAL, TODAY, TODAY + dt.timedelta(days=1)) == 0  # Saturday
    assert journey.working_days_left(CAL, TODAY, TODAY + dt.timedelta(days=2)) == 1  # Sunday, a make-up workday
    assert journey.working_days_left(CAL, TODAY, TODAY + dt.timedelta(days=3)) == 2  # Monday
    assert journey.working_days_left(CAL, dt.date(2025, 9, 29), dt.date(2025, 9, 26)) == -2  # Sunday 9/28 and Monday
    overdue = journey.journey("construction", [], [{"what": "建设期届满，组织验收", "due": "2025-09-20",
                                                     "role": "province", "kind": "deadline"}],
                              today=TODAY, calendar=CAL).deadlines[0]
    assert overdue.overdue and overdue.days_overdue == 6 and overdue.working_days_left < 0
