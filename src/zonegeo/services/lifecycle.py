"""Carrying a zone through its life (申报 → 推荐 → 评审 → 公示 → 批复 → 建设 → 验收 → 运行 → 评价 …),
with materials, expert opinions, deadlines, worklists and the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import Attachment, ExpertOpinion, LifecycleEvent, User, Zone, ZoneMember
from zonegeo.domain import annual_report, lifecycle
from zonegeo.domain.four_sides import check_words
from zonegeo.domain.lifecycle_history import EXCUSED
from zonegeo.domain.model import JIANGSU_CITIES, ZONE_CODE
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, PermissionDeniedError
from zonegeo.services import access, annual_reports, audit, reviews


def _dates(zone: Zone) -> dict[str, dt.date]:
    """The zone's dates; one that is not a date (e.g. typed into zone.toml) is named, never a 500."""
    out = {}
    for key, value in (zone.dates or {}).items():
        if not isinstance(value, str):  # "deadlines": how each deadline was computed
            continue
        try:
            out[key] = dt.date.fromisoformat(value)
        except ValueError:
            raise InputError("bad_zone_date",
                             f"集聚区“{zone.code}”的日期 dates.{key}“{value}”不是有效日期（YYYY-MM-DD），请先更正",
                             {"field": f"dates.{key}", "value": value}) from None
    return out


def _event_dict(e: LifecycleEvent) -> dict[str, Any]:
    return {**e.data, "id": e.id, "action": e.action, "on": e.on_date, "from": e.from_state, "to": e.to_state,
            "actor": e.actor, "role": e.role}


def _history(session: Session, zone: Zone, *, excused: bool = True) -> list[dict[str, Any]]:
    """The zone's events, oldest first; with ``excused``, then the years it was absent from an evaluation round
    with a 正当理由 (``lifecycle_history.EXCUSED`` entries, read by ``automatic_revocation``)."""
    return histories(session, [zone.id], excused=excused)[zone.id]


def histories(session: Session, zone_ids: list[int], *, excused: bool = True) -> dict[int, list[dict[str, Any]]]:
    """The lifecycle histories of many zones in two queries (zone id → its events, oldest first, then the
    excused evaluation years)."""
    from zonegeo.services.evaluations import excused_years  # evaluations takes lifecycle actions: imported late

    out: dict[int, list[dict[str, Any]]] = {i: [] for i in zone_ids}
    if zone_ids:
        stmt = (select(LifecycleEvent).where(LifecycleEvent.zone_id.in_(zone_ids))
                .order_by(LifecycleEvent.zone_id, LifecycleEvent.id))
        for e in session.scalars(stmt):
            out[e.zone_id].append(_event_dict(e))
        if excused:
            for zone_id, years in excused_years(session, zone_ids).items():
                # shaped like an event that moves no state, so every reader of a history can walk past it
                out[zone_id].extend({"action": EXCUSED, "on": dt.date(y, 12, 31), "year": y, "id": None, "from": None,
                                     "to": None, "actor": "", "role": ""} for y in sorted(years))
    return out


MAX_NAME = 200  # a zone's name, 建设主体 and 运营管理单位: as the form's maxlength says


def create_application(*, session: Session, user: User, code: str, name: str, city: str, builder: str,
                       operator: str = "", four_sides: dict[str, Any] | None = None,
                       require_four_sides: bool = False) -> Zone:
    """A new zone in draft, owned by the applicant who creates it (or by nobody, when a bureau does), with the
    四至 as the 申报表 words it ({"east", "south", "west", "north"}; all four, or none unless required)."""
    code, name, builder, operator = code.strip(), name.strip(), builder.strip(), operator.strip()
    missing = [label for label, value in (("集聚区编号", code), ("名称", name), ("建设主体", builder)) if not value]
    if missing:
        raise InputError("missing_field", "请填写" + "、".join(missing), {"missing": missing})
    too_long = [label for label, value in (("名称", name), ("建设主体", builder), ("运营管理单位", operator))
                if len(value) > MAX_NAME]
    if too_long:
        raise InputError("field_too_long", f"{'、'.join(too_long)}不能超过{MAX_NAME}个字符",
                         {"fields": too_long, "max": MAX_NAME})
    if not ZONE_CODE.match(code):
        raise InputError("bad_zone_code", "集聚区编号只能由字母、数字、连字符和下划线组成，以字母或数字开头，最长64个字符",
                         {"code": code})
    if city not in JIANGSU_CITIES:
        raise InputError("unknown_city", f"“{city}”不是江苏省的设区市", {"city": city, "allowed": list(JIANGSU_CITIES)})
    words = check_words(four_sides, required=require_four_sides)
    if user.role == "city" and city != user.city:
        raise PermissionDeniedError("other_city", "设区市知识产权局只能为本市创建集聚区", {"city": city})
    taken = session.scalar(select(Zone.code).where(func.lower(Zone.code) == code.lower()))
    if taken is not None:  # NJ-01 and nj-01 would be two zones nobody can tell apart
        raise ConflictError("zone_exists", f"集聚区编号“{taken}”已存在", {"code": code, "existing": taken})
    zone = Zone(code=code, name=name, city=city, builder=builder, operator=operator, status="draft", dates={},
                four_sides=words)
    session.add(zone)
    session.flush()
    if user.role == "applicant":
        session.add(ZoneMember(zone_id=zone.id, user_id=user.id, relation="applicant"))
    audit.record(session, user, "zone_created", f"zone/{code}",
                 after={"name": name, "city": city, "builder": builder, "operator": operator, "four_sides": words})
    return zone


def add_attachment(*, session: Session, user: User, code: str, kind: str, filename: str, content: bytes,
                   max_bytes: int, kinds: Mapping[str, str] = lifecycle.MATERIALS) -> dict[str, Any]:
    """An attachment of ``kinds`` (the application materials unless a caller such as a change report's filing
    names its own)."""
    zone = access.writable_zone(session, user, code)
    if kind not in kinds:
        raise InputError("unknown_material", f"材料类型“{kind}”不正确，应为：{'、'.join(lifecycle.MATERIALS)}", {"kind": kind})
    if kind == "recommendation_letter" and user.role == "applicant":
        raise PermissionDeniedError("city_material", "推荐函由设区市知识产权局上传", {"kind": kind})
    filename = re.split(r"[\\/]", filename)[-1].strip()[:200] or "file"  # C:\fakepath\申报表.pdf → 申报表.pdf
    if not content:
        raise InputError("empty_file", f"文件为空：{filename}", {"file": filename})
    if len(content) > max_bytes:
        raise InputError("file_too_large", f"{filename}：超过上限{max_bytes // 1048576} MB，请压缩或拆分后分别上传",
                         {"file": filename, "max_bytes": max_bytes})
    digest = hashlib.sha256(content).hexdigest()
    row = Attachment(zone_id=zone.id, kind=kind, filename=filename, sha256=digest, size=len(content), content=content,
                     uploaded_by=user.username)
    session.add(row)
    session.flush()
    audit.record(session, user, "attachment_added", f"zone/{code}/attachment/{row.id}",
                 after={"kind": kind, "filename": filename, "sha256": digest, "size": len(content)})
    return attachment_dict(row)


def attachment_dict(row: Attachment) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "kind_label": lifecycle.ATTACHMENT_KINDS.get(row.kind, row.kind),
            "filename": row.filename,
            "sha256": row.sha256, "size": row.size, "uploaded_by": row.uploaded_by}


def attachments(session: Session, zone: Zone) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.zone_id == zone.id).order_by(Attachment.id)))


def assign_expert(*, session: Session, user: User, code: str, expert: str) -> None:
    access.add_member(session=session, code=code, username=expert, relation_="expert")
    audit.record(session, user, "expert_assigned", f"zone/{code}", after={"expert": expert})


def add_opinion(*, session: Session, user: User, code: str, opinion: str, recommend: bool,
                site_visit: bool = False, on: dt.date | None = None,
                parts: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """An expert's opinion; ``parts`` (the expert desk's form): the 现场答辩 and 实地考察 held, each
    {"on", "opinion", "recommend"}, kept in the event and its audit entry."""
    zone = access.visible_zone(session, user, code)
    if zone.status != "under_review":
        raise ConflictError("not_under_review", f"当前状态为“{lifecycle.STATES[zone.status]}”，不在专家评审阶段",
                            {"state": zone.status})
    on = on or dt.date.today()
    extra = {k: v for k, v in (parts or {}).items() if k in ("hearing", "inspection")}
    event = LifecycleEvent(zone_id=zone.id, action="expert_opinion", from_state=zone.status, to_state=zone.status,
                           on_date=on, actor=user.username, role=user.role,
                           data={"opinion": opinion, "recommend": recommend, "site_visit": site_visit} | extra)
    session.add(event)
    session.flush()
    # the structured opinion beside its event, whichever way it came (the expert desk or the API)
    columns: dict[str, Any] = {}
    for kind, part in extra.items():
        columns |= {f"{kind}_on": dt.date.fromisoformat(str(part["on"])), f"{kind}_opinion": part["opinion"],
                    f"{kind}_recommend": bool(part["recommend"])}
    row = ExpertOpinion(zone_id=zone.id, event_id=event.id, expert=user.username, opinion=opinion,
                        recommend=recommend, **columns)
    session.add(row)
    session.flush()
    audit.record(session, user, "expert_opinion", f"zone/{code}/lifecycle/{event.id}",
                 after={"recommend": recommend, "site_visit": site_visit} | extra)
    return {"id": event.id, "on": on.isoformat(), "opinion_id": row.id}


INTERNAL = ("materials", "layout_approved", "operator", "reviews", "review_items")  # facts from the database


def _facts(session: Session, zone: Zone, action: str, rules: RuleSet | None) -> dict[str, Any]:
    """What the state machine needs to know from the database; never taken from the request."""
    if action in ("submit", "recommend"):
        return {"materials": sorted({a.kind for a in attachments(session, zone)})}
    if action == "approve":
        items = rules.manual_review if rules is not None else ()
        return {"layout_approved": repo.approved_version(session, zone) is not None, "operator": zone.operator or "",
                "reviews": reviews.latest(session, zone), "review_items": [(i.id, i.title) for i in items]}
    return {}


def _error(exc: lifecycle.LifecycleError, zone: Zone) -> Exception:
    detail = {"state": zone.status} | exc.detail
    if exc.code in ("illegal_transition", "unknown_action"):
        return ConflictError(exc.code, exc.message, detail | {"allowed": exc.allowed})
    if exc.code in ("approval_blocked", "no_proposal", "no_open_objection", "no_upheld_objection"):
        return ConflictError(exc.code, exc.message, detail)
    return InputError(exc.code, exc.message, detail)


def act(*, session: Session, user: User, code: str, action: str, on: dt.date, data: dict[str, Any],
        calendar: WorkCalendar, rules: RuleSet | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Take one lifecycle action; the state machine says whether this role may, now. The actor is the logged-in
    user; a free-text ``by`` in ``data`` is kept as ``by_name`` beside it."""
    zone = access.writable_zone(session, user, code)
    repo.lock_zone(session, zone)
    data = {k: v for k, v in data.items() if k not in INTERNAL} | _facts(session, zone, action, rules)
    try:
        step = lifecycle.apply(zone.status, action, role=user.role, on=on, data=data, dates=_dates(zone),
                               calendar=calendar, history=_history(session, zone), today=today or dt.date.today())
    except lifecycle.LifecycleError as exc:
        raise _error(exc, zone) from exc
    before = {"state": zone.status, "dates": dict(zone.dates or {})}
    stored = {k: v for k, v in data.items() if k not in INTERNAL and k != "by"} | step.record
    if str(data.get("by", "")).strip():
        stored["by_name"] = str(data["by"]).strip()
    if step.note:
        stored["note"] = step.note
    if step.deadlines:
        stored["deadlines"] = {k: d.to_dict() for k, d in step.deadlines.items()}
    event = LifecycleEvent(zone_id=zone.id, action=action, from_state=zone.status, to_state=step.state, on_date=on,
                           actor=user.username, role=user.role, data=stored)
    session.add(event)
    zone.status = step.state
    zone.dates = _merge_dates(zone.dates or {}, step)
    session.flush()
    audit.record(session, user, f"lifecycle_{action}", f"zone/{code}", before=before,
                 after={"state": zone.status, "dates": zone.dates, "event": event.id, "note": step.note} | (
                     {"by_name": stored["by_name"]} if "by_name" in stored else {}))
    return {"code": code, "state": zone.status, "state_label": lifecycle.STATES[zone.status], "dates": zone.dates,
            "note": step.note, "proposal": step.proposal, "record": step.record,
            "allowed_next": lifecycle.allowed_actions(zone.status, user.role)}


def _merge_dates(current: dict[str, Any], step: lifecycle.Step) -> dict[str, Any]:
    dates = {**current, **{k: v.isoformat() for k, v in step.dates.items()}}
    if step.deadlines:
        dates["deadlines"] = {**dates.get("deadlines", {}), **{k: d.to_dict() for k, d in step.deadlines.items()}}
    return dates


def revocation(*, session: Session, user: User, code: str) -> dict[str, Any] | None:
    """The revocation proposal the zone waits on (reason, when, the state it returns to if declined), or None."""
    zone = access.visible_zone(session, user, code)
    if zone.status != "revocation_proposed":
        return None
    return lifecycle.pending_proposal(_history(session, zone))


def history(*, session: Session, user: User, code: str, excused: bool = True) -> list[dict[str, Any]]:
    """The zone's events (dates as text); with ``excused``, the excused evaluation years after them, which the
    obligations read (the API lists the stored events only)."""
    zone = access.visible_zone(session, user, code)
    return [{**h, "on": h["on"].isoformat()} for h in _history(session, zone, excused=excused)]


def _safe_dates(zone: Zone) -> dict[str, dt.date]:
    """The worklist shows what it can: a zone with a broken date gets an item asking to correct it."""
    try:
        return _dates(zone)
    except InputError:
        return {}


def obligations(zone: Zone, today: dt.date, events: list[dict[str, Any]],
                calendar: WorkCalendar | None = None) -> list[dict[str, Any]]:
    """What is due for one zone, with the date and whether it is overdue; flags (a late re-check, a proposed
    revocation) come as items for the province too."""
    calendar = calendar or WorkCalendar()
    dates = _safe_dates(zone)
    out = []

    def due(what: str, on: dt.date, role: str, kind: str = "deadline", provisional: bool = False, *,
            code: str) -> None:
        out.append({"zone_code": zone.code, "zone_name": zone.name, "city": zone.city, "what": what, "due": on.isoformat(),
                    "role": role, "overdue": today > on, "days_left": (on - today).days, "kind": kind,
                    "provisional": provisional, "code": code})

    provisional = {k for k, v in (zone.dates or {}).get("deadlines", {}).items() if v.get("provisional")}
    if zone.dates and not dates:
        due("集聚区的日期记录有误，请更正", today, "province", "flag", code="date_error")
    if zone.status == "construction" and not dates.get("construction_ends"):
        due("缺少建设期届满日期（dates.construction_ends），请补录", today, "province", "flag", code="date_missing")
    if zone.status == "noticed" and "notice_end" in dates:
        due("公示期结束，可批复", dates["notice_end"], "province", code="notice_close")
    if zone.status == "construction" and "construction_ends" in dates:
        due("建设期届满，组织验收", dates["construction_ends"], "province",
            provisional="construction_ends" in provisional, code="acceptance_due")
    if zone.status in ("rectification", "rectifying") and "rectification_ends" in dates:
        due("整改期满，组织复核", dates["rectification_ends"], "province", provisional="rectification_ends" in provisional,
            code="rectification_review")
    if zone.status == "submitted":
        due("审核申报材料并推荐", today, "city", code="application_recommend")
    if zone.status == "revocation_proposed":
        proposal = lifecycle.pending_proposal(events) or {}
        due(f"拟取消称号，待确认或不予取消：{proposal.get('reason_text', '')}", dates.get("revocation_proposed_on", today),
            "province", "proposal", code="revocation_confirm")
    if zone.status in ("operating", "rectifying"):
        since = dates.get("accepted_on")
        if lifecycle.automatic_revocation(events, today, since) is not None:
            due("连续两年未参加绩效评价：拟取消称号（第三章第1项），请登记拟取消（propose_revocation）或核实正当理由",
                today, "province", "proposal", code="revocation_suggested")
    decisions = [e for e in events if e["action"] in lifecycle.TRANSITIONS]
    last = decisions[-1] if decisions else None
    if last is not None and last.get("late") and zone.status not in lifecycle.REVOKED_STATES:  # flagged until the next decision
        due(f"{lifecycle.TRANSITIONS[last['action']].label}晚于整改期限（{last.get('period_end')}届满）", last["on"],
            "province", "flag", code="late_decision")
    year = today.year - 1  # the city's 总结报告 on last year covers every zone titled during it
    if zone.status in lifecycle.TITLED and annual_report.titled_during(zone.status, zone.dates or {}, year):
        reported = any(e["action"] == "annual_report" and e.get("year") == year for e in events)
        if not reported:  # the event is written when the city's report including this zone is filed
            deadline = lifecycle.annual_report_due(year, calendar)
            due(f"报送{zone.city}{year}年度集聚区总结报告（含本集聚区的指标）", deadline.due, "city",
                provisional=deadline.provisional, code="annual_report")
    return out


def worklist(*, session: Session, user: User, today: dt.date, city: str | None = None,
             calendar: WorkCalendar | None = None, **filters: Any) -> list[dict[str, Any]]:
    """The user's 待办 (``services.worklist.worklist``; kept here for the header and older callers)."""
    from zonegeo.services import worklist as worklists

    return worklists.worklist(session=session, user=user, today=today, city=city, calendar=calendar, **filters)


def record_annual_report(*, session: Session, user: User, code: str, year: int, on: dt.date,
                         calendar: WorkCalendar | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Kept for ``POST /api/zones/{code}/annual-reports``: the report is the city's (``services.annual_reports``);
    this records the zone as covered by its city's report on ``year``, filed on ``on``."""
    zone = access.writable_zone(session, user, code)
    if user.role not in access.BUREAU_ROLES:
        raise PermissionDeniedError("city_only", "年度总结报告由设区市知识产权局报送：请在“年度总结报告”页面"
                                    "（/annual-reports）填报", {"url": f"/annual-reports/{zone.city}/{year}"})
    try:
        lifecycle.check_on(on, today or dt.date.today())
        lifecycle.check_report_year(year, on)
    except lifecycle.LifecycleError as exc:
        raise _error(exc, zone) from exc
    return annual_reports.file_for_zone(session=session, user=user, zone=zone, year=year, on=on,
                                        calendar=calendar or WorkCalendar())
