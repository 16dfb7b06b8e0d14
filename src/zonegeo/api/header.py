"""What every page's header shows: who is logged in (organisation, name, role), the 待办 count and the pages the
role can use. Called from base.html; a failure here costs the count, never the page."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from typing import Any

from fastapi import Request
from jinja2 import Undefined
from sqlalchemy.orm import Session, object_session

from zonegeo.domain.lifecycle import ROLES
from zonegeo.services import access, audit, lifecycle
from zonegeo.services import sessions as web_sessions
from zonegeo.services.auth import User
from zonegeo.services.disclosure import ORGANISATIONS

log = logging.getLogger("zonegeo")

# (path, label, element id, roles that may open it; None: everyone, the public included)
NAV: tuple[tuple[str, str, str, tuple[str, ...] | None], ...] = (
    ("/", "集聚区列表", "nav-home", None),
    ("/notices", "公示", "nav-notices", None),  # issue 14: the public 公示 and 公告
    ("/announcements", "公告", "nav-announcements", None),
    ("/apply", "新建申报", "nav-apply", ("applicant", "city", "province")),
    ("/worklist", "待办", "nav-worklist", access.READ_ROLES),
    ("/expert", "评审工作台", "nav-expert", access.EXPERT_ROLES),
    ("/changes", "变更事项", "nav-changes", access.BUREAU_ROLES),
    ("/annual-reports", "年度总结报告", "nav-annual-reports", access.BUREAU_ROLES),
    ("/statistics", "统计", "nav-statistics", access.BUREAU_ROLES),
    ("/exports", "数据导出", "nav-exports", access.BUREAU_ROLES),
    ("/evaluations", "综合评价", "nav-evaluations", ("city", "province", "expert")),
    ("/audit", "审计日志", "nav-audit", access.READ_ROLES),
    ("/sessions", "登录会话", "sessions-link", access.PROVINCE_ROLES),
    ("/docs", "接口文档", "nav-docs", None),
)


def organisation(session: Session | None, user: User) -> str:
    """The organisation the user acts for: an applicant's 建设主体 (of the zones it owns: the one named by most of
    them, "等N家" when there are several), a city's bureau, the province's bureau, the experts' panel."""
    if user.role == "city":
        return f"{user.city or ''}知识产权局"
    if user.role == "applicant" and session is not None:
        builders = Counter(z.builder for z in access.visible_zones(session, user) if z.builder)
        if builders:
            return builders.most_common(1)[0][0] + (f"等{len(builders)}家" if len(builders) > 1 else "")
        return user.display_name or user.username
    return ORGANISATIONS.get(user.role, ROLES.get(user.role, ""))


CACHE_ENTRIES = 1000


def _cached(request: Request, session: Session, user: User, compute: Any) -> Any:
    """``compute()`` kept per user, day and state of the data (the newest audit entry: every write appends one),
    so that a page costs one small query for its header; the worklist itself reads every visible zone's history.
    Kept a minute at most: a write committed after a later one (their audit ids in the other order) is seen then."""
    key = (user.id, user.role, user.city, dt.date.today(), audit.latest_id(session), int(time.monotonic() // 60))
    cache: dict[tuple[Any, ...], Any] | None = getattr(request.app.state, "header_cache", None)
    if cache is None:
        cache = request.app.state.header_cache = {}
    if key not in cache:
        if len(cache) >= CACHE_ENTRIES:
            cache.clear()
        cache[key] = compute()
    return cache[key]


def todo_count(request: Request, session: Session, user: User) -> int:
    """The number of rows the user's /worklist shows (same function, same day, same calendar)."""
    return len(lifecycle.worklist(session=session, user=user, today=dt.date.today(),
                                  calendar=request.app.state.calendar))


def _guarded(session: Session, what: str, fn: Any) -> Any:
    """``fn()`` inside a savepoint: a failure is logged and undone, and the request's own transaction goes on.
    Skipped while the request has changes not yet sent to the database (the savepoint would flush them here, and
    their own error belongs to the COMMIT) or after its transaction failed."""
    if not session.is_active or session.new or session.dirty or session.deleted:
        return None
    try:
        with session.begin_nested():
            return fn()
    except Exception:  # the header must never break the page it heads
        log.warning("page header: %s not available", what, exc_info=True)
        return None


def header(request: Request, user: Any) -> dict[str, Any] | None:
    """The header's data for ``user`` (the page's logged-in user), or None for the public. A page rendered without
    a user at all (the error pages) looks its caller up from the session cookie."""
    if isinstance(user, Undefined):
        return _from_cookie(request)
    if not isinstance(user, User):
        return None
    try:
        session = object_session(user)
        role = user.role
        name = user.display_name or user.username
    except Exception:  # a detached or expired user object: the public header, not an error
        log.warning("page header: user not readable", exc_info=True)
        return None
    nav = [{"href": href, "label": label, "id": ident, "current": request.url.path == href}
           for href, label, ident, roles in NAV if roles is None or role in roles]
    info: dict[str, Any] = {"name": name, "role_label": ROLES.get(role, role), "nav": nav,
                            "organisation": ORGANISATIONS.get(role, ""), "todo": None}
    if session is not None:
        info |= _guarded(session, "organisation and todo count", lambda: _cached(request, session, user, lambda: {
            "organisation": organisation(session, user), "todo": todo_count(request, session, user)})) or {}
    else:
        info["organisation"] = organisation(None, user)
    info["organisation"] = info["organisation"] or name
    return info


def public_nav(request: Request) -> list[dict[str, Any]]:
    """The header's links for the public (no login)."""
    return [{"href": href, "label": label, "id": ident, "current": request.url.path == href}
            for href, label, ident, roles in NAV if roles is None]


def _from_cookie(request: Request) -> dict[str, Any] | None:
    """The header of a page that was given no user (an error page): the session cookie's user, read in a short
    transaction of its own (the request's own has ended with the error)."""
    token = request.session.get("sid") if "session" in request.scope else None
    if not token:
        return None
    try:
        with request.app.state.uow() as session:
            user = web_sessions.user_for(session, token)
            return header(request, user) if user is not None else None
    except Exception:  # the header must never break the page it heads
        log.warning("page header: the session's user not available", exc_info=True)
        return None
