"""A zone's life under the regulation (第二章, 第三章) as a pure state machine: who may do what, when, and
which deadline each step sets. No database, no HTTP."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Re-exported (`x as x`): the services and tests read these history readings from here.
from zonegeo.domain.lifecycle_history import approval_blockers as approval_blockers
from zonegeo.domain.lifecycle_history import automatic_revocation as automatic_revocation
from zonegeo.domain.lifecycle_history import consecutive_failed_evaluations as consecutive_failed_evaluations
from zonegeo.domain.lifecycle_history import objections as objections
from zonegeo.domain.lifecycle_history import pending_proposal as pending_proposal
from zonegeo.domain.workdays import Deadline, WorkCalendar
from zonegeo.errors import ZonegeoError

STATES = {
    "draft": "申报准备中", "submitted": "已申报（待设区市推荐）", "recommended": "设区市已推荐",
    "under_review": "专家评审中", "noticed": "公示中", "construction": "建设期", "rectification": "验收整改期",
    "operating": "运行期", "rectifying": "运行整改期", "revocation_proposed": "拟取消称号（待省局确认）",
    "rejected": "未获批准", "revoked": "已取消称号",
}
# A revoked title (取消称号): the zone leaves the public map and its institutions no longer claim anything.
REVOKED_STATES = ("revoked",)
PUBLIC_HIDDEN_STATES = REVOKED_STATES  # zones the public never sees, published or not
ROLES = {"applicant": "建设主体", "city": "设区市知识产权局", "province": "省知识产权局", "expert": "评审专家"}
MATERIALS = {"recommendation_letter": "设区市知识产权局推荐函", "application_form": "江苏省知识产权服务业集聚区申报表",
             "work_plan": "集聚区创建工作方案", "commitment": "申报材料真实性承诺书", "other": "其他材料"}
# Every kind of stored attachment: the application materials, and the files of a change report (filed with the
# report only, never through the materials upload)
ATTACHMENT_KINDS = MATERIALS | {"change_report": "变更报告材料"}
APPLICANT_MATERIALS = ("application_form", "work_plan", "commitment")
REVOCATION_REASONS = {
    1: "连续两年无正当理由不参加绩效评价",
    2: "验收不合格或者连续两年绩效评价不合格，并在规定期限内整改仍不合格",
    3: "申报或绩效评价时提供虚假材料或采取其它手段骗取集聚区称号或通过绩效评价",
    4: "不配合知识产权主管部门依法管理",
    5: "有重大违法违规行为",
    6: "其它对社会造成不良影响的行为",
}
# Reasons (一) and (二) follow from recorded facts: the system proposes, a province user confirms or declines.
# Reasons (三)–(六) are findings only people can make: the province revokes directly, naming the reason.
PROPOSED_REASONS = (1, 2)
RESULTS = {"pass": "合格", "fail": "不合格"}
GRADES = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}
OBJECTION_OUTCOMES = {"upheld": "异议成立", "dismissed": "异议不成立"}
ALIASES = {
    "pass": "pass", "passed": "pass", "合格": "pass", "通过": "pass", "验收合格": "pass", "整改合格": "pass",
    "fail": "fail", "failed": "fail", "不合格": "fail", "不通过": "fail", "未通过": "fail", "验收不合格": "fail",
    "整改不合格": "fail", "excellent": "excellent", "优秀": "excellent",
    "upheld": "upheld", "成立": "upheld", "异议成立": "upheld",
    "dismissed": "dismissed", "不成立": "dismissed", "异议不成立": "dismissed",
}
NOTICE_WORKING_DAYS = 5  # 向社会公示5个工作日
CONSTRUCTION_YEARS = 2  # 建设期限为二年
RECTIFICATION_MONTHS = 6  # 验收：整改期限一般为六个月；评价：整改时限一般不超过六个月
ACCEPTANCE_RECTIFICATION_MAX_MONTHS = 12  # a stated other period for 验收 整改, with its reason
EVALUATION_RECTIFICATION_MAX_MONTHS = 6
FIRST_YEAR = 2000  # no zone, report or evaluation before the regulation's predecessors


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: stays in its state (a record, such as an evaluation of 合格)
    roles: tuple[str, ...]


TITLED = ("construction", "rectification", "operating", "rectifying")
TRANSITIONS = {t.action: t for t in (
    Transition("submit", "提交申报", ("draft",), "submitted", ("applicant",)),
    Transition("return", "退回修改", ("submitted",), "draft", ("city",)),
    Transition("recommend", "推荐", ("submitted",), "recommended", ("city",)),
    Transition("start_review", "组织专家评审", ("recommended",), "under_review", ("province",)),
    Transition("start_notice", "公示", ("under_review",), "noticed", ("province",)),
    Transition("objection", "登记公示异议", ("noticed",), None, ("province",)),
    Transition("resolve_objection", "处理公示异议", ("noticed",), None, ("province",)),
    Transition("decide_objection", "对成立的异议作出决定", ("noticed",), None, ("province",)),
    Transition("approve", "批复同意建设", ("noticed",), "construction", ("province",)),
    Transition("reject", "不予批准", ("submitted", "recommended", "under_review", "noticed"), "rejected", ("province",)),
    Transition("accept", "验收", ("construction", "rectification"), None, ("province",)),
    Transition("evaluate", "绩效评价", ("operating",), None, ("province",)),
    Transition("close_rectification", "整改复核", ("rectifying",), None, ("province",)),
    Transition("propose_revocation", "登记拟取消称号", ("operating", "rectifying"), "revocation_proposed",
               ("province",)),
    Transition("confirm_revocation", "确认取消称号", ("revocation_proposed",), "revoked", ("province",)),
    Transition("decline_revocation", "不予取消称号", ("revocation_proposed",), None, ("province",)),
    Transition("revoke", "取消称号", TITLED, "revoked", ("province",)),
)}


@dataclass(frozen=True)
class Step:
    """The outcome of an action: the new state, the dates it sets (approved_on, construction_ends …), the
    deadlines behind those dates (nominal day, provisional), a revocation it proposes, and what it recorded."""

    state: str
    dates: dict[str, dt.date] = field(default_factory=dict)
    note: str = ""
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    proposal: dict[str, Any] | None = None
    record: dict[str, Any] = field(default_factory=dict)  # checked values to store with the event


class LifecycleError(ZonegeoError):
    """An action that is not allowed now; ``allowed`` lists what is, ``detail`` says which field or facts. The
    services translate it into a ConflictError (409) or an InputError (422) by its ``code``."""

    allowed: list[str]
    state: str

    def __init__(self, code: str, message: str, allowed: list[str], state: str,
                 detail: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, dict(detail or {}))
        self.allowed, self.state = allowed, state


# What a step handler is given: the action's input, the zone's recorded dates, its past lifecycle events.
Data = dict[str, Any]
Dates = dict[str, dt.date]
History = list[dict[str, Any]]


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def allowed_actions(state: str, role: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources and role in t.roles]


def labelled(choices: dict[str, str]) -> str:
    return "、".join(f"{label}（{key}）" for key, label in choices.items())


def parse_choice(value: Any, choices: dict[str, str], field_name: str) -> str:
    """A checked result: one of ``choices`` by key or Chinese label; anything else names the allowed values."""
    key = ALIASES.get(str(value).strip().lower()) if value is not None else None
    if key not in choices:
        raise LifecycleError("bad_result", f"{field_name}“{'' if value is None else value}”不正确，应为：{labelled(choices)}",
                             [], "", {"field": field_name, "value": value, "allowed": list(choices)})
    return key


def parse_reason(value: Any) -> int:
    """A revocation reason: the item number 1–6 of 第三章's list."""
    try:
        reason = int(str(value).strip())
    except (TypeError, ValueError):
        reason = 0
    if reason not in REVOCATION_REASONS:
        allowed = "；".join(f"{k}：{v}" for k, v in REVOCATION_REASONS.items())
        raise LifecycleError("bad_reason", f"取消称号的理由（data.reason）“{value}”不正确，应为第三章所列的编号1–6（{allowed}）",
                             [], "", {"field": "data.reason", "value": value, "allowed": list(REVOCATION_REASONS)})
    return reason


def check_on(on: dt.date, today: dt.date | None) -> None:
    if on.year < FIRST_YEAR:
        raise LifecycleError("bad_date", f"日期（on）{on.isoformat()}早于{FIRST_YEAR}年，请核对", [], "", {"field": "on"})
    if today is not None and on > today:
        raise LifecycleError("future_date", f"日期（on）{on.isoformat()}晚于今天（{today.isoformat()}），只能登记已经发生的事项",
                             [], "", {"field": "on", "today": today.isoformat()})


def apply(state: str, action: str, *, role: str, on: dt.date, data: dict[str, Any], dates: dict[str, dt.date],
          calendar: WorkCalendar, history: list[dict[str, Any]] | None = None, today: dt.date | None = None) -> Step:
    """Check that ``role`` may take ``action`` in ``state`` on day ``on`` (not after ``today``) and compute the result."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise LifecycleError("unknown_action", f"未知的操作“{action}”", allowed_actions(state, role), state)
    if state not in transition.sources or role not in transition.roles:
        allowed = allowed_actions(state, role)
        can = "、".join(TRANSITIONS[a].label for a in allowed) or "无"
        now = STATES.get(state, state)
        raise LifecycleError("illegal_transition",
                             f"当前状态为“{now}”，{ROLES.get(role, role)}不能“{transition.label}”；可执行：{can}",
                             allowed, state)
    check_on(on, today)
    handler = _HANDLERS.get(action)
    if handler is not None:
        return handler(state, on, data, dates, calendar, history or [])
    return Step(transition.target or state)


def _need(data: dict[str, Any], key: str, message: str) -> Any:
    if not data.get(key):
        raise LifecycleError("missing_input", message, [], "", {"field": f"data.{key}"})
    return data[key]


def _date(dates: dict[str, dt.date], key: str, what: str, state: str) -> dt.date:
    if key not in dates:
        raise LifecycleError("missing_date", f"集聚区缺少{what}（dates.{key}），请先补录后再操作", [], state,
                             {"field": f"dates.{key}"})
    return dates[key]


def _deadline(calendar: WorkCalendar, key: str, nominal: dt.date) -> tuple[dict[str, dt.date], dict[str, Deadline]]:
    end = calendar.roll_forward(nominal)
    return {key: end.due}, {key: end}


def _months(data: dict[str, Any], *, maximum: int, acceptance: bool) -> int:
    """整改期限 set by the province at the decision: six months unless stated otherwise."""
    value = data.get("rectification_months")
    if value in (None, ""):
        return RECTIFICATION_MONTHS
    try:
        months = int(str(value).strip())
    except ValueError:
        months = 0
    clause = "验收整改期限一般为六个月" if acceptance else "绩效评价整改时限一般不超过六个月"
    if not 1 <= months <= maximum:
        raise LifecycleError("bad_period",
                             f"整改期限（data.rectification_months）“{value}”不正确，应为1–{maximum}个月（{clause}）", [], "",
                             {"field": "data.rectification_months", "value": value, "max": maximum})
    if acceptance and months != RECTIFICATION_MONTHS and not str(data.get("period_reason", "")).strip():
        raise LifecycleError("missing_input", f"整改期限定为{months}个月（不是一般的六个月）时，请说明理由（data.period_reason）",
                             [], "", {"field": "data.period_reason"})
    return months


def _rectification(calendar: WorkCalendar, on: dt.date, months: int) -> Step:
    dates, deadlines = _deadline(calendar, "rectification_ends", add_months(on, months))
    return Step("", dates, deadlines=deadlines)


def _late(on: dt.date, dates: dict[str, dt.date]) -> dict[str, Any]:
    """A re-acceptance or re-check after the 整改 period ended: recorded and flagged, not refused."""
    end = dates.get("rectification_ends")
    if end is None or on <= end:
        return {}
    return {"late": True, "period_end": end.isoformat(),
            "late_note": f"整改期已于{end:%Y年%m月%d日}届满，复核晚了{(on - end).days}天"}


def _start_notice(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    due = calendar.add_working_days(on - dt.timedelta(days=1), NOTICE_WORKING_DAYS)  # the notice day counts
    return Step("noticed", {"notice_start": on, "notice_end": due.due})


def _approve(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    blockers = approval_blockers(on, data, dates, history)
    if blockers:
        text = "；".join(f"{k}. {b['message']}" for k, b in enumerate(blockers, 1))
        raise LifecycleError("approval_blocked", f"尚不能批复，缺少以下条件：{text}", [], state, {"missing": blockers})
    ends, deadlines = _deadline(calendar, "construction_ends", add_years(on, CONSTRUCTION_YEARS))
    return Step("construction", {"approved_on": on, **ends}, deadlines=deadlines)


def _accept(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    result = parse_choice(data.get("result"), RESULTS, "验收结果（data.result）")
    if state == "construction":
        ends = _date(dates, "construction_ends", "建设期届满日期", state)
        if on < ends:
            raise LifecycleError("too_early", f"建设期至{ends:%Y年%m月%d日}届满，届满后组织验收", [], state,
                                 {"field": "on", "construction_ends": ends.isoformat()})
    late = _late(on, dates) if state == "rectification" else {}
    record = {"result": result, **late}
    if result == "pass":
        return Step("operating", {"accepted_on": on}, note=late.get("late_note", ""), record=record)
    if state == "rectification":  # 验收不合格 … 在规定期限内整改仍不合格 → 拟取消称号，待省局确认
        return _propose(2, on, "rectification", record, late)
    months = _months(data, maximum=ACCEPTANCE_RECTIFICATION_MAX_MONTHS, acceptance=True)
    step = _rectification(calendar, on, months)
    return Step("rectification", step.dates, deadlines=step.deadlines, record=record | {"rectification_months": months})


def _propose(reason: int, on: dt.date, return_to: str, record: dict[str, Any], late: dict[str, Any]) -> Step:
    note = f"拟取消称号：{REVOCATION_REASONS[reason]}（第三章第{reason}项），待省知识产权局确认"
    if late:
        note += "；" + late["late_note"]
    proposal = {"reason": reason, "reason_text": REVOCATION_REASONS[reason], "return_to": return_to,
                "proposed_on": on.isoformat()}
    return Step("revocation_proposed", {"revocation_proposed_on": on}, note=note, proposal=proposal,
                record=record | {"proposal": proposal})


def _evaluate(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    value = data.get("grade", data.get("result"))
    grade = parse_choice(value, GRADES, "评价结果（data.grade）")
    if grade == "fail":
        months = _months(data, maximum=EVALUATION_RECTIFICATION_MAX_MONTHS, acceptance=False)
        step = _rectification(calendar, on, months)
        return Step("rectifying", step.dates, deadlines=step.deadlines,
                    record={"grade": grade, "rectification_months": months})
    return Step("operating", record={"grade": grade})


def _close_rectification(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    result = parse_choice(data.get("result"), RESULTS, "整改复核结果（data.result）")
    late = _late(on, dates)
    record = {"result": result, **late}
    if result == "pass":
        return Step("operating", note=late.get("late_note", ""), record=record)
    run = consecutive_failed_evaluations(history)
    if run >= 2:  # 连续两年绩效评价不合格，并在规定期限内整改仍不合格
        return _propose(2, on, "operating", record | {"consecutive_failed_evaluations": run}, late)
    note = "整改复核不合格，记入评价档案" + ("；" + late["late_note"] if late else "")
    return Step("operating", note=note, record=record | {"consecutive_failed_evaluations": run})


def _propose_revocation(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    reason = parse_reason(data.get("reason"))
    if reason != 1:
        raise LifecycleError("bad_reason", "登记拟取消称号只适用于第1项（连续两年无正当理由不参加绩效评价）；"
                             "第2项由验收或整改复核不合格时自动提出，第3–6项请用“取消称号”（revoke）",
                             [], state, {"field": "data.reason", "value": data.get("reason")})
    since = _date(dates, "accepted_on", "验收合格（进入运行期）日期", state)
    if automatic_revocation(history, on, since) != 1:
        raise LifecycleError("reason_not_met", "不满足“连续两年不参加绩效评价”：最近两个完整年度内有绩效评价记录或运行未满两年",
                             [], state, {"field": "data.reason"})
    return _propose(1, on, state, {"reason": 1}, {})


def _confirm_revocation(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    proposal = pending_proposal(history)
    if proposal is None:
        raise LifecycleError("no_proposal", "没有待确认的拟取消称号记录", [], state)
    reason = int(proposal["reason"])
    return Step("revoked", {"revoked_on": on}, note=REVOCATION_REASONS[reason], record={"reason": reason})


def _decline_revocation(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    proposal = pending_proposal(history)
    if proposal is None:
        raise LifecycleError("no_proposal", "没有待确认的拟取消称号记录", [], state)
    _need(data, "decision", "不予取消称号须说明理由（data.decision），例如有正当理由")
    return Step(proposal["return_to"], note=f"不予取消称号：{data['decision']}",
                record={"declined_reason": int(proposal["reason"])})


def _revoke(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    reason = parse_reason(_need(data, "reason", "请给出取消称号的理由编号（data.reason，1–6）"))
    if reason in PROPOSED_REASONS:
        raise LifecycleError("bad_reason", f"第{reason}项（{REVOCATION_REASONS[reason]}）由系统依记录提出拟取消，"
                             "经省知识产权局确认（confirm_revocation）后生效，不能直接取消", [], state,
                             {"field": "data.reason", "value": reason})
    return Step("revoked", {"revoked_on": on}, note=REVOCATION_REASONS[reason], record={"reason": reason})


def _recommend(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    if "recommendation_letter" not in data.get("materials", ()):
        raise LifecycleError("missing_material", "推荐须附设区市知识产权局推荐函", [], state)
    return Step("recommended")


def _submit(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    missing = [MATERIALS[m] for m in APPLICANT_MATERIALS if m not in data.get("materials", ())]
    if missing:
        raise LifecycleError("missing_material", "申报材料不全：缺少" + "、".join(missing), [], state)
    return Step("submitted", {"submitted_on": on})


def _return(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    _need(data, "reason", "退回须说明理由（data.reason）")
    return Step("draft")


def _objection(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    _need(data, "text", "请填写异议内容（data.text）")
    return Step(state)


def _resolve_objection(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    if objections(history)["open"] <= 0:
        raise LifecycleError("no_open_objection", "没有待处理的公示异议", [], state)
    outcome = parse_choice(data.get("outcome"), OBJECTION_OUTCOMES, "异议处理结论（data.outcome）")
    _need(data, "decision", "请填写处理意见（data.decision）")
    return Step(state, record={"outcome": outcome})


def _decide_objection(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    if objections(history)["upheld_undecided"] <= 0:
        raise LifecycleError("no_upheld_objection", "没有待省知识产权局决定的成立异议", [], state)
    _need(data, "decision", "请填写省知识产权局的决定（data.decision），例如所涉问题已纠正、不影响批复")
    return Step(state)


def _reject(state: str, on: dt.date, data: Data, dates: Dates, calendar: WorkCalendar, history: History) -> Step:
    _need(data, "reason", "不予批准须说明理由（data.reason）")
    return Step("rejected")


_HANDLERS = {"objection": _objection, "resolve_objection": _resolve_objection, "decide_objection": _decide_objection,
             "submit": _submit, "return": _return, "recommend": _recommend, "start_notice": _start_notice,
             "approve": _approve, "reject": _reject, "accept": _accept, "evaluate": _evaluate,
             "close_rectification": _close_rectification, "revoke": _revoke,
             "propose_revocation": _propose_revocation, "confirm_revocation": _confirm_revocation,
             "decline_revocation": _decline_revocation}


def check_report_year(year: int, on: dt.date) -> None:
    """The year an annual report covers: a finished year (the report is on 上年度), not before 2000."""
    if not FIRST_YEAR <= year < on.year:
        raise LifecycleError("bad_year", f"年度（year）“{year}”不正确：应为{FIRST_YEAR}年至{on.year - 1}年之间已经结束的年度",
                             [], "", {"field": "year", "value": year})


def annual_report_due(year_reported: int, calendar: WorkCalendar) -> Deadline:
    """设区市知识产权局每年一季度末前报送上年度总结报告: the report on ``year_reported`` is due 31 March next year,
    or the next working day when that is a rest day."""
    return calendar.roll_forward(dt.date(year_reported + 1, 3, 31))
