"""Users, passwords (Argon2id), logging in (limited per account and per address, with lockout and back-off, state
in the database so that every worker and host shares it) and API tokens (random, stored only as SHA-256,
revocable)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from zonegeo.db.models import ApiToken, LoginThrottle, User
from zonegeo.domain.lifecycle import ROLES
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.errors import AuthenticationError, ConflictError, InputError, NotFoundError
from zonegeo.services import audit, sessions

__all__ = ["LOCKOUT_RULE", "LoginLockedError", "User", "add_user", "check_password", "create_token", "get_user",
           "list_users", "login", "revoke", "user_by_id", "user_for_token"]

# Login limits: consecutive failures of one account, or from one address, before a lock; each failure beyond the
# limit doubles the lock, up to the maximum. Counts restart after a success (the account's) or a quiet hour.
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
FIRST_LOCK = dt.timedelta(minutes=1)
MAX_LOCK = dt.timedelta(hours=1)
QUIET = dt.timedelta(hours=1)
LOCKOUT_RULE = (f"同一账户连续{ACCOUNT_LIMIT}次、同一地址连续{ADDRESS_LIMIT}次登录失败后暂时锁定，"
                f"锁定{FIRST_LOCK.seconds // 60}分钟起，每再失败一次加倍，最长{MAX_LOCK.seconds // 3600}小时")


class LoginLockedError(AuthenticationError):
    """Too many failed logins for this account or from this address (HTTP 429 with Retry-After)."""


def _wait_text(seconds: int) -> str:
    minutes, rest = divmod(max(seconds, 1), 60)
    return f"{minutes}分{rest}秒" if minutes else f"{rest}秒"

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("zonegeo: no such user")  # unknown users cost the same time as wrong passwords


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(*, session: Session, username: str, password: str, role: str, city: str | None = None,
             display_name: str = "") -> User:
    if role not in ROLES:
        raise InputError("unknown_role", f"角色“{role}”不正确，应为：{'、'.join(ROLES)}", {"role": role})
    if role == "city" and city not in JIANGSU_CITIES:
        raise InputError("city_required", "设区市知识产权局用户须指定所在设区市（如 南京市）", {"city": city})
    if len(password) < 10:
        raise InputError("weak_password", "密码至少10个字符", {})
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError("user_exists", f"用户“{username}”已存在", {"username": username})
    user = User(username=username, password_hash=_HASHER.hash(password), role=role,
                city=city if role == "city" else None, display_name=display_name or username)
    session.add(user)
    session.flush()
    audit.record(session, None, "user_added", f"user/{username}", after={"role": role, "city": user.city})
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError("user_not_found", f"用户“{username}”不存在", {"username": username})
    return user


def list_users(*, session: Session) -> list[dict[str, Any]]:
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "city": u.city,
             "active": u.active} for u in session.scalars(select(User).order_by(User.role, User.username))]


def check_password(*, session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    try:
        if not _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password) or user is None:
            raise AuthenticationError("bad_credentials", "用户名或密码错误", {})
    except (VerificationError, InvalidHashError) as exc:
        raise AuthenticationError("bad_credentials", "用户名或密码错误", {}) from exc
    return user


def _lock(session: Session, username: str, address: str) -> LoginLockedError | None:
    keys = [("account", username), ("address", address)]
    rows = session.execute(select(LoginThrottle.scope, func.ceil(func.extract(
        "epoch", LoginThrottle.locked_until - func.now()))).where(
        LoginThrottle.locked_until > func.now(),
        (LoginThrottle.scope == keys[0][0]) & (LoginThrottle.key == keys[0][1])
        | (LoginThrottle.scope == keys[1][0]) & (LoginThrottle.key == keys[1][1]))).all()
    if not rows:
        return None
    scope, wait = max(rows, key=lambda r: r[1])
    who = "该账户" if scope == "account" else "您所在的网络地址"
    return LoginLockedError("login_locked", f"登录失败次数过多，{who}已暂时锁定，请在{_wait_text(int(wait))}后重试"
                            f"（{LOCKOUT_RULE}）", {"scope": scope, "retry_after_s": int(wait),
                                                  "account_limit": ACCOUNT_LIMIT, "address_limit": ADDRESS_LIMIT})


def _note_failure(session: Session, scope: str, key: str, limit: int) -> int:
    """One more consecutive failure (atomic: several workers may count at once); locks past the limit."""
    table = cast(Table, LoginThrottle.__table__)  # a mapped class's table (typed as any FromClause)
    stmt = insert(table).values(scope=scope, key=key, failures=1, last_failure_at=func.now())
    failures = session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={"failures": case((table.c.last_failure_at > func.now() - QUIET, table.c.failures + 1), else_=1),
              "last_failure_at": func.now()}).returning(table.c.failures)).scalar_one()
    if failures >= limit:
        lock = min(FIRST_LOCK * 2 ** min(failures - limit, 12), MAX_LOCK)
        session.execute(table.update().where(table.c.scope == scope, table.c.key == key)
                        .values(locked_until=func.now() + lock))
    return failures


def login(*, session: Session, username: str, password: str, address: str = "", user_agent: str = "") -> tuple[User, str]:
    """Check a login against the limits and the password; returns the user and a new web session's token.
    Failures are counted and audited in ``session``: the caller must commit even when this raises."""
    username = username.strip()[:64]
    locked = _lock(session, username, address)
    if locked is not None:  # the password is not even checked while locked
        audit.record(session, None, "login_refused", f"user/{username}", actor="anonymous",
                     after={"address": address, "reason": "locked", "retry_after_s": locked.detail["retry_after_s"]})
        raise locked
    try:
        user = check_password(session=session, username=username, password=password)
    except AuthenticationError:
        failures = _note_failure(session, "account", username, ACCOUNT_LIMIT)
        _note_failure(session, "address", address, ADDRESS_LIMIT)
        audit.record(session, None, "login_failed", f"user/{username}", actor="anonymous",
                     after={"address": address, "consecutive_failures": failures})
        raise
    session.execute(cast(Table, LoginThrottle.__table__).delete()
                    .where(LoginThrottle.scope == "account", LoginThrottle.key == username))
    token = sessions.start(session=session, user=user, address=address, user_agent=user_agent)
    audit.record(session, user, "login", f"user/{user.username}", after={"address": address})
    return user, token


def create_token(*, session: Session, username: str, label: str = "") -> str:
    """A new bearer token; it is shown once, only its hash is stored."""
    user = get_user(session, username)
    token = "zg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_sha256(token), label=label))
    session.flush()
    audit.record(session, None, "token_created", f"user/{username}", after={"label": label})
    return token


def revoke(*, session: Session, username: str) -> int:
    """Deactivate a user and revoke every token of theirs; returns the number of tokens revoked."""
    user = get_user(session, username)
    user.active = False
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = dt.datetime.now(dt.UTC)
    session.flush()
    sessions.end_for(session=session, username=username, by=None, reason="user_revoked")
    audit.record(session, None, "user_revoked", f"user/{username}", before={"active": True},
                 after={"active": False, "tokens_revoked": len(tokens)})
    return len(tokens)


def user_by_id(session: Session, user_id: int) -> User | None:
    """The logged-in user of a web session; None when the account is gone or deactivated."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def user_for_token(session: Session, token: str) -> User:
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        raise AuthenticationError("bad_token", "访问令牌无效或已撤销", {})
    return row.user
