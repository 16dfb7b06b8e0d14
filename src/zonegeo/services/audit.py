"""Appending to the audit log: who, role, when, what, and references to before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db.models import AuditEntry, User


def record(session: Session, user: User | None, action: str, obj: str, *, before: Any = None, after: Any = None,
           actor: str | None = None) -> None:
    session.add(AuditEntry(actor=actor or (user.username if user else "system"),
                           role=user.role if user else "system", action=action, object=obj,
                           before=before, after=after))
    session.flush()


def entries(*, session: Session, limit: int = 200, obj: str | None = None) -> list[dict[str, Any]]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if obj:
        stmt = stmt.where(AuditEntry.object.like(f"{obj}%"))
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action,
             "object": e.object, "before": e.before, "after": e.after} for e in session.scalars(stmt)]
