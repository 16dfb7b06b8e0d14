"""The 待办 of one user: everything waiting on them, built from the zones' lifecycle states and dates, their
submitted layout versions and institution registers, their unreported change events and the expert assignments.

Each row names the zone, what is waiting (``what``, Chinese) and its kind (``kind``, a stable code), since when it
waits (``since``), its due date (or None), the working days left (``workdays_left``: after today up to the due
date; once the due date has passed, minus the working days since; 0 on the rest days right after a due date that
has passed, which are overdue all the same), the role that must act
and the page where the action is done (``action_url``).

Built with a bounded number of SQL statements whatever the number of zones: one per kind of record (zones,
lifecycle events, versions, registers, change events, materials, experts, submission times), never one per zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from zonegeo.db.models import Attachment, AuditEntry, ChangeEvent, RegisterDraft, User, Zone, ZoneMember, ZoneVersion
from zonegeo.domain import lifecycle as states
from zonegeo.domain import register as register_states
from zonegeo.domain.journey import working_days_left
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError
from zonegeo.services import access, evaluations
from zonegeo.services import lifecycle as zone_life
from zonegeo.services.changes import KIND_LABELS as CHANGE_LABELS

# kind → (label, the role that must act). The order is the order of the counts at the top of the page.
KINDS: dict[str, tuple[str, str]] = {
    "application_recommend": ("申报待推荐", "city"),
    "annual_report": ("年度总结报告待报送", "city"),
    "application_returned": ("申报被退回", "applicant"),
    "materials_missing": ("申报材料不全", "applicant"),
    "register_returned": ("机构名录被退回", "applicant"),
    "change_report": ("变更待报告", "applicant"),
    "change_copy": ("变更报告抄报待确认收到", "city"),
    "change_acknowledge": ("变更报告待出具回执", "province"),
    "version_submitted": ("空间布局版本待审批", "province"),
    "register_submitted": ("机构名录待审批", "province"),
    "review_start": ("待组织专家评审", "province"),
    "expert_assign": ("待指派评审专家", "province"),
    "review_items": ("待审核人工审核事项", "province"),
    "notice_start": ("待启动公示", "province"),
    "objection_open": ("公示异议待处理", "province"),
    "objection_upheld": ("成立的异议待决定", "province"),
    "notice_close": ("公示期满待批复", "province"),
    "acceptance_due": ("建设期满待验收", "province"),
    "rectification_review": ("整改期满待复核", "province"),
    "revocation_confirm": ("拟取消称号待确认", "province"),
    "revocation_suggested": ("建议登记拟取消称号", "province"),
    "late_decision": ("决定晚于整改期限", "province"),
    "date_error": ("日期记录有误", "province"),
    "date_missing": ("缺少建设期届满日期", "province"),
    "expert_review": ("待提交评审意见", "expert"),
    **evaluations.KINDS,  # 综合评价: scores to enter, grades to confirm (services/evaluations.py)
}
# Obligations (``services.lifecycle.obligations``) whose date is a deadline; the others' date is when they began.
DATED = ("notice_close", "acceptance_due", "rectification_review", "annual_report")
DECIDE = "/zones/{code}/decide"
URLS = {
    "application_recommend": "/zones/{code}/materials", "application_returned": "/zones/{code}/materials",
    "materials_missing": "/zones/{code}/materials", "date_error": "/zones/{code}",
    "date_missing": "/zones/{code}", "revocation_confirm": "/zones/{code}/review", "review_items": "/zones/{code}/review",
    "expert_review": "/zones/{code}/expert", "objection_open": "/notices/{code}/objections",
}


def check_filters(user: User, city: str | None, state: str | None) -> tuple[str | None, str | None]:
    """The filters as given, checked: a city bureau sees its own city whatever it asks for; an unknown city or state
    is a named 422, never an empty list that looks like nothing to do."""
    city = (city or "").strip() or None
    state = (state or "").strip() or None
    if city is not None and user.role != "city" and city not in JIANGSU_CITIES:
        raise InputError("unknown_city", f"“{city}”不是江苏省的设区市", {"field": "city", "city": city,
                                                                    "allowed": list(JIANGSU_CITIES)})
    if state is not None and state not in states.STATES:
        raise InputError("unknown_state", f"状态“{state}”不正确，应为：{'、'.join(states.STATES.values())}",
                         {"field": "state", "state": state, "allowed": list(states.STATES)})
    return access.city_scope(user, city), state


def _zones(session: Session, user: User, city: str | None, state: str | None) -> list[Zone]:
    """The zones ``user`` may see (``access.can_see``) in one query."""
    stmt = select(Zone)
    if user.role == "city":
        stmt = stmt.where(Zone.city == user.city)
    elif user.role != "province":  # applicant (own zones) or expert (assigned zones)
        stmt = stmt.join(ZoneMember, ZoneMember.zone_id == Zone.id).where(ZoneMember.user_id == user.id)
    if city:
        stmt = stmt.where(Zone.city == city)
    if state:
        stmt = stmt.where(Zone.status == state)
    return list(session.scalars(stmt.order_by(Zone.city, Zone.code)))


def _local_day(moment: dt.datetime | None) -> dt.date | None:
    """A stored time's day on the server's clock, the clock ``today`` comes from (so ``since`` is never after it)."""
    return moment.astimezone().date() if moment is not None else None


def _entered(history: list[dict[str, Any]], state: str) -> dt.date | None:
    """When the zone last moved into ``state`` (None for a zone imported in it)."""
    for h in reversed(history):
        if h["to"] == state and h["from"] != state:
            on: dt.date = h["on"]
            return on
    return None


def _last(history: list[dict[str, Any]], action: str) -> dict[str, Any] | None:
    return next((h for h in reversed(history) if h["action"] == action), None)


def _submitted_at(session: Session, objects: dict[str, str]) -> dict[str, dt.date]:
    """When each object (``zone/X/version/N`` → its submit action) was last submitted, from the audit trail."""
    if not objects:
        return {}
    stmt = (select(AuditEntry.object, func.max(AuditEntry.at)).where(AuditEntry.object.in_(list(objects)),
                                                                      AuditEntry.action.in_(set(objects.values())))
            .group_by(AuditEntry.object))
    return {obj: day for obj, at in session.execute(stmt) if (day := _local_day(at)) is not None}


class _Rows:
    def __init__(self, today: dt.date, calendar: WorkCalendar) -> None:
        self.today, self.calendar = today, calendar
        self.rows: list[dict[str, Any]] = []
        self._left: dict[dt.date, int] = {}

    def add(self, zone: Zone, kind: str, what: str, *, since: dt.date | None = None, due: dt.date | None = None,
            provisional: bool = False, url: str | None = None, role: str | None = None) -> None:
        label, acting = KINDS[kind]
        left = None
        if due is not None:
            if due not in self._left:
                self._left[due] = working_days_left(self.calendar, self.today, due)
            left = self._left[due]
        self.rows.append({
            "zone_code": zone.code, "zone_name": zone.name, "city": zone.city, "zone_state": zone.status,
            "zone_state_label": states.STATES.get(zone.status, zone.status), "what": what, "kind": kind,
            "kind_label": label, "since": since.isoformat() if since else None, "due": due.isoformat() if due else None,
            "days_left": (due - self.today).days if due is not None else None, "workdays_left": left,
            "overdue": due is not None and due < self.today, "provisional": provisional, "role": role or acting,
            "role_label": states.ROLES.get(role or acting, role or acting),
            "action_url": url or URLS.get(kind, DECIDE).format(code=zone.code),
        })


def worklist(*, session: Session, user: User, today: dt.date, city: str | None = None, state: str | None = None,
             overdue: bool = False, calendar: WorkCalendar | None = None) -> list[dict[str, Any]]:
    """Everything waiting on ``user`` in the zones they may see, due first (undated last), overdue marked; filtered
    by 设区市 (``city``), the zones' lifecycle ``state`` and ``overdue`` only."""
    calendar = calendar or WorkCalendar()
    city, state = check_filters(user, city, state)
    # the evaluation rounds' rows: an expert scores the zones of the rounds it is in, assigned to the zone or not
    # (a public objection is a lifecycle objection: its row is objection_open, which opens /notices/{code}/objections)
    rounds = [r for r in evaluations.worklist_items(session, user, today)
              if (city is None or r["city"] == city) and (state is None or r["zone_state"] == state)]
    zones = _zones(session, user, city, state)
    if not zones:
        return _finish(rounds, overdue)
    role, ids = user.role, [z.id for z in zones]
    by_id = {z.id: z for z in zones}
    histories = zone_life.histories(session, ids)
    out = _Rows(today, calendar)

    for zone in zones:
        history = histories[zone.id]
        for item in zone_life.obligations(zone, today, history, calendar):
            kind = item["code"]
            if KINDS[kind][1] != role:
                continue
            day = dt.date.fromisoformat(item["due"])
            if kind in DATED:
                since = _entered(history, zone.status)
                if since is None and kind == "acceptance_due":  # a zone imported in construction
                    since = zone_life._safe_dates(zone).get("approved_on")
                url = None
                if kind == "annual_report":  # the city's report on last year: its form at /annual-reports
                    since = dt.date(day.year, 1, 1)
                    url = f"/annual-reports/{zone.city}/{day.year - 1}"
                out.add(zone, kind, item["what"], since=since, due=day, provisional=item["provisional"], url=url)
            elif kind == "application_recommend":
                out.add(zone, kind, "审核申报材料，推荐（附推荐函）或退回", since=_entered(history, "submitted"))
            else:
                out.add(zone, kind, item["what"], since=day)
        if role == "province":
            _province_states(out, zone, history)
        elif role == "applicant" and zone.status == "draft":
            returned = _last(history, "return")
            if returned is not None and _entered(history, "draft") == returned["on"]:
                reason = str(returned.get("reason", "")).strip()
                out.add(zone, "application_returned", f"设区市退回申报，请修改后重新提交：{reason}".rstrip("：")[:300],
                        since=returned["on"])

    if role == "applicant":
        _missing_materials(session, out, [z for z in zones if z.status == "draft"])
    if role == "expert":
        _expert_reviews(out, user, [z for z in zones if z.status == "under_review"], histories)
    if role == "province":
        _unassigned(session, out, [z for z in zones if z.status == "under_review"])
    if role in ("province", "applicant"):
        _registers_and_versions(session, out, by_id, role)
    if role in access.WRITE_ROLES:
        _changes(session, out, by_id, role)

    return _finish(out.rows + rounds, overdue)


def _finish(rows: list[dict[str, Any]], overdue: bool) -> list[dict[str, Any]]:
    """Overdue only if asked; due first (undated last), then since, zone and kind."""
    rows = [r for r in rows if r["overdue"]] if overdue else rows
    return sorted(rows, key=lambda r: (r["due"] is None, r["due"] or "", r["since"] or "", r["zone_code"], r["kind"]))


def _province_states(out: _Rows, zone: Zone, history: list[dict[str, Any]]) -> None:
    """What the province decides next in the application's course (第二章)."""
    entered = _entered(history, zone.status)
    if zone.status == "recommended":
        out.add(zone, "review_start", "设区市已推荐：组织专家评审", since=entered)
    elif zone.status == "under_review":
        opinions = [h for h in history if h["action"] == "expert_opinion" and (entered is None or h["on"] >= entered)]
        if opinions:
            out.add(zone, "notice_start", f"已收到{len(opinions)}份专家意见：完成人工审核事项后启动公示（5个工作日）",
                    since=max(h["on"] for h in opinions))
        else:
            out.add(zone, "review_items", "专家评审中：审核需人工审核事项，等待专家意见", since=entered)
    elif zone.status == "noticed":
        count = states.objections(history)
        if count["open"] > 0:
            last = _last(history, "objection")
            out.add(zone, "objection_open", f"公示期间有{count['open']}项异议待处理",
                    since=last["on"] if last else entered)
        if count["upheld_undecided"] > 0:
            last = _last(history, "resolve_objection")
            out.add(zone, "objection_upheld", f"有{count['upheld_undecided']}项异议成立，待作出决定",
                    since=last["on"] if last else entered)


def _missing_materials(session: Session, out: _Rows, drafts: list[Zone]) -> None:
    if not drafts:
        return
    have: dict[int, set[str]] = defaultdict(set)
    stmt = select(Attachment.zone_id, Attachment.kind).where(Attachment.zone_id.in_([z.id for z in drafts])).distinct()
    for zone_id, kind in session.execute(stmt):
        have[zone_id].add(kind)
    for zone in drafts:
        missing = [states.MATERIALS[m] for m in states.APPLICANT_MATERIALS if m not in have[zone.id]]
        if missing:
            out.add(zone, "materials_missing", "上传申报材料：缺少" + "、".join(missing) + "，齐全后提交申报",
                    since=_local_day(zone.created_at))


def _expert_reviews(out: _Rows, user: User, zones: list[Zone], histories: dict[int, list[dict[str, Any]]]) -> None:
    for zone in zones:
        history = histories[zone.id]
        entered = _entered(history, "under_review")
        mine = [h for h in history if h["action"] == "expert_opinion" and h["actor"] == user.username
                and (entered is None or h["on"] >= entered)]
        if not mine:
            out.add(zone, "expert_review", "评审申报材料、空间布局和人工审核事项，提交评审意见", since=entered)


def _unassigned(session: Session, out: _Rows, zones: list[Zone]) -> None:
    if not zones:
        return
    stmt = select(ZoneMember.zone_id).where(ZoneMember.zone_id.in_([z.id for z in zones]),
                                            ZoneMember.relation == "expert").distinct()
    assigned = set(session.scalars(stmt))
    for zone in zones:
        if zone.id not in assigned:
            out.add(zone, "expert_assign", "指派评审专家", since=None)


def _registers_and_versions(session: Session, out: _Rows, by_id: dict[int, Zone], role: str) -> None:
    """Submitted layout versions and registers (province: to approve or return); returned registers (applicant).
    Only the columns needed are read: no geometry, no register rows."""
    ids = list(by_id)
    versions: list[Any] = []
    if role == "province":
        versions = list(session.execute(
            select(ZoneVersion.zone_id, ZoneVersion.number, ZoneVersion.created_at)
            .where(ZoneVersion.zone_id.in_(ids), ZoneVersion.state == "submitted")
            .order_by(ZoneVersion.zone_id, ZoneVersion.number)))
    wanted = register_states.SUBMITTED if role == "province" else register_states.RETURNED
    drafts: list[Any] = list(session.execute(
        select(RegisterDraft.zone_id, RegisterDraft.number, RegisterDraft.version_number, RegisterDraft.note,
               RegisterDraft.created_at, RegisterDraft.decided_at,
               func.coalesce(func.jsonb_array_length(RegisterDraft.rows), 0).label("count"))
        .where(RegisterDraft.zone_id.in_(ids), RegisterDraft.state == wanted)
        .order_by(RegisterDraft.zone_id, RegisterDraft.number)))
    with_version = {(v.zone_id, v.number) for v in versions}
    tied = {(d.zone_id, d.version_number) for d in drafts} & with_version
    drafts = [d for d in drafts if (d.zone_id, d.version_number) not in tied]  # decided with their version
    objects = {f"zone/{by_id[v.zone_id].code}/version/{v.number}": "version_submit" for v in versions}
    objects |= {f"zone/{by_id[d.zone_id].code}/register/{d.number}":
                "register_submit" if role == "province" else "register_return" for d in drafts}
    at = _submitted_at(session, objects)
    for v in versions:
        zone = by_id[v.zone_id]
        extra = "（含随版本上传的机构名录）" if (v.zone_id, v.number) in tied else ""
        out.add(zone, "version_submitted", f"审批空间布局版本{v.number}{extra}：批准或退回",
                since=at.get(f"zone/{zone.code}/version/{v.number}", _local_day(v.created_at)),
                url=f"/zones/{zone.code}/versions/{v.number}/decide")
    for d in drafts:
        zone = by_id[d.zone_id]
        since = at.get(f"zone/{zone.code}/register/{d.number}", _local_day(d.decided_at or d.created_at))
        url = f"/zones/{zone.code}/register-drafts/{d.number}"
        if role == "province":
            out.add(zone, "register_submitted", f"审批机构名录{d.number}（{d.count}家）：批准或退回", since=since, url=url)
        else:
            note = f"：{d.note}" if d.note else ""
            out.add(zone, "register_returned", f"机构名录{d.number}被省知识产权局退回，请修改后重新提交{note}"[:300],
                    since=since, url=url)


def _changes(session: Session, out: _Rows, by_id: dict[int, Zone], role: str) -> None:
    """Change events not yet reported (第三章：15个工作日内报告省知识产权局，抄报设区市): the applicant files them; the
    bureaus see them too. Filed reports wait on the bureaus: the province's 回执 (``change_acknowledge``), the city's
    抄报已收到 (``change_copy``). One statement for all of them."""
    waiting: ColumnElement[bool] = ChangeEvent.reported_on.is_(None)
    if role == "province":
        waiting = or_(waiting, and_(ChangeEvent.reported_on.is_not(None), ChangeEvent.acknowledged_on.is_(None)))
    elif role == "city":
        waiting = or_(waiting, and_(ChangeEvent.reported_on.is_not(None), ChangeEvent.city_received_on.is_(None)))
    stmt = (select(ChangeEvent).where(ChangeEvent.zone_id.in_(list(by_id)), waiting)
            .order_by(ChangeEvent.report_due, ChangeEvent.id))
    for event in session.scalars(stmt):
        zone = by_id[event.zone_id]
        label = CHANGE_LABELS.get(event.kind, event.kind)
        if event.reported_on is not None:
            kind = "change_acknowledge" if role == "province" else "change_copy"
            what = (f"对{label}变更报告（{event.reported_on:%Y-%m-%d}报告）出具回执" if role == "province"
                    else f"确认收到{label}变更报告（{event.reported_on:%Y-%m-%d}报告）的抄报")
            out.add(zone, kind, what, since=event.reported_on, url=f"/changes#change-{event.id}")
            continue
        out.add(zone, "change_report", f"报告{CHANGE_LABELS.get(event.kind, event.kind)}变更（{event.occurred_on:%Y-%m-%d}发生）",
                since=event.occurred_on, due=event.report_due, provisional=event.due_provisional,
                url=f"/zones/{zone.code}#change-{event.id}")


def counts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows per kind, in the order of ``KINDS``, with how many are overdue."""
    seen: dict[str, list[int]] = {}
    for r in rows:
        c = seen.setdefault(r["kind"], [0, 0])
        c[0] += 1
        c[1] += bool(r["overdue"])
    return [{"kind": k, "label": label, "count": seen[k][0], "overdue": seen[k][1]}
            for k, (label, _) in KINDS.items() if k in seen]
