"""A zone's life under the regulation (第二章, 第三章) as a pure state machine: who may do what, when, and
which deadline each step sets. No database, no HTTP."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from zonegeo.domain.workdays import WorkCalendar

STATES = {
    "draft": "申报准备中", "submitted": "已申报（待设区市推荐）", "recommended": "设区市已推荐",
    "under_review": "专家评审中", "noticed": "公示中", "construction": "建设期", "rectification": "验收整改期",
    "operating": "运行期", "rectifying": "运行整改期", "rejected": "未获批准", "revoked": "已取消称号",
}
ROLES = {"applicant": "建设主体", "city": "设区市知识产权局", "province": "省知识产权局", "expert": "评审专家"}
MATERIALS = {"recommendation_letter": "设区市知识产权局推荐函", "application_form": "江苏省知识产权服务业集聚区申报表",
             "work_plan": "集聚区创建工作方案", "commitment": "申报材料真实性承诺书", "other": "其他材料"}
APPLICANT_MATERIALS = ("application_form", "work_plan", "commitment")
REVOCATION_REASONS = {
    1: "连续两年无正当理由不参加绩效评价",
    2: "验收不合格或者连续两年绩效评价不合格，并在规定期限内整改仍不合格",
    3: "申报或绩效评价时提供虚假材料或采取其它手段骗取集聚区称号或通过绩效评价",
    4: "不配合知识产权主管部门依法管理",
    5: "有重大违法违规行为",
    6: "其它对社会造成不良影响的行为",
}
GRADES = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}
NOTICE_WORKING_DAYS = 5  # 向社会公示5个工作日
CONSTRUCTION_YEARS = 2  # 建设期限为二年
RECTIFICATION_MONTHS = 6  # 整改期限一般为六个月 / 一般不超过六个月


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: stays in its state (a record, such as an evaluation of 合格)
    roles: tuple[str, ...]


TRANSITIONS = {t.action: t for t in (
    Transition("submit", "提交申报", ("draft",), "submitted", ("applicant",)),
    Transition("return", "退回修改", ("submitted",), "draft", ("city",)),
    Transition("recommend", "推荐", ("submitted",), "recommended", ("city",)),
    Transition("start_review", "组织专家评审", ("recommended",), "under_review", ("province",)),
    Transition("start_notice", "公示", ("under_review",), "noticed", ("province",)),
    Transition("objection", "登记公示异议", ("noticed",), None, ("province",)),
    Transition("resolve_objection", "处理公示异议", ("noticed",), None, ("province",)),
    Transition("approve", "批复同意建设", ("noticed",), "construction", ("province",)),
    Transition("reject", "不予批准", ("submitted", "recommended", "under_review", "noticed"), "rejected", ("province",)),
    Transition("accept", "验收", ("construction", "rectification"), None, ("province",)),
    Transition("evaluate", "绩效评价", ("operating",), None, ("province",)),
    Transition("close_rectification", "整改复核", ("rectifying",), None, ("province",)),
    Transition("revoke", "取消称号", ("construction", "rectification", "operating", "rectifying"), "revoked",
               ("province",)),
)}


@dataclass(frozen=True)
class Step:
    """The outcome of an action: the new state and the dates it sets (approved_on, construction_ends …)."""

    state: str
    dates: dict[str, dt.date] = field(default_factory=dict)
    note: str = ""


class LifecycleError(Exception):
    """An action that is not allowed now; ``allowed`` lists what is."""

    def __init__(self, code: str, message: str, allowed: list[str], state: str) -> None:
        super().__init__(message)
        self.code, self.message, self.allowed, self.state = code, message, allowed, state


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def allowed_actions(state: str, role: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources and role in t.roles]


def apply(state: str, action: str, *, role: str, on: dt.date, data: dict[str, Any], dates: dict[str, dt.date],
          calendar: WorkCalendar, history: list[dict[str, Any]] | None = None) -> Step:
    """Check that ``role`` may take ``action`` in ``state`` on day ``on`` and compute the result."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise LifecycleError("unknown_action", f"未知的操作“{action}”", allowed_actions(state, role), state)
    if state not in transition.sources or role not in transition.roles:
        allowed = allowed_actions(state, role)
        can = "、".join(TRANSITIONS[a].label for a in allowed) or "无"
        raise LifecycleError("illegal_transition",
                             f"当前状态为“{STATES[state]}”，{ROLES.get(role, role)}不能“{transition.label}”；可执行：{can}",
                             allowed, state)
    handler = _HANDLERS.get(action)
    if handler is not None:
        return handler(state, on, data, dates, calendar, history or [])
    return Step(transition.target or state)


def _need(data: dict[str, Any], key: str, message: str) -> Any:
    if not data.get(key):
        raise LifecycleError("missing_input", message, [], "")
    return data[key]


def _start_notice(state, on, data, dates, calendar, history) -> Step:
    due = calendar.add_working_days(on - dt.timedelta(days=1), NOTICE_WORKING_DAYS)  # the notice day counts
    return Step("noticed", {"notice_start": on, "notice_end": due.due})


def _approve(state, on, data, dates, calendar, history) -> Step:
    end = dates.get("notice_end")
    if end is None or on <= end:
        raise LifecycleError("notice_not_over", f"公示期至{end:%Y年%m月%d日}结束，结束后方可批复" if end else "尚未公示",
                             [], state)
    raised = sum(1 for h in history if h["action"] == "objection")
    resolved = sum(1 for h in history if h["action"] == "resolve_objection")
    if raised > resolved:
        raise LifecycleError("objections_open", f"公示期间有{raised - resolved}项异议尚未处理，处理后方可批复", [], state)
    return Step("construction", {"approved_on": on, "construction_ends": add_years(on, CONSTRUCTION_YEARS)})


def _accept(state, on, data, dates, calendar, history) -> Step:
    passed = _need(data, "result", "请给出验收结果（pass 或 fail）") == "pass"
    if state == "construction" and on < dates["construction_ends"]:
        raise LifecycleError("too_early", f"建设期至{dates['construction_ends']:%Y年%m月%d日}届满，届满后组织验收", [], state)
    if passed:
        return Step("operating", {"accepted_on": on})
    if state == "rectification":  # 验收不合格 … 在规定期限内整改仍不合格 → 取消称号
        return Step("revoked", {"revoked_on": on}, note=REVOCATION_REASONS[2])
    return Step("rectification", {"rectification_ends": add_months(on, RECTIFICATION_MONTHS)})


def _evaluate(state, on, data, dates, calendar, history) -> Step:
    grade = _need(data, "grade", "请给出评价结果（excellent、pass 或 fail）")
    if grade not in GRADES:
        raise LifecycleError("bad_grade", f"评价结果“{grade}”不正确，应为 excellent、pass 或 fail", [], state)
    if grade == "fail":
        return Step("rectifying", {"rectification_ends": add_months(on, RECTIFICATION_MONTHS)})
    return Step("operating")


def _close_rectification(state, on, data, dates, calendar, history) -> Step:
    passed = _need(data, "result", "请给出整改复核结果（pass 或 fail）") == "pass"
    if passed:
        return Step("operating")
    failed_years = {h["on"].year for h in history if h["action"] == "evaluate" and h.get("grade") == "fail"}
    if len(failed_years) >= 2 and any(y - 1 in failed_years for y in failed_years):
        return Step("revoked", {"revoked_on": on}, note=REVOCATION_REASONS[2])
    return Step("operating", note="整改复核不合格，记入评价档案")


def _revoke(state, on, data, dates, calendar, history) -> Step:
    reason = int(_need(data, "reason", "请给出取消称号的理由编号（1–6）"))
    if reason not in REVOCATION_REASONS:
        raise LifecycleError("bad_reason", "取消称号的理由编号应为1–6（第三章）", [], state)
    return Step("revoked", {"revoked_on": on}, note=REVOCATION_REASONS[reason])


def _recommend(state, on, data, dates, calendar, history) -> Step:
    if "recommendation_letter" not in data.get("materials", ()):
        raise LifecycleError("missing_material", "推荐须附设区市知识产权局推荐函", [], state)
    return Step("recommended")


def _submit(state, on, data, dates, calendar, history) -> Step:
    missing = [MATERIALS[m] for m in APPLICANT_MATERIALS if m not in data.get("materials", ())]
    if missing:
        raise LifecycleError("missing_material", "申报材料不全：缺少" + "、".join(missing), [], state)
    return Step("submitted", {"submitted_on": on})


def _return(state, on, data, dates, calendar, history) -> Step:
    _need(data, "reason", "退回须说明理由")
    return Step("draft")


def _objection(state, on, data, dates, calendar, history) -> Step:
    _need(data, "text", "请填写异议内容")
    return Step(state)


def _resolve_objection(state, on, data, dates, calendar, history) -> Step:
    raised = sum(1 for h in history if h["action"] == "objection")
    resolved = sum(1 for h in history if h["action"] == "resolve_objection")
    if raised <= resolved:
        raise LifecycleError("no_open_objection", "没有待处理的公示异议", [], state)
    _need(data, "decision", "请填写处理结论")
    return Step(state)


def _reject(state, on, data, dates, calendar, history) -> Step:
    _need(data, "reason", "不予批准须说明理由")
    return Step("rejected")


_HANDLERS = {"objection": _objection, "resolve_objection": _resolve_objection,
             "submit": _submit, "return": _return, "recommend": _recommend, "start_notice": _start_notice,
             "approve": _approve, "reject": _reject, "accept": _accept, "evaluate": _evaluate,
             "close_rectification": _close_rectification, "revoke": _revoke}


def annual_report_due(year_reported: int) -> dt.date:
    """设区市知识产权局每年一季度末前报送上年度总结报告: the report on ``year_reported`` is due 31 March next year."""
    return dt.date(year_reported + 1, 3, 31)


def automatic_revocation(history: list[dict[str, Any]], today: dt.date, operating_since: dt.date | None) -> int | None:
    """Reason 1 of 第三章: two consecutive years (before this one) without an evaluation while operating."""
    if operating_since is None:
        return None
    evaluated = {h["on"].year for h in history if h["action"] == "evaluate"}
    years = [y for y in (today.year - 2, today.year - 1) if y > operating_since.year]
    return 1 if len(years) == 2 and not evaluated.intersection(years) else None
