"""The 公示 on the public site (issue 14): the zones under notice with their period in working days, objections
filed by the public (bounded, rate-limited per client address, acknowledged by a receipt number), and the
province's handling of them through the lifecycle (``objection`` when filed, ``resolve_objection`` when handled),
so that approval stays blocked while one is open (``domain/lifecycle_history.approval_blockers``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, case, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import LifecycleEvent, PublicObjection, PublicObjectionThrottle, User, Zone, ZoneVersion
from zonegeo.domain import lifecycle as states
from zonegeo.domain.check import check_plan
from zonegeo.domain.journey import working_days_left
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, NotFoundError, ZonegeoError
from zonegeo.maps.render import render, to_html
from zonegeo.services import access, audit, disclosure, eligibility, lifecycle

RECEIPT_PREFIX = "YY"  # 异议 receipts: YY-2026-000123
MAX_NAME = 50
MAX_CONTACT = 100
MAX_TEXT = 2000
WINDOW = dt.timedelta(hours=1)
# What an attachment may be, by its first bytes (never by its name or the browser's word for it).
ATTACHMENT_TYPES = ((b"%PDF-", "application/pdf", "PDF"), (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
                    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"))
ATTACHMENT_LABEL = "、".join(label for _, _, label in ATTACHMENT_TYPES)


class ObjectionRateLimited(ZonegeoError):
    """Too many objections from one client address in the window (HTTP 429 with Retry-After)."""


@dataclass(frozen=True)
class NoticePeriod:
    """A 公示: its first and last day (the notice day is working day 1), and where today stands in it."""

    start: dt.date
    end: dt.date
    working_days: int
    days_left: int  # working days from today (included when it is one) to the last day; 0 once it is over
    over: bool

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "working_days": self.working_days,
                "days_left": self.days_left, "over": self.over}


def period(zone: Zone, today: dt.date, calendar: WorkCalendar) -> NoticePeriod | None:
    """The zone's 公示 (dates.notice_start / notice_end set by ``start_notice``), or None when it has none."""
    dates = zone.dates or {}
    try:
        start = dt.date.fromisoformat(str(dates["notice_start"]))
        end = dt.date.fromisoformat(str(dates["notice_end"]))
    except (KeyError, ValueError):
        return None
    counted = sum(1 for n in range((end - start).days + 1) if calendar.is_workday(start + dt.timedelta(days=n)))
    over = today > end
    left = 0 if over else working_days_left(calendar, today, end) + (1 if calendar.is_workday(today) else 0)
    return NoticePeriod(start, end, counted, left, over)


def in_notice(session: Session) -> list[Zone]:
    """Zones whose 公示 is running or waiting for the decision (state ``noticed``), newest notice first. The 公示
    is public by the regulation (向社会公示), whether or not the zone is on the public map yet."""
    zones = session.scalars(select(Zone).where(Zone.status.in_(disclosure.NOTICED_STATES)).order_by(Zone.code)).all()
    return sorted(zones, key=lambda z: str((z.dates or {}).get("notice_start", "")), reverse=True)


def noticed_zone(session: Session, code: str) -> Zone:
    """The zone of a 公示 page: 'not found' unless it is under notice (nothing else of a zone is revealed here)."""
    try:
        zone = repo.get_zone(session, code)
    except NotFoundError:
        zone = None
    if zone is None or zone.status not in disclosure.NOTICED_STATES:
        raise NotFoundError("notice_not_found", f"集聚区“{code}”目前没有正在进行的公示", {"code": code})
    return zone


noticed_version = disclosure.noticed_version  # the layout a 公示 shows: one rule, in services/disclosure.py


def _plan_and_report(session: Session, zone: Zone, version: ZoneVersion, rules: RuleSet) -> tuple[Any, Any]:
    plan = repo.to_domain_plan(version, eligibility.institutions_for_version(session, zone, version))
    return plan, check_plan(plan, rules)


def notice_report(session: Session, zone: Zone, version: ZoneVersion, rules: RuleSet) -> dict[str, Any]:
    """The eligibility report of the layout under notice, as the public may see it (``disclosure.PUBLIC``)."""
    return disclosure.report(disclosure.PUBLIC, _plan_and_report(session, zone, version, rules)[1].to_dict())


def notice_map_html(session: Session, zone: Zone, version: ZoneVersion, rules: RuleSet, *, tiles: str,
                    tianditu_key: str = "") -> str:
    """The public map of the layout under notice (public attributes only, like every public map)."""
    plan, report = _plan_and_report(session, zone, version, rules)
    subtitle = f"{zone.city} · 公示中的空间布局（版本{version.number}）"
    m = render(plan, report, title=zone.name, subtitle=subtitle, tiles=tiles, policy=disclosure.PUBLIC,
               tianditu_key=tianditu_key, page_title=f"{zone.name} · 公示地图", heading=f"{zone.name}公示地图",
               four_sides=zone.four_sides)
    return to_html(m)


# ---- filing an objection -----------------------------------------------------------------------------------

def _field(value: str, label: str, name: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise InputError("missing_field", f"请填写{label}", {"field": name})
    if len(value) > limit:
        raise InputError("field_too_long", f"{label}不能超过{limit}个字（现为{len(value)}个字）",
                         {"field": name, "max": limit, "length": len(value)})
    return value


def _attachment(upload: tuple[str, bytes] | None, max_bytes: int) -> tuple[str, str, bytes] | None:
    """(file name, media type, content) of the optional attachment, checked: not empty, at most ``max_bytes``, a
    PDF, JPEG or PNG by its content."""
    if upload is None:
        return None
    name = re.split(r"[\\/]", upload[0])[-1].strip()[:200] or "附件"
    content = upload[1]
    if not content:
        raise InputError("attachment_empty", f"附件“{name}”是空文件", {"field": "attachment", "file": name})
    if len(content) > max_bytes:
        raise InputError("attachment_too_large",
                         f"附件“{name}”超过上限{max_bytes // 1024} KB，请压缩后重新提交",
                         {"field": "attachment", "file": name, "max_bytes": max_bytes,
                          "size_over": len(content) > max_bytes})
    for magic, media, _ in ATTACHMENT_TYPES:
        if content.startswith(magic):
            return name, media, content
    raise InputError("attachment_type", f"附件“{name}”不是{ATTACHMENT_LABEL}文件，只接受这三种格式",
                     {"field": "attachment", "file": name, "allowed": ["pdf", "jpeg", "png"]})


def _count_filing(session: Session, address: str, per_hour: int) -> None:
    """One more objection from ``address`` in its window (atomic, shared by every worker); refused past the limit.
    Runs inside the filing's transaction: a refused or failed filing counts nothing."""
    table = cast(Table, PublicObjectionThrottle.__table__)
    key = hashlib.sha256(address.encode()).hexdigest()  # the address itself is not kept
    fresh = table.c.window_start > func.now() - WINDOW
    stmt = insert(table).values(address_sha256=key, window_start=func.now(), filed=1)
    filed, wait = session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.address_sha256],
        set_={"filed": case((fresh, table.c.filed + 1), else_=1),
              "window_start": case((fresh, table.c.window_start), else_=func.now())})
        .returning(table.c.filed, func.ceil(func.extract("epoch", table.c.window_start + WINDOW - func.now())))).one()
    if filed > per_hour:
        seconds = max(int(wait or 0), 1)
        minutes = max((seconds + 59) // 60, 1)
        raise ObjectionRateLimited("objection_rate_limited",
                                   f"同一网络地址每小时最多提交{per_hour}份异议，请在{minutes}分钟后再提交",
                                   {"per_hour": per_hour, "retry_after_s": seconds})


def file_objection(*, session: Session, code: str, name: str, contact: str, text_: str,
                   attachment: tuple[str, bytes] | None, address: str, today: dt.date, calendar: WorkCalendar,
                   max_attachment_bytes: int, per_hour: int) -> dict[str, Any]:
    """Store an objection to the zone's 公示 and register it as the lifecycle ``objection`` at once (approval is
    blocked from this moment); returns its receipt number. After the period it is refused."""
    zone = noticed_zone(session, code)
    notice = period(zone, today, calendar)
    if notice is None:
        raise ConflictError("notice_dates_missing", f"集聚区“{code}”的公示日期未登记，暂不能受理异议", {"code": code})
    if notice.over:
        raise ConflictError("notice_over", f"公示期已于{notice.end:%Y年%m月%d日}结束，不再受理异议",
                            {"code": code, "notice_end": notice.end.isoformat()})
    name = _field(name, "姓名或单位名称", "name", MAX_NAME)
    contact = _field(contact, "联系方式", "contact", MAX_CONTACT)
    body = _field(text_, "异议内容", "text", MAX_TEXT)
    file = _attachment(attachment, max_attachment_bytes)
    _count_filing(session, address, per_hour)
    repo.lock_zone(session, zone)
    number = session.scalar(text("SELECT nextval('public_objection_id_seq')"))
    receipt = f"{RECEIPT_PREFIX}-{today.year}-{number:06d}"
    event = LifecycleEvent(zone_id=zone.id, action="objection", from_state=zone.status, to_state=zone.status,
                           on_date=today, actor="public", role="public",
                           data={"text": f"公众在公示期间提出的异议（回执号{receipt}），内容见公示异议处理页",
                                 "public_objection": receipt, "source": "public"})
    session.add(event)
    session.flush()
    row = PublicObjection(id=number, zone_id=zone.id, receipt=receipt, notice_start=notice.start,
                          notice_end=notice.end, name=name, contact=contact, text=body, objection_event_id=event.id)
    if file is not None:
        row.attachment_name, row.attachment_type, row.attachment = file
        row.attachment_size, row.attachment_sha256 = len(file[2]), hashlib.sha256(file[2]).hexdigest()
    session.add(row)
    session.flush()
    # no personal data in the audit log: the receipt, the event and the attachment's fingerprint
    audit.record(session, None, "public_objection_filed", f"zone/{code}/public-objection/{receipt}",
                 actor="anonymous", after={"receipt": receipt, "event": event.id,
                                           "attachment_size": row.attachment_size,
                                           "attachment_sha256": row.attachment_sha256})
    return {"receipt": receipt, "code": code, "notice_end": notice.end.isoformat()}


# ---- the province's side -----------------------------------------------------------------------------------

def objection_dict(row: PublicObjection) -> dict[str, Any]:
    return {"receipt": row.receipt, "name": row.name, "contact": row.contact, "text": row.text,
            "submitted_at": row.submitted_at.astimezone(audit.BEIJING), "attachment_name": row.attachment_name,
            "attachment_size": row.attachment_size, "open": row.resolve_event_id is None,
            "resolve_event_id": row.resolve_event_id}


def objections(*, session: Session, user: User, code: str) -> list[dict[str, Any]]:
    """Every public objection to the zone, open ones first, each with the handling recorded (province only: the
    objectors' names and contacts are personal data)."""
    zone = access.writable_zone(session, user, code)
    rows = session.scalars(select(PublicObjection).where(PublicObjection.zone_id == zone.id)
                           .order_by(PublicObjection.resolve_event_id.is_not(None), PublicObjection.id)).all()
    events = {e.id: e for e in session.scalars(select(LifecycleEvent).where(
        LifecycleEvent.id.in_([r.resolve_event_id for r in rows if r.resolve_event_id])))}
    out = []
    for row in rows:
        item = objection_dict(row)
        event = events.get(row.resolve_event_id or 0)
        if event is not None:
            outcome = str(event.data.get("outcome", ""))
            item |= {"outcome_label": states.OBJECTION_OUTCOMES.get(outcome, outcome),
                     "decision": event.data.get("decision", ""), "resolved_on": event.on_date}
        out.append(item)
    return out


def _row(session: Session, zone: Zone, receipt: str) -> PublicObjection:
    row = session.scalar(select(PublicObjection).where(PublicObjection.zone_id == zone.id,
                                                       PublicObjection.receipt == receipt))
    if row is None:
        raise NotFoundError("objection_not_found", f"集聚区“{zone.code}”没有回执号为“{receipt}”的异议",
                            {"code": zone.code, "receipt": receipt})
    return row


def attachment(*, session: Session, user: User, code: str, receipt: str) -> tuple[str, str, bytes]:
    zone = access.writable_zone(session, user, code)
    row = _row(session, zone, receipt)
    if row.attachment is None:
        raise NotFoundError("attachment_not_found", f"异议{receipt}没有附件", {"receipt": receipt})
    return row.attachment_name, row.attachment_type, row.attachment


def resolve(*, session: Session, user: User, code: str, receipt: str, outcome: str, decision: str, on: dt.date,
            calendar: WorkCalendar, rules: RuleSet | None = None) -> dict[str, Any]:
    """The province handles one public objection: the lifecycle ``resolve_objection`` (upheld or dismissed, with
    its decision), linked to the objection by its receipt number."""
    zone = access.writable_zone(session, user, code)
    row = _row(session, zone, receipt)
    if row.resolve_event_id is not None:
        raise ConflictError("objection_resolved", f"异议{receipt}已经处理", {"receipt": receipt})
    if len(decision) > MAX_TEXT:
        raise InputError("field_too_long", f"处理意见不能超过{MAX_TEXT}个字（现为{len(decision)}个字）",
                         {"field": "decision", "max": MAX_TEXT, "length": len(decision)})
    elsewhere = _resolved_elsewhere(session, zone)
    if elsewhere is not None:  # handled on the decide page's own form, without its receipt number: link that one
        row.resolve_event_id = elsewhere.id
        session.flush()
        return {"code": code, "state": zone.status, "linked_event": elsewhere.id}
    done = lifecycle.act(session=session, user=user, code=code, action="resolve_objection", on=on,
                         data={"outcome": outcome, "decision": decision, "public_objection": receipt},
                         calendar=calendar, rules=rules)
    row.resolve_event_id = session.scalar(select(func.max(LifecycleEvent.id)).where(
        LifecycleEvent.zone_id == zone.id, LifecycleEvent.action == "resolve_objection"))
    session.flush()
    return done


def _resolved_elsewhere(session: Session, zone: Zone) -> LifecycleEvent | None:
    """The oldest ``resolve_objection`` of the zone that names no public objection and that no public objection is
    linked to, when the lifecycle has no open objection left (so it must have handled a public one)."""
    history = [{"action": e.action, "outcome": e.data.get("outcome")} for e in session.scalars(
        select(LifecycleEvent).where(LifecycleEvent.zone_id == zone.id))]
    if states.objections(history)["open"] > 0:
        return None
    linked = select(PublicObjection.resolve_event_id).where(PublicObjection.resolve_event_id.is_not(None))
    return session.scalar(select(LifecycleEvent).where(
        LifecycleEvent.zone_id == zone.id, LifecycleEvent.action == "resolve_objection",
        LifecycleEvent.id.not_in(linked), LifecycleEvent.data["public_objection"].astext.is_(None))
        .order_by(LifecycleEvent.id).limit(1))


def worklist_items(session: Session, user: User, today: dt.date) -> list[dict[str, Any]]:
    """Rows for ``services.worklist`` (its row shape): each open public objection of a zone under notice, for the
    province, with the page where it is handled."""
    if user.role not in access.PROVINCE_ROLES:
        return []
    rows = session.execute(select(PublicObjection, Zone).join(Zone, Zone.id == PublicObjection.zone_id)
                           .where(PublicObjection.resolve_event_id.is_(None), Zone.status == "noticed")
                           .order_by(PublicObjection.id)).all()
    out = []
    for row, zone in rows:
        since = row.submitted_at.astimezone(audit.BEIJING).date() if row.submitted_at else today
        out.append({
            "zone_code": zone.code, "zone_name": zone.name, "city": zone.city, "zone_state": zone.status,
            "zone_state_label": states.STATES.get(zone.status, zone.status),
            "what": f"公众异议（回执号{row.receipt}）待处理", "kind": "public_objection", "kind_label": "公众异议待处理",
            "since": since.isoformat(), "due": None, "days_left": None, "workdays_left": None, "overdue": False,
            "provisional": False, "role": "province", "role_label": states.ROLES["province"],
            "action_url": f"/notices/{zone.code}/objections#{row.receipt}",
        })
    return out
