"""Where a zone stands on its way 申报 → 推荐 → 评审 → 公示 → 批复 → 建设 → 验收 → 运行, for the step bar on the zone
page: which step is done, current or ahead, what is waiting on whom, the comments it was returned with, and the
deadline in working days. Computed from the lifecycle state, its events and its obligations. No database, no HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from zonegeo.domain.lifecycle import REVOCATION_REASONS, ROLES, STATES
from zonegeo.domain.workdays import WorkCalendar

STEPS = (("apply", "申报"), ("recommend", "推荐"), ("review", "评审"), ("notice", "公示"), ("approve", "批复"),
         ("build", "建设"), ("accept", "验收"), ("operate", "运行"))
STEP_KEYS = tuple(k for k, _ in STEPS)
STATUS_LABELS = {"done": "已完成", "current": "当前", "ahead": "未开始", "failed": "未通过", "closed": "不再进行"}

# The step each lifecycle state stands at, and who the zone waits on there (the role, then what they do).
AT = {
    "draft": ("apply", "applicant", "准备申报材料并提交申报"),
    "submitted": ("recommend", "city", "审核申报材料并推荐"),
    "recommended": ("review", "province", "组织专家评审"),
    "under_review": ("review", "province", "专家评审中，由省知识产权局组织"),
    "noticed": ("notice", "province", "向社会公示5个工作日，公示期满后批复"),
    "construction": ("build", "applicant", "按创建工作方案建设，建设期满后由省知识产权局组织验收"),
    "rectification": ("accept", "applicant", "验收不合格，在整改期内整改后由省知识产权局复核"),
    "operating": ("operate", "", ""),
    "rectifying": ("operate", "applicant", "绩效评价不合格，在整改期内整改后由省知识产权局复核"),
    "revocation_proposed": ("operate", "province", "拟取消称号，待省知识产权局确认或不予取消"),
}
# A zone that stopped: the step it stopped at follows from the state it left (``from`` of the deciding event).
STOPPED_AT = {"submitted": "recommend", "recommended": "review", "under_review": "review", "noticed": "approve",
              "construction": "build", "rectification": "accept", "operating": "operate", "rectifying": "operate",
              "revocation_proposed": "operate"}
# Worklist items that are a task with no deadline of the regulation (the worklist dates them today).
NO_DEADLINE = ("审核申报材料并推荐",)
STOPPED = {"rejected": "未获批准", "revoked": "已取消称号"}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    status: str  # done | current | ahead | failed | closed

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Deadline:
    what: str
    due: dt.date
    role: str
    role_label: str
    working_days_left: int  # working days after today up to and including the due day; negative when overdue
    days_overdue: int  # calendar days past the due day (0 when not overdue)
    provisional: bool

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


@dataclass(frozen=True)
class Comment:
    """A returned or refused application's reason, as the deciding bureau wrote it."""

    kind: str  # return | reject | revoke
    label: str
    on: dt.date
    role_label: str
    text: str
    open: bool  # not yet answered by a new submission


@dataclass(frozen=True)
class Journey:
    state: str
    state_label: str
    steps: tuple[Step, ...]
    waiting_on: str  # the role label ("设区市知识产权局") or "" when nothing is awaited
    waiting_for: str  # what they are to do
    stopped: str = ""  # 未获批准 / 已取消称号, with its reason
    comments: tuple[Comment, ...] = ()
    deadlines: tuple[Deadline, ...] = field(default_factory=tuple)

    @property
    def current(self) -> Step | None:
        return next((s for s in self.steps if s.status in ("current", "failed")), None)

    @property
    def waiting(self) -> str:
        """One sentence: 等待设区市知识产权局审核申报材料并推荐."""
        return f"等待{self.waiting_on}{self.waiting_for}" if self.waiting_on else ""


def working_days_left(calendar: WorkCalendar, today: dt.date, due: dt.date) -> int:
    """Working days after ``today`` up to and including ``due`` (0 when it is due today); when ``due`` has passed,
    minus the working days from the day after ``due`` up to and including today."""
    if due >= today:
        return sum(1 for n in range(1, (due - today).days + 1) if calendar.is_workday(today + dt.timedelta(days=n)))
    return -sum(1 for n in range(1, (today - due).days + 1) if calendar.is_workday(due + dt.timedelta(days=n)))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _steps(at: str, status: str) -> tuple[Step, ...]:
    index = STEP_KEYS.index(at)
    after = "closed" if status == "failed" else "ahead"
    return tuple(Step(k, label, "done" if i < index else status if i == index else after)
                 for i, (k, label) in enumerate(STEPS))


def _comments(history: list[dict[str, Any]], state: str) -> tuple[Comment, ...]:
    """Each 退回 with its reason (open while the zone is back in draft and not resubmitted), and the reason of a
    refusal or a revocation."""
    out: list[Comment] = []
    last_submit = max((i for i, e in enumerate(history) if e.get("action") == "submit"), default=-1)
    for i, e in enumerate(history):
        action = e.get("action")
        role = ROLES.get(str(e.get("role", "")), str(e.get("role", "")))
        if action == "return":
            out.append(Comment("return", "退回意见", _day(e["on"]), role, str(e.get("reason", "")),
                               open=state == "draft" and i > last_submit))
        elif action == "reject":
            out.append(Comment("reject", "不予批准理由", _day(e["on"]), role, str(e.get("reason", "")), open=False))
        elif action in ("revoke", "confirm_revocation"):
            reason = e.get("reason")
            text = REVOCATION_REASONS.get(int(str(reason)), "") if str(reason).isdigit() else str(e.get("note", ""))
            out.append(Comment("revoke", "取消称号理由", _day(e["on"]), role, text or str(e.get("note", "")), open=False))
    return tuple(out)


def _deadlines(obligations: list[dict[str, Any]], today: dt.date, calendar: WorkCalendar) -> tuple[Deadline, ...]:
    out = []
    for item in obligations:
        if item.get("kind", "deadline") != "deadline" or item.get("what") in NO_DEADLINE:
            continue
        due = _day(item["due"])
        role = str(item.get("role", ""))
        out.append(Deadline(str(item["what"]), due, role, ROLES.get(role, role), working_days_left(calendar, today, due),
                            max((today - due).days, 0), bool(item.get("provisional"))))
    return tuple(sorted(out, key=lambda d: d.due))


def journey(state: str, history: list[dict[str, Any]], obligations: list[dict[str, Any]], *, today: dt.date,
            calendar: WorkCalendar) -> Journey:
    """The step bar of a zone in lifecycle ``state`` with its lifecycle ``history`` (events as
    ``services.lifecycle.history`` gives them, oldest first) and its ``obligations`` (``services.lifecycle.obligations``)."""
    label = STATES.get(state, state)
    comments = _comments(history, state)
    deadlines = _deadlines(obligations, today, calendar)
    if state in STOPPED:
        stopped = STOPPED[state]
        deciding = [e for e in history if e.get("to") == state]
        left = str(deciding[-1].get("from", "")) if deciding else ""
        at = STOPPED_AT.get(left, "apply" if state == "rejected" else "operate")
        reason = next((c.text for c in reversed(comments) if c.kind in ("reject", "revoke") and c.text), "")
        return Journey(state, label, _steps(at, "failed"), "", "", f"{stopped}：{reason}" if reason else stopped,
                       comments, deadlines)
    at, role, what = AT.get(state, ("apply", "", ""))
    steps = _steps(at, "current")
    if state == "operating":  # arrived: every step done, 运行 goes on
        steps = tuple(Step(s.key, s.label, "current" if s.key == "operate" else "done") for s in steps)
    return Journey(state, label, steps, ROLES.get(role, ""), what, "", comments, deadlines)
