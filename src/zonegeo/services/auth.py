"""Users, passwords (Argon2id) and API tokens (random, stored only as SHA-256, revocable)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db.models import ApiToken, User
from zonegeo.domain.lifecycle import ROLES
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.errors import AuthenticationError, ConflictError, InputError, NotFoundError
from zonegeo.services import audit

__all__ = ["User", "add_user", "check_password", "create_token", "get_user", "list_users", "revoke", "user_by_id",
           "user_for_token"]

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
