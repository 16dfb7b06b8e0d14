"""CSRF protection of the web forms: a random token kept in the signed session and echoed by each form."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from zonegeo.errors import PermissionDeniedError


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(expected, submitted or ""):
        raise PermissionDeniedError("csrf_failed", "页面已过期或来源不明，请刷新页面后重新提交", {})
