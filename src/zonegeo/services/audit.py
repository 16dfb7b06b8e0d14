"""Appending to the audit log: who (always the logged-in user when there is one), role, when, what, and
references to before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db.models import AuditEntry, User


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
    session.add(AuditEntry(actor=name, role=role, action=action, object=obj, before=before, after=after))
    session.flush()


def entries(*, session: Session, limit: int = 200, obj: str | None = None) -> list[dict[str, Any]]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if obj:
        stmt = stmt.where(AuditEntry.object.like(f"{obj}%"))
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action,
             "object": e.object, "before": e.before, "after": e.after} for e in session.scalars(stmt)]
