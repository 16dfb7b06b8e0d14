"""需人工审核: the conditions geometry cannot decide (rules file ``[[manual_review]]``), recorded item by item by
the experts assigned to a zone and by the province; approval needs every item recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import ReviewRecord, User, Zone
from zonegeo.domain.lifecycle import STATES
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import ConflictError, InputError, PermissionDeniedError
from zonegeo.services import access, audit

RESULTS = {"meets": "符合", "fails": "不符合", "needs_more": "需补充"}
ALIASES = {"meets": "meets", "符合": "meets", "fails": "fails", "不符合": "fails", "needs_more": "needs_more",
           "需补充": "needs_more", "需要补充": "needs_more", "待补充": "needs_more"}
OPEN_STATES = ("recommended", "under_review", "noticed")  # between the city's recommendation and the decision


def _reviewable_zone(session: Session, user: User, code: str) -> Zone:
    zone = access.visible_zone(session, user, code)
    if user.role == "expert" and access.relation(session, user, zone) != "expert":
        raise PermissionDeniedError("not_assigned", "只有指派给本集聚区的评审专家和省知识产权局可以记录审核结果", {"code": code})
    if user.role not in access.REVIEW_WRITE_ROLES:
        raise PermissionDeniedError("not_a_reviewer", "只有评审专家和省知识产权局可以记录审核结果", {"role": user.role})
    return zone


def record(*, session: Session, user: User, code: str, item: str, result: str, note: str, rules: RuleSet,
           on: dt.date | None = None) -> dict[str, Any]:
    """One result for one item, by the logged-in reviewer; a later record of the same item replaces it for approval."""
    zone = _reviewable_zone(session, user, code)
    items = {i.id: i for i in rules.manual_review}
    if item not in items:
        raise InputError("unknown_review_item", f"审核事项（item）“{item}”不存在，应为：{'、'.join(items)}",
                         {"field": "item", "value": item, "allowed": list(items)})
    key = ALIASES.get(str(result).strip().lower())
    if key is None:
        raise InputError("bad_result", f"审核结果（result）“{result}”不正确，应为：符合、不符合、需补充",
                         {"field": "result", "value": result, "allowed": list(RESULTS.values())})
    if key != "meets" and not note.strip():
        raise InputError("missing_note", f"审核结果为{RESULTS[key]}时，请在说明（note）中写明理由或需补充的内容",
                         {"field": "note"})
    if zone.status not in OPEN_STATES:
        now = STATES.get(zone.status, zone.status)
        raise ConflictError("review_closed", f"当前状态为“{now}”，只能在设区市推荐后、批复前记录审核结果",
                            {"state": zone.status})
    on = on or dt.date.today()
    repo.lock_zone(session, zone)
    row = ReviewRecord(zone_id=zone.id, item=item, result=key, note=note.strip(), reviewer=user.username,
                       role=user.role, reviewed_on=on)
    session.add(row)
    session.flush()
    audit.record(session, user, "review_recorded", f"zone/{code}/review/{row.id}",
                 after={"item": item, "result": key, "note": row.note})
    return _row(row, items)


def _row(row: ReviewRecord, items: dict) -> dict[str, Any]:
    item = items.get(row.item)
    return {"id": row.id, "item": row.item, "title": item.title if item else row.item, "result": row.result,
            "result_label": RESULTS[row.result], "note": row.note, "reviewer": row.reviewer, "role": row.role,
            "date": row.reviewed_on.isoformat()}


def rows(session: Session, zone: Zone) -> list[ReviewRecord]:
    return list(session.scalars(select(ReviewRecord).where(ReviewRecord.zone_id == zone.id).order_by(ReviewRecord.id)))


def latest(session: Session, zone: Zone) -> dict[str, str]:
    """The result that counts for each item: its latest record."""
    return {r.item: r.result for r in rows(session, zone)}


def overview(*, session: Session, user: User, code: str, rules: RuleSet) -> dict[str, Any]:
    """Each item with its basis, the result that counts and every record (reviewer, date, result, note)."""
    zone = access.visible_zone(session, user, code)
    if user.role not in access.REVIEW_READ_ROLES:
        raise PermissionDeniedError("not_a_reviewer", "审核记录仅供评审专家、设区市和省知识产权局查看", {"role": user.role})
    items = {i.id: i for i in rules.manual_review}
    records = [_row(r, items) for r in rows(session, zone)]
    out = []
    for item in rules.manual_review:
        mine = [r for r in records if r["item"] == item.id]
        current = mine[-1] if mine else None
        out.append(item.to_dict() | {"result": current["result"] if current else None,
                                     "result_label": current["result_label"] if current else "未记录",
                                     "records": mine})
    done = sum(1 for i in out if i["result"] in ("meets", "fails"))
    return {"code": code, "items": out, "records": records, "recorded": done, "total": len(out),
            "complete": done == len(out)}
