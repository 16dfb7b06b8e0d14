"""Dependencies as types: what a route needs — and who may call it — is visible in its signature.

Every route declares exactly one access dependency: ``Viewer`` (anyone, the public included; what they see
is filtered) or ``require(role, …)``. Both carry ``.roles``, which the authorisation matrix test reads from
the route table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zonegeo.config import Settings
from zonegeo.domain.lifecycle import ROLES
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import AuthenticationError, PermissionDeniedError
from zonegeo.services import access
from zonegeo.services import sessions as web_sessions
from zonegeo.services.auth import User, user_for_token

ALL_ROLES = ("public", *ROLES)


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work. Declared with ``scope="function"`` (below) so that its COMMIT runs when the
    route returns and before the response is sent: a refused COMMIT becomes the error response, never a 201."""
    with request.app.state.uow() as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_rules(request: Request) -> RuleSet:
    return request.app.state.rules


def get_calendar(request: Request) -> WorkCalendar:
    return request.app.state.calendar


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RulesDep = Annotated[RuleSet, Depends(get_rules)]
CalendarDep = Annotated[WorkCalendar, Depends(get_calendar)]


def get_current_user(request: Request, session: SessionDep) -> User | None:
    """The caller: a bearer token (API) or the signed session cookie (web pages); None for the public."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return user_for_token(session, header[7:].strip())
    token = request.session.get("sid") if "session" in request.scope else None
    if token:  # a web session kept on the server: ended at logout, so a replayed cookie is refused
        return web_sessions.user_for(session, token)
    return None


CurrentUser = Annotated[User | None, Depends(get_current_user)]


def _viewer(user: CurrentUser) -> User | None:
    return user


_viewer.roles = ALL_ROLES  # type: ignore[attr-defined]
Viewer = Annotated[User | None, Depends(_viewer)]


def require(*roles: str) -> Callable[..., User]:
    """A dependency admitting only logged-in users of ``roles``: 401 without login, 403 for another role."""

    def dependency(user: CurrentUser) -> User:
        if user is None:
            raise AuthenticationError("login_required", "请先登录（网页）或提供访问令牌（API：Authorization: Bearer …）", {})
        if user.role not in roles:
            raise PermissionDeniedError("role_forbidden", f"{ROLES.get(user.role, user.role)}无权执行此操作",
                                        {"role": user.role, "allowed": list(roles)})
        return user

    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency


# The role rules are decided in services/access.py; these only make them dependencies.
LoggedIn = Annotated[User, Depends(require(*access.READ_ROLES))]
Writer = Annotated[User, Depends(require(*access.WRITE_ROLES))]
Bureau = Annotated[User, Depends(require(*access.BUREAU_ROLES))]
Province = Annotated[User, Depends(require(*access.PROVINCE_ROLES))]
Expert = Annotated[User, Depends(require(*access.EXPERT_ROLES))]
