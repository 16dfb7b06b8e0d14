"""Request bodies are bounded before anything reads them (python-multipart writes uploads to disk as they arrive,
before any route dependency runs): a body without credentials may be small (a login form), any body has a cap
(declared Content-Length checked first, chunked bodies cut at the cap)."""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ANONYMOUS_MAX_BYTES = 64 * 1024  # a login form, a public objection's text; files need a login


async def _refuse(send: Send, status: int, code: str, message: str, detail: dict) -> None:
    body = orjson.dumps({"code": code, "message": message, "detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, session_cookie: str) -> None:
        self.app, self.max_bytes, self.session_cookie = app, max_bytes, session_cookie

    def _has_credentials(self, headers: Headers) -> bool:
        return headers.get("authorization", "").lower().startswith("bearer ") or \
            f"{self.session_cookie}=" in headers.get("cookie", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.max_bytes if self._has_credentials(headers) else ANONYMOUS_MAX_BYTES
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            await _refuse(send, 400, "bad_content_length", "请求头 Content-Length 不是有效的数字", {"content_length": declared})
            return
        if declared is not None and int(declared) > limit:
            await self._too_large(send, limit)
            return
        received = 0
        refused = False

        async def bounded_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body (or a lying Content-Length) past the cap
                    refused = True
                    await self._too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # once refused, the route's own answer (to a cut body) is dropped
                await send(message)

        await self.app(scope, bounded_receive, guarded_send)

    async def _too_large(self, send: Send, limit: int) -> None:
        if limit == ANONYMOUS_MAX_BYTES:
            await _refuse(send, 401, "login_required", "上传文件须先登录（网页）或提供访问令牌（API）",
                          {"anonymous_limit_bytes": limit})
        else:
            await _refuse(send, 413, "request_too_large", f"请求体超过上限{limit / 1048576:.0f} MB，未读取、未保存",
                          {"limit_bytes": limit})
