"""NUL characters are refused where they arrive (path, query, JSON or form body), naming the field: PostgreSQL
text cannot hold them, and psycopg2 raised a ValueError (a 500) when one reached a query."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _refuse(send: Send, field: str) -> None:
    body = orjson.dumps({"code": "nul_character",
                         "message": f"参数“{field}”中含有空字符（NUL，\\u0000），不予接受",
                         "detail": {"field": field}})
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _nul_in_json(value: Any, where: str) -> str | None:
    """The dotted path of the first string (or key) holding a NUL, e.g. ``body.data.reason``."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}"
            if "\x00" in str(key):
                return path
            if found := _nul_in_json(item, path):
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if found := _nul_in_json(item, f"{where}.{i}"):
                return found
    return None


def _nul_in_query(raw: bytes, where: str) -> str | None:
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return f"{where}.{key.replace(chr(0), '')}"
    return where


class InputGuardMiddleware:
    """Looks at the path and query of every request, and at JSON and url-encoded bodies (already bounded by
    BodyLimitMiddleware outside it); multipart file contents are the uploads' own business."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(raw_path):
            await _refuse(send, "path")
            return
        if field := _nul_in_query(scope.get("query_string", b""), "query"):
            await _refuse(send, field)
            return
        kind = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or kind not in (
                "application/json", "application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        field = None
        if kind == "application/json" and (b"\\u0000" in body or b"\x00" in body):
            try:
                field = _nul_in_json(orjson.loads(body), "body") or "body"
            except orjson.JSONDecodeError:
                field = "body"
        elif kind != "application/json":
            field = _nul_in_query(body, "body")
        if field:
            await _refuse(send, field)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
