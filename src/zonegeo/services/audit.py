"""Appending to the audit log: who (always the logged-in user when there is one), role, when, what, and
references to before and after.

The database sets each row's id, time (now()), actor, role and hash chain itself (trigger audit_log_chain,
migration 0006): the actor and role come from the transaction-local settings ``zonegeo.actor`` and
``zonegeo.actor_role``, which ``record`` sets (SET LOCAL) from the login before inserting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, or_, select, text
from sqlalchemy.orm import Session

from zonegeo.db.models import AuditEntry, User
from zonegeo.domain import audit_labels
from zonegeo.errors import InputError


def record(session: Session, user: User | None, action: str, obj: str, *, before: Any = None, after: Any = None,
           actor: str | None = None) -> None:
    """``actor`` names who acted only when nobody is logged in (the CLI, start-up). With a logged-in ``user``
    the actor is that user; a different free-text name is kept as ``by_name`` in ``after`` and never replaces it."""
    if user is not None:
        name, role = user.username, user.role
        if actor and actor != user.username:
            after = {**(after if isinstance(after, dict) else {"value": after} if after is not None else {}),
                     "by_name": actor}
    else:
        name, role = actor or "system", "system"
    set_actor(session, name, role)
    session.add(AuditEntry(actor=name, role=role, action=action, object=obj, before=before, after=after))
    session.flush()


def set_actor(session: Session, name: str, role: str) -> None:
    """Who acts in this transaction, for the audit trigger (``SET LOCAL``: it ends with the transaction)."""
    session.execute(text("SELECT set_config('zonegeo.actor', :name, true), set_config('zonegeo.actor_role', :role, true)"),
                    {"name": name, "role": role})


def entries(*, session: Session, limit: int = 200, obj: str | None = None) -> list[dict[str, Any]]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if obj:
        stmt = stmt.where(AuditEntry.object.like(f"{obj}%"))
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action,
             "object": e.object, "before": e.before, "after": e.after} for e in session.scalars(stmt)]


def latest_id(session: Session) -> int:
    """The newest audit entry's id: every write appends one, so it names the state of everything stored."""
    return session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))) or 0


BEIJING = dt.timezone(dt.timedelta(hours=8))
MAX_PAGE = 200  # entries on one page of /audit
MAX_EXPORT = 10_000  # entries in one .xlsx export


@dataclass
class Filters:
    """What /audit, /audit.xlsx and GET /api/audit filter by; dates are Beijing calendar days, both included."""

    zone: str = ""
    user: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    obj: str = ""  # an object prefix (the API's older ``object`` parameter)

    def check(self) -> Filters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InputError("audit_dates_reversed", f"起始日期{self.date_from}晚于截止日期{self.date_to}",
                             {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()})
        return self


def _zone_clause(code: str) -> Any:
    return or_(AuditEntry.object == f"zone/{code}", AuditEntry.object.like(f"zone/{_like(code)}/%", escape="\\"))


def _like(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(filters: Filters, zones: list[str] | None) -> Select[Any]:
    """``zones``: the codes of the zones the reader may see (None: everything, the province)."""
    stmt = select(AuditEntry)
    if zones is not None:
        stmt = stmt.where(or_(false(), *[_zone_clause(c) for c in zones]))
    if filters.zone:
        stmt = stmt.where(_zone_clause(filters.zone))
    if filters.user:
        stmt = stmt.where(AuditEntry.actor == filters.user)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.obj:
        stmt = stmt.where(AuditEntry.object.like(f"{_like(filters.obj)}%", escape="\\"))
    if filters.date_from:
        stmt = stmt.where(AuditEntry.at >= dt.datetime.combine(filters.date_from, dt.time(), BEIJING))
    if filters.date_to:
        stmt = stmt.where(AuditEntry.at < dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(),
                                                              BEIJING))
    return stmt


def _row(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action,
            "object": e.object, "before": e.before, "after": e.after}


def search(*, session: Session, filters: Filters, zones: list[str] | None, limit: int = MAX_PAGE,
           offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The entries matching ``filters`` among those of ``zones`` (None: all), newest first, and how many match."""
    stmt = _filtered(filters.check(), zones)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return [_row(e) for e in rows], total


def readable(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as /audit shows it: role label, the sentence, Beijing time, the zone and the before/after diff."""
    at = dt.datetime.fromisoformat(entry["at"]).astimezone(BEIJING)
    return {**entry, "role_label": audit_labels.ROLE_LABELS.get(entry["role"], entry["role"]),
            "what": audit_labels.sentence(entry["action"], entry["object"]),
            "action_label": audit_labels.action_label(entry["action"]),
            "when": at.strftime("%Y-%m-%d %H:%M:%S"), "zone": audit_labels.zone_code(entry["object"]),
            "diff": audit_labels.diff(entry["before"], entry["after"])}


EXPORT_HEADER = ["序号", "时间（北京时间）", "操作人", "角色", "操作", "集聚区", "对象", "变更内容", "操作代码"]
EXPORT_WIDTHS = [8.0, 20.0, 18.0, 16.0, 30.0, 14.0, 30.0, 60.0, 22.0]


def export_xlsx(*, session: Session, filters: Filters, zones: list[str] | None) -> tuple[bytes, int, int]:
    """The filtered entries (newest first, at most MAX_EXPORT) as .xlsx bytes; returns (bytes, rows, total).
    A cut export says so in a last line."""
    from zonegeo.services.xlsx import Sheet, workbook  # openpyxl: for this export only

    found, total = search(session=session, filters=filters, zones=zones, limit=MAX_EXPORT)
    rows: list[list[Any]] = []
    for e in map(readable, found):
        rows.append([e["id"], e["when"], e["actor"], e["role_label"], e["what"], e["zone"] or "", e["object"],
                     audit_labels.diff_text(e["before"], e["after"]), e["action"]])
    if total > len(found):
        rows.append([f"仅导出最新的{len(found)}条，共{total}条符合条件；请缩小筛选范围分批导出。"])
    sheet = Sheet("审计日志", headers=EXPORT_HEADER, rows=rows, widths=EXPORT_WIDTHS)
    return workbook([sheet]), len(found), total
