"""Appending to the audit log: who (always the logged-in user when there is one), role, when, what, and
references to before and after.

The database sets each row's id, time (now()), actor, role and hash chain itself (trigger audit_log_chain,
migration 0006): the actor and role come from the transaction-local settings ``zonegeo.actor`` and
``zonegeo.actor_role``, which ``record`` sets (SET LOCAL) from the login before inserting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
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
