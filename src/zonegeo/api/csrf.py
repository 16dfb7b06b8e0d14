"""CSRF protection: a random token kept in the signed session and echoed by each form (or sent as the X-CSRF-Token
header), and a check that every cookie-authenticated write comes from this site."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

import orjson
from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from zonegeo.errors import PermissionDeniedError


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf(request: Request, submitted: str) -> None:
    """The form's token, or the X-CSRF-Token header (a script posting the same form)."""
    submitted = submitted or request.headers.get("x-csrf-token", "")
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(expected, submitted or ""):
        raise PermissionDeniedError("csrf_failed", "页面已过期或来源不明，请刷新页面后重新提交", {})


SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _origin_netloc(headers: Headers) -> str | None:
    """Where the request was made from: the Origin header, else the Referer's; None when the client sent neither."""
    origin = headers.get("origin")
    if origin is None:
        referer = headers.get("referer")
        if not referer:
            return None
        origin = referer
    parsed = urlsplit(origin)
    return parsed.netloc.lower() if parsed.scheme in ("http", "https") else ""  # "null", file:, … are foreign


async def _refuse(send: Send, code: str, message: str, detail: dict) -> None:
    body = orjson.dumps({"code": code, "message": message, "detail": detail})
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class CsrfMiddleware:
    """Every write made with the session cookie (no bearer token) must come from this site: the Origin (or Referer)
    must name this host, and an API call (``/api/…``, JSON or multipart alike) must carry the session's token in the
    ``X-CSRF-Token`` header. Page forms carry the token as a form field, checked by their route (``check_csrf``).
    Refused before the body is read, so a forged upload is never stored. Bearer-token calls are exempt: a browser
    never adds that header by itself. Sits inside the SessionMiddleware, which decodes the cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or not self._cookie_login(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = _origin_netloc(headers)
        host = headers.get("host", "").lower()
        # Behind a reverse proxy the public host may arrive as X-Forwarded-Host: a cross-site form cannot set that
        # header, and a cross-site script may not without CORS, which this app does not grant.
        forwarded = headers.get("x-forwarded-host", "").split(",")[0].strip().lower()
        if origin is not None and origin not in (host, forwarded or host):
            await _refuse(send, "csrf_origin", "请求来自其他网站，已拒绝（跨站请求伪造防护）",
                          {"origin": headers.get("origin") or headers.get("referer", ""), "host": host})
            return
        path = scope.get("path", "")
        if path.startswith("/api/") or path == "/api":
            expected = scope["session"].get("csrf", "")
            given = headers.get("x-csrf-token", "")
            if not expected or not hmac.compare_digest(expected, given):
                await _refuse(send, "csrf_failed", "缺少或错误的 X-CSRF-Token 请求头：用登录 Cookie 调用接口写入时须带上"
                              "页面中的令牌（或改用访问令牌 Authorization: Bearer …）", {"header": "X-CSRF-Token"})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _cookie_login(scope: Scope) -> bool:
        """A logged-in session cookie decides who the caller is (a bearer token, when present, decides instead)."""
        if Headers(scope=scope).get("authorization", "").lower().startswith("bearer "):
            return False
        return bool((scope.get("session") or {}).get("sid"))
