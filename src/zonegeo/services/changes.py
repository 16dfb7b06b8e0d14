"""Versions moving draft → submitted → approved (or a draft withdrawn), the change events they cause, and their
reports with attachments (第三章：变更后15个工作日内报告省知识产权局，同时抄报所在设区市知识产权局)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import Attachment, ChangeEvent, User, Zone, ZoneVersion
from zonegeo.domain import versions
from zonegeo.domain.check import measure_buildings
from zonegeo.domain.diff import LayoutDiff, Tolerances, compare_plans
from zonegeo.domain.lifecycle import ATTACHMENT_KINDS
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import audit, disclosure
from zonegeo.services import register as register_drafts  # a register uploaded with a version follows it

KIND_LABELS = {"spatial_layout": "空间布局和物理载体", "operator": "运营管理机构", "function": "性质或功能",
               "mechanism": "运行机制", "other": "其他重大事项"}
STATUS_LABELS = {"pending": "待报告", "overdue": "已逾期", "reported": "已按时报告", "late": "逾期后报告"}
RECEIPT_LABELS = {"awaiting": "已报告待回执", "acknowledged": "已回执"}  # the province's 回执 on a filed report
COPY_LABELS = {"awaiting": "抄报待确认收到", "received": "抄报已收到"}  # the city bureau's copy (抄报)
RECEIPT_PREFIX = "HZ"  # 回执 numbers: HZ-<year>-<change id, six digits>, unique as the change id is
BEIJING = ZoneInfo("Asia/Shanghai")
REPORT_ATTACHMENT_KIND = "change_report"  # an Attachment of a change report (lifecycle.ATTACHMENT_KINDS names it)
REPORT_ATTACHMENTS = "report_attachments"  # the key in ChangeEvent.metrics listing the report's attachments
DESK_ACTIONS = ("submit", "withdraw")  # what the zone page offers on a version (approval is the review page's)
NEXT_AFTER = {"submit": "已提交，等待省知识产权局审核批准；批准前可在此查看状态",
              "withdraw": "已撤回。撤回的草稿保留在版本列表和审计记录中，不会被批准；可重新上传新的草稿"}


def version_diff(session: Session, zone: Zone, a: int, b: int, rules: RuleSet) -> LayoutDiff:
    old, new = repo.get_version(session, zone, a), repo.get_version(session, zone, b)
    return compare_plans(repo.to_domain_plan(old, []), repo.to_domain_plan(new, []), Tolerances.from_rules(rules.change))


def _spatial_event(session: Session, zone: Zone, previous: ZoneVersion, version: ZoneVersion, rules: RuleSet,
                   calendar: WorkCalendar) -> ChangeEvent | None:
    diff = compare_plans(repo.to_domain_plan(previous, []), repo.to_domain_plan(version, []),
                         Tolerances.from_rules(rules.change))
    if not diff.material:
        return None
    due = calendar.add_working_days(version.effective_on, int(rules.change["report_within_working_days"]))
    event = ChangeEvent(zone_id=zone.id, kind="spatial_layout", occurred_on=version.effective_on,
                        from_version=previous.number, to_version=version.number, metrics=diff.to_dict(),
                        description="；".join(diff.reasons()), report_due=due.due, due_provisional=due.provisional)
    session.add(event)
    session.flush()
    return event


def on_approved(session: Session, zone: Zone, version: ZoneVersion, previous: ZoneVersion | None, rules: RuleSet,
                calendar: WorkCalendar) -> ChangeEvent | None:
    """A newly approved layout replaces the previous one: a material difference is a change to report."""
    return _spatial_event(session, zone, previous, version, rules, calendar) if previous is not None else None


def transition(*, session: Session, code: str, number: int, action: str, by: str, rules: RuleSet,
               calendar: WorkCalendar, effective_on: dt.date | None = None, user: User | None = None,
               note: str = "") -> dict[str, Any]:
    """Submit a draft, approve a submitted version (superseding the approved one in the same transaction), or
    return it to draft with a comment (``note``, kept on the version; its tied register draft is returned too).

    Who decided is the logged-in ``user``; ``by`` is a name they may add (kept as ``decided_by_name``), or the
    operator's name when there is no login (the CLI)."""
    zone = repo.get_zone(session, code)
    repo.lock_zone(session, zone)
    version = repo.get_version(session, zone, number)
    step = versions.step(version.state, action, number=number, note=note)
    source, target = step.source, step.target
    previous = repo.set_version_state(session, zone, version, target)
    version.decided_by = user.username if user is not None else (by or "cli")
    version.decided_by_name = by if user is not None and by != user.username else ""
    version.decided_at = dt.datetime.now(dt.UTC)
    if effective_on is not None:
        version.effective_on = effective_on
    if action in versions.NOTED:
        version.note = note.strip()
    session.flush()
    event = on_approved(session, zone, version, previous, rules, calendar) if target == versions.APPROVED else None
    if action == "return":
        register_drafts.return_with_version(session=session, zone=zone, version=version, note=version.note,
                                            user=user, by=by)
    else:
        register_drafts.follow_version(session=session, zone=zone, version=version, action=action, user=user, by=by)
    audit.record(session, user, f"version_{action}", f"zone/{code}/version/{number}", actor=by,
                 before={"state": source, "superseded": previous.number if previous else None},
                 after={"state": target, "change_event": event.id if event else None}
                 | ({"note": version.note} if action in versions.NOTED else {}))
    return {"code": code, "version": number, "state": target, "decided_by": version.decided_by,
            "decided_by_name": version.decided_by_name, "note": version.note,
            "change_event": change_dict(event, dt.date.today()) if event else None}


def record_change(*, session: Session, code: str, kind: str, occurred_on: dt.date, description: str,
                  rules: RuleSet, calendar: WorkCalendar, user: User | None = None) -> ChangeEvent:
    """A change of operator, function, mechanism or another major matter, with the same deadline."""
    if kind not in KIND_LABELS or kind == "spatial_layout":
        allowed = [k for k in KIND_LABELS if k != "spatial_layout"]
        raise InputError("unknown_change_kind", f"变更类型“{kind}”不正确，应为：{'、'.join(allowed)}"
                         "（空间布局变更由上传和批准新版本自动记录）", {"kind": kind, "allowed": allowed})
    zone = repo.get_zone(session, code)
    due = calendar.add_working_days(occurred_on, int(rules.change["report_within_working_days"]))
    event = ChangeEvent(zone_id=zone.id, kind=kind, occurred_on=occurred_on, description=description,
                        report_due=due.due, due_provisional=due.provisional, metrics={})
    session.add(event)
    session.flush()
    audit.record(session, user, "change_recorded", f"zone/{code}/change/{event.id}",
                 after={"kind": kind, "occurred_on": occurred_on.isoformat(), "report_due": due.due.isoformat()})
    return event


def file_report(*, session: Session, code: str, change_id: int, reported_by: str, reported_on: dt.date,
                note: str = "", user: User | None = None) -> ChangeEvent:
    zone = repo.get_zone(session, code)
    event = session.get(ChangeEvent, change_id, with_for_update=True)
    if event is None or event.zone_id != zone.id:
        raise NotFoundError("change_not_found", f"集聚区“{code}”没有编号为{change_id}的变更事项",
                            {"code": code, "change": change_id})
    if event.reported_on is not None:
        raise ConflictError("already_reported", f"该变更事项已于{event.reported_on:%Y年%m月%d日}报告",
                            {"reported_on": event.reported_on.isoformat()})
    if reported_on < event.occurred_on:
        raise InputError("report_before_change", "报告日期不能早于变更发生日期",
                         {"occurred_on": event.occurred_on.isoformat(), "reported_on": reported_on.isoformat()})
    event.reported_on, event.reported_by, event.report_note = reported_on, reported_by, note
    session.flush()
    audit.record(session, user, "change_reported", f"zone/{code}/change/{change_id}", before={"reported_on": None},
                 after={"reported_on": reported_on.isoformat(), "reported_by": reported_by})
    return event


def file_report_with_attachments(*, session: Session, code: str, change_id: int, reported_by: str,
                                 reported_on: dt.date, note: str, files: list[tuple[str, bytes]], max_bytes: int,
                                 user: User) -> ChangeEvent:
    """A change report filed from the zone page: the description (``note``) and one or more attachments, stored
    as ``Attachment`` rows of kind ``change_report`` and listed in the change event. All or nothing: a refused
    file leaves no report (the caller's unit of work rolls back)."""
    from zonegeo.services import lifecycle  # lifecycle imports this module

    if not note.strip():
        raise InputError("missing_description", "请填写变更情况说明", {"field": "note"})
    files = [(name, content) for name, content in files if name or content]
    if not files:
        raise InputError("missing_attachment", "请至少附上一个变更报告材料（如变更情况报告）", {"field": "files"})
    event = file_report(session=session, code=code, change_id=change_id, reported_by=reported_by,
                        reported_on=reported_on, note=note.strip(), user=user)
    stored = [lifecycle.add_attachment(session=session, user=user, code=code, kind=REPORT_ATTACHMENT_KIND,
                                       filename=name or "附件", content=content, max_bytes=max_bytes,
                                       kinds=ATTACHMENT_KINDS)
              for name, content in files]
    event.metrics = {**(event.metrics or {}), REPORT_ATTACHMENTS: [
        {k: a[k] for k in ("id", "filename", "sha256", "size")} for a in stored]}
    session.flush()
    return event


def _filed_event(session: Session, code: str, change_id: int) -> tuple[Zone, ChangeEvent]:
    """The zone's change event, locked; a report not yet filed is a conflict (nothing to acknowledge or receive)."""
    zone = repo.get_zone(session, code)
    event = session.get(ChangeEvent, change_id, with_for_update=True)
    if event is None or event.zone_id != zone.id:
        raise NotFoundError("change_not_found", f"集聚区“{code}”没有编号为{change_id}的变更事项",
                            {"code": code, "change": change_id})
    if event.reported_on is None:
        raise ConflictError("change_not_reported", "该变更事项尚未报告，不能出具回执或确认收到抄报",
                            {"code": code, "change": change_id})
    return zone, event


def _on_date(event: ChangeEvent, on: dt.date | None, field: str) -> dt.date:
    day = on or dt.date.today()
    if event.reported_on is not None and day < event.reported_on:
        raise InputError("before_report", f"日期不能早于变更报告日期（{event.reported_on:%Y年%m月%d日}）",
                         {"field": field, "reported_on": event.reported_on.isoformat(), "given": day.isoformat()})
    return day


def receipt_number(event: ChangeEvent, on: dt.date) -> str:
    return f"{RECEIPT_PREFIX}-{on.year}-{event.id:06d}"


def acknowledge(*, session: Session, code: str, change_id: int, user: User, on: dt.date | None = None,
                by: str = "") -> ChangeEvent:
    """The province's 回执 on a filed change report: who and when, with a receipt number (``HZ-2026-000123``);
    audited. Once only: a second 回执 is a conflict, as is a report not yet filed."""
    _, event = _filed_event(session, code, change_id)
    if event.acknowledged_on is not None:
        raise ConflictError("already_acknowledged",
                            f"该变更报告已于{event.acknowledged_on:%Y年%m月%d日}出具回执（{event.receipt_no}）",
                            {"acknowledged_on": event.acknowledged_on.isoformat(), "receipt_no": event.receipt_no})
    day = _on_date(event, on, "acknowledged_on")
    event.acknowledged_on, event.acknowledged_by = day, (by.strip() or user.display_name or user.username)
    event.receipt_no = receipt_number(event, day)
    session.flush()
    audit.record(session, user, "change_acknowledged", f"zone/{code}/change/{change_id}",
                 before={"acknowledged_on": None, "receipt_no": ""},
                 after={"acknowledged_on": day.isoformat(), "acknowledged_by": event.acknowledged_by,
                        "receipt_no": event.receipt_no})
    return event


def receive_copy(*, session: Session, code: str, change_id: int, user: User, on: dt.date | None = None,
                 by: str = "") -> ChangeEvent:
    """The city bureau of the zone's city records that it received the copy (抄报) of a filed change report;
    audited, once only."""
    zone, event = _filed_event(session, code, change_id)
    if user.role != "city" or user.city != zone.city:
        raise PermissionDeniedError("not_zone_city", f"只有{zone.city}知识产权局可以确认收到该集聚区的抄报",
                                    {"code": code, "city": zone.city})
    if event.city_received_on is not None:
        raise ConflictError("already_received", f"已于{event.city_received_on:%Y年%m月%d日}确认收到该变更报告的抄报",
                            {"city_received_on": event.city_received_on.isoformat()})
    day = _on_date(event, on, "city_received_on")
    event.city_received_on, event.city_received_by = day, (by.strip() or user.display_name or user.username)
    session.flush()
    audit.record(session, user, "change_copy_received", f"zone/{code}/change/{change_id}",
                 before={"city_received_on": None},
                 after={"city_received_on": day.isoformat(), "city_received_by": event.city_received_by})
    return event


def attachment(session: Session, zone: Zone, attachment_id: int) -> Attachment:
    """One of the zone's attachments (a change report's or an application material), to download."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.zone_id != zone.id:
        raise NotFoundError("attachment_not_found", f"集聚区“{zone.code}”没有编号为{attachment_id}的附件",
                            {"code": zone.code, "attachment": attachment_id})
    return row


def status(event: ChangeEvent, today: dt.date) -> str:
    if event.reported_on is not None:
        return "late" if event.reported_on > event.report_due else "reported"
    return "overdue" if today > event.report_due else "pending"


def change_dict(event: ChangeEvent, today: dt.date, zone: Zone | None = None) -> dict[str, Any]:
    state = status(event, today)
    out = {
        "id": event.id, "kind": event.kind, "kind_label": KIND_LABELS[event.kind], "description": event.description,
        "occurred_on": event.occurred_on.isoformat(), "report_due": event.report_due.isoformat(),
        "due_provisional": event.due_provisional, "status": state, "status_label": STATUS_LABELS[state],
        "reported_on": event.reported_on.isoformat() if event.reported_on else None,
        "reported_by": event.reported_by, "from_version": event.from_version, "to_version": event.to_version,
        "days_left": (event.report_due - today).days if event.reported_on is None else None,
        "metrics": {k: v for k, v in (event.metrics or {}).items() if k != REPORT_ATTACHMENTS},
        "report_note": event.report_note, "attachments": list((event.metrics or {}).get(REPORT_ATTACHMENTS, [])),
        "acknowledged_on": event.acknowledged_on.isoformat() if event.acknowledged_on else None,
        "acknowledged_by": event.acknowledged_by or "", "receipt_no": event.receipt_no or "",
        "receipt_status": None, "receipt_label": None,
        "city_received_on": event.city_received_on.isoformat() if event.city_received_on else None,
        "city_received_by": event.city_received_by or "", "copy_status": None, "copy_label": None,
    }
    if event.reported_on is not None:
        receipt = "acknowledged" if event.acknowledged_on else "awaiting"
        copy = "received" if event.city_received_on else "awaiting"
        out |= {"receipt_status": receipt, "receipt_label": RECEIPT_LABELS[receipt],
                "copy_status": copy, "copy_label": COPY_LABELS[copy]}
    if zone is not None:
        out |= {"zone_code": zone.code, "zone_name": zone.name, "city": zone.city}
    return out


def list_changes(*, session: Session, today: dt.date, status_filter: str | None = None, city: str | None = None,
                 code: str | None = None) -> list[dict[str, Any]]:
    if status_filter is not None and status_filter not in STATUS_LABELS:
        raise InputError("unknown_status", f"状态“{status_filter}”不正确，应为：{'、'.join(STATUS_LABELS)}",
                         {"status": status_filter})
    stmt = select(ChangeEvent, Zone).join(Zone, Zone.id == ChangeEvent.zone_id)
    if city:
        stmt = stmt.where(Zone.city == city)
    if code:
        stmt = stmt.where(Zone.code == code)
    rows = [change_dict(e, today, z) for e, z in session.execute(stmt.order_by(ChangeEvent.report_due, ChangeEvent.id))]
    return [r for r in rows if status_filter is None or r["status"] == status_filter]


def _local(moment: dt.datetime | None) -> str:
    """A stored time as people in Jiangsu read it (北京时间), to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def version_rows(session: Session, zone: Zone, policy: disclosure.Disclosure, rules: RuleSet) -> list[dict[str, Any]]:
    """The layout versions ``policy`` may see, newest first, with who uploaded them, when, their areas (用地,
    核心区用地, 四至范围内建筑面积), their building count and what may be done with each now."""
    approved = repo.approved_version(session, zone)
    out = []
    for v in reversed(repo.list_versions(session, zone)):
        if not policy.sees_version(v.state):
            continue
        plan = repo.to_domain_plan(v, [])
        measures, _ = measure_buildings(plan, rules)
        out.append({
            "number": v.number, "state": v.state, "state_label": versions.STATES[v.state],
            "uploaded_by": v.uploaded_by, "uploaded_at": _local(v.created_at), "effective_on": v.effective_on,
            "decided_by": v.decided_by, "decided_at": _local(v.decided_at), "note": v.note,
            "land_m2": geodesic_area_m2(plan.boundary), "core_land_m2": geodesic_area_m2(plan.core),
            "floor_m2": sum(m.floor_m2 for m in measures), "buildings": len(plan.buildings),
            "actions": [a for a in versions.allowed_actions(v.state) if a in DESK_ACTIONS],
            "compare_with": approved.number if approved is not None and approved.id != v.id else None,
        })
    return disclosure.public_actors(policy, session, zone, out)
