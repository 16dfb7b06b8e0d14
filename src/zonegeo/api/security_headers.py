"""Security headers on every response: a Content-Security-Policy (scripts only from this site, plus the inline scripts
of the HTML response itself by SHA-256: folium's map pages are inline scripts), nosniff, framing by this site only,
a same-origin Referrer-Policy; and the session cookie marked Secure whenever the request came over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An inline script: a <script> element without src; its text runs to the first </script (HTML's own rule).
_INLINE_SCRIPT = re.compile(rb"<script\b(?![^>]*\ssrc\s*=)[^>]*>(.*?)</script", re.IGNORECASE | re.DOTALL)
# Tiles come from OpenStreetMap, 天地图 (http) or Amap: images from anywhere, nothing else from outside.
_HTML_POLICY = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'{styles}; "
                "img-src 'self' data: blob: https: http:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; "
                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
_OTHER_POLICY = "default-src 'none'; frame-ancestors 'self'; sandbox"
# A service worker runs under its own script's policy: the site-visit worker fetches and keeps this site's pages.
WORKER_PATHS = ("/visit-sw.js",)
_WORKER_POLICY = "default-src 'none'; connect-src 'self'; script-src 'self'"
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
          (b"x-frame-options", b"SAMEORIGIN")]


def script_hashes(html: bytes) -> list[str]:
    """CSP source expressions ('sha256-…') of each inline script, in order, duplicates once."""
    out: list[str] = []
    for match in _INLINE_SCRIPT.finditer(html):
        source = "'sha256-" + base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode() + "'"
        if source not in out:
            out.append(source)
    return out


def html_policy(html: bytes, path: str = "") -> str:
    hashes = script_hashes(html)
    # leaflet-measure (the reviewer map's 测距 tool) compiles its lodash templates with Function(): only a page
    # that carries it may evaluate strings.
    if b"leaflet-measure" in html:
        hashes.append("'unsafe-eval'")
    return _HTML_POLICY.format(hashes="".join(" " + h for h in hashes), styles="")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, session_cookie: str, hsts: bool = False) -> None:
        self.app, self.cookie, self.hsts = app, session_cookie.encode(), hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                if https or self.hsts:
                    headers = [self._secure(k, v) for k, v in headers]
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers + COMMON}
                if not _is_html(headers):
                    policy = _WORKER_POLICY if scope.get("path", "") in WORKER_PATHS else _OTHER_POLICY
                    message["headers"].append((b"content-security-policy", policy.encode()))
                    await send(message)
                    return
                start = message  # HTML: the policy depends on the body's inline scripts, so hold it
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            start["headers"].append((b"content-security-policy", html_policy(body, scope.get("path", "")).encode()))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)

    def _secure(self, key: bytes, value: bytes) -> tuple[bytes, bytes]:
        if key.lower() == b"set-cookie" and value.startswith(self.cookie + b"=") and b"; secure" not in value.lower():
            return key, value + b"; secure"
        return key, value


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers)
