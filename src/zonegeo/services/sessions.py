"""Web sessions kept on the server: the signed cookie carries only a random token (stored here as SHA-256), so that
logging out — or the province ending a user's sessions — refuses the cookie from then on, replayed or not."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zonegeo.db.models import User, WebSession
from zonegeo.errors import NotFoundError
from zonegeo.services import audit

SESSION_HOURS = 8  # as long as the signed cookie lives
TOUCH_EVERY = dt.timedelta(minutes=5)  # last_seen_at is written at most this often, not on every request


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(*, session: Session, user: User, address: str = "", user_agent: str = "") -> str:
    """A new session for ``user``; returns the token to put in the signed cookie (shown nowhere else)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=_sha256(token), user_id=user.id, address=address[:64],
                           user_agent=user_agent[:300],
                           expires_at=func.now() + dt.timedelta(hours=SESSION_HOURS)))
    session.flush()
    return token


def _live(session: Session, token: str) -> WebSession | None:
    if not token:
        return None
    return session.scalar(select(WebSession).where(WebSession.token_sha256 == _sha256(token),
                                                   WebSession.ended_at.is_(None), WebSession.expires_at > func.now()))


def user_for(session: Session, token: str) -> User | None:
    """The user of a live session; None when it ended, expired, never existed, or the account is deactivated."""
    row = _live(session, token)
    if row is None or not row.user.active:
        return None
    now = dt.datetime.now(dt.UTC)
    if row.last_seen_at is None or now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return row.user


def end(*, session: Session, token: str, user: User | None) -> bool:
    """Logging out: the session of this cookie ends (and is audited); False when it had already ended."""
    row = _live(session, token)
    if row is None:
        return False
    row.ended_at, row.ended_by = func.now(), "logout"
    session.flush()
    audit.record(session, user or row.user, "logout", f"user/{row.user.username}", after={"session": row.id})
    return True


def _user(session: Session, username: str) -> User:
    from zonegeo.services.auth import get_user  # auth imports this module: the one lookup, imported late

    return get_user(session, username)


def list_for(*, session: Session, username: str, include_ended: bool = False) -> list[dict[str, Any]]:
    user = _user(session, username)
    stmt = select(WebSession, WebSession.ended_at.is_(None) & (WebSession.expires_at > func.now())) \
        .where(WebSession.user_id == user.id).order_by(WebSession.id.desc())
    rows = [(row, live) for row, live in session.execute(stmt) if include_ended or live]
    return [{"id": row.id, "username": username, "created_at": row.created_at.isoformat(),
             "last_seen_at": row.last_seen_at.isoformat(), "expires_at": row.expires_at.isoformat(),
             "ended_at": row.ended_at.isoformat() if row.ended_at else None, "ended_by": row.ended_by,
             "address": row.address, "user_agent": row.user_agent, "active": bool(live)} for row, live in rows]


def list_active(*, session: Session) -> list[dict[str, Any]]:
    """Every live session, newest first, with its user (for the province's page)."""
    stmt = select(WebSession, User).join(User, User.id == WebSession.user_id) \
        .where(WebSession.ended_at.is_(None), WebSession.expires_at > func.now()).order_by(User.username,
                                                                                          WebSession.id.desc())
    return [{"id": s.id, "username": u.username, "display_name": u.display_name, "role": u.role,
             "created_at": s.created_at, "last_seen_at": s.last_seen_at, "address": s.address,
             "user_agent": s.user_agent} for s, u in session.execute(stmt)]


def end_for(*, session: Session, username: str, by: User | None, session_id: int | None = None,
            reason: str = "ended_by_province") -> int:
    """End one (``session_id``) or every live session of ``username``; returns how many ended (audited)."""
    user = _user(session, username)
    stmt = update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None),
                                    WebSession.expires_at > func.now())
    if session_id is not None:
        if session.scalar(select(WebSession.id).where(WebSession.id == session_id,
                                                      WebSession.user_id == user.id)) is None:
            raise NotFoundError("session_not_found", f"用户“{username}”没有编号为{session_id}的会话",
                                {"username": username, "session_id": session_id})
        stmt = stmt.where(WebSession.id == session_id)
    ended = session.execute(stmt.values(ended_at=func.now(), ended_by=reason[:64]).returning(WebSession.id)) \
        .scalars().all()
    session.flush()
    if ended:
        audit.record(session, by, "sessions_ended", f"user/{username}", after={"sessions": sorted(ended),
                                                                                "reason": reason})
    return len(ended)
