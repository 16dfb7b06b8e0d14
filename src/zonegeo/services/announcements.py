"""公告 on the public site (issue 14): the province's decisions on published zones, from their lifecycle events —
批复 (with its 文号 when recorded), 验收, 绩效评价 results and 取消称号 with its reason. A revoked zone stays
visible here as revoked, with its announcement, though it leaves the public map (``services/disclosure.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db.models import LifecycleEvent, Zone
from zonegeo.domain import lifecycle as states
from zonegeo.errors import NotFoundError
from zonegeo.services import disclosure

KINDS = {"approve": "批复", "accept": "验收", "evaluate": "绩效评价结果", "revoke": "取消称号",
         "confirm_revocation": "取消称号"}
MAX_DOCUMENT_NUMBER = 60  # a 文号 such as 苏知发〔2026〕12号, shown as recorded up to this length
MAX_ROWS = 500


def _day(value: Any) -> str:
    try:
        return f"{dt.date.fromisoformat(str(value)):%Y年%m月%d日}"
    except ValueError:
        return str(value)


def _text(zone: Zone, e: LifecycleEvent) -> str:
    """The announcement in words, from what the event recorded (public facts only: no comments, no names)."""
    data = e.data or {}
    if e.action == "approve":
        ends = (zone.dates or {}).get("construction_ends")
        return f"同意建设{zone.name}" + (f"，建设期至{_day(ends)}" if ends else "")
    if e.action == "accept":
        if data.get("result") == "pass":
            return "验收合格，进入运行期"
        return "验收不合格，限期整改" if e.to_state == "rectification" else "整改后验收仍不合格，拟取消称号"
    if e.action == "evaluate":
        grade = str(data.get("grade", ""))
        return f"绩效评价结果：{states.GRADES.get(grade, grade)}" + ("，限期整改" if grade == "fail" else "")
    reason = data.get("reason")
    try:
        number = int(reason) if reason is not None else 0
    except (TypeError, ValueError):
        number = 0
    why = states.REVOCATION_REASONS.get(number, str(data.get("note", "")))
    return f"取消{zone.name}的集聚区称号。理由：{why}" + (f"（第三章第{number}项）" if number else "")


def announcements(*, session: Session, code: str | None = None, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The announcements, newest first: zone, date, kind, text and 文号 (when recorded)."""
    today = today or dt.date.today()
    stmt = (select(LifecycleEvent, Zone).join(Zone, Zone.id == LifecycleEvent.zone_id)
            .where(disclosure.announced_zones_clause(), LifecycleEvent.action.in_(KINDS), LifecycleEvent.on_date <= today)
            .order_by(LifecycleEvent.on_date.desc(), LifecycleEvent.id.desc()).limit(MAX_ROWS))
    if code is not None:
        stmt = stmt.where(Zone.code == code)
    out = []
    for e, zone in session.execute(stmt):
        number = str((e.data or {}).get("document_number", "")).strip()[:MAX_DOCUMENT_NUMBER]
        out.append({"id": e.id, "on": e.on_date, "kind": e.action, "kind_label": KINDS[e.action],
                    "zone_code": zone.code, "zone_name": zone.name, "city": zone.city,
                    "zone_state": zone.status, "zone_state_label": states.STATES.get(zone.status, zone.status),
                    "revoked": zone.status in states.REVOKED_STATES, "text": _text(zone, e),
                    "document_number": number})
    return out


def zone_announcements(*, session: Session, code: str, today: dt.date | None = None) -> tuple[Zone, list[dict[str, Any]]]:
    """A published zone (revoked or not) and its announcements; 'not found' for any other zone."""
    zone = session.scalar(select(Zone).where(Zone.code == code, disclosure.announced_zones_clause()))
    if zone is None:
        raise NotFoundError("zone_not_found", f"集聚区“{code}”不存在", {"code": code})
    return zone, announcements(session=session, code=code, today=today)


def revoked_and_announced(session: Session, code: str) -> bool:
    """Whether the public asking for this zone's page should get its announcement page instead (a revoked title)."""
    zone = session.scalar(select(Zone).where(Zone.code == code, disclosure.announced_zones_clause()))
    return zone is not None and zone.status in states.REVOKED_STATES
