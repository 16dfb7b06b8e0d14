"""Public reads served from memory: what an anonymous visitor sees changes only when something is written, and
every write appends to the audit log, so the newest audit id (read at most once per ``ttl_s``, and again after
any write through this process) names the state of everything public. Responses to anonymous GETs are kept per
(path, query, state, day), answered with an ETag, and a matching If-None-Match gets 304 without any work.
Logged-in requests never touch this cache: their reports, maps and zone pages are computed once per state,
day and visibility class by the routes themselves (``services/render_cache.py``), with validators of their own."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("zonegeo.cache")
# Public pages and API reads whose content depends on the stored data and the day only.
CACHEABLE_PREFIXES = ("/api/zones", "/zones/")
CACHEABLE_EXACT = ("/",)
_DROP_HEADERS = {b"x-request-id", b"set-cookie", b"content-length", b"etag", b"cache-control"}


@dataclass(frozen=True)
class _Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str


class PublicCacheMiddleware:
    def __init__(self, app: ASGIApp, *, state: Callable[[Scope], str | None], session_cookie: str,
                 ttl_s: float = 1.0, max_bytes: int = 64 << 20, max_entry_bytes: int = 8 << 20) -> None:
        self.app, self.state_of, self.session_cookie = app, state, session_cookie
        self.ttl_s, self.max_bytes, self.max_entry_bytes = ttl_s, max_bytes, max_entry_bytes
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.size = 0
        self._state: tuple[float, str | None] = (0.0, None)

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return False
        path = scope["path"]
        if path not in CACHEABLE_EXACT and not path.startswith(CACHEABLE_PREFIXES):
            return False
        headers = Headers(scope=scope)
        return "authorization" not in headers and f"{self.session_cookie}=" not in headers.get("cookie", "")

    async def _current_state(self, scope: Scope) -> str | None:
        at, value = self._state
        if value is None or time.monotonic() - at > self.ttl_s:
            try:
                value = await anyio.to_thread.run_sync(self.state_of, scope)
            except Exception:  # no state, no cache: the request is served as if there were none
                log.warning("public cache: state unavailable", exc_info=True)
                value = None
            self._state = (time.monotonic(), value)
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            await self._write(scope, receive, send)
            return
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        state = await self._current_state(scope)
        if state is None:
            await self.app(scope, receive, send)
            return
        key = "\0".join((scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), state,
                         time.strftime("%Y-%m-%d")))
        etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        if etag in Headers(scope=scope).get("if-none-match", ""):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", etag.encode()), (b"cache-control", b"public, no-cache")]})
            await send({"type": "http.response.body", "body": b""})
            return
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            await self._replay(entry, send)
            return
        await self._fill(key, etag, scope, receive, send)

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A write through this process: the next public read asks for the state again, whatever the TTL
        (other processes see it within their TTL)."""
        try:
            await self.app(scope, receive, send)
        finally:
            self._state = (0.0, None)

    async def _replay(self, entry: _Entry, send: Send) -> None:
        headers = [*entry.headers, (b"content-length", str(len(entry.body)).encode()),
                   (b"etag", entry.etag.encode()), (b"cache-control", b"public, no-cache")]
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})

    async def _fill(self, key: str, etag: str, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start, size, keep
            if message["type"] == "http.response.start":
                start = message
                headers = message.get("headers", [])
                keep = message["status"] == 200 and not any(k.lower() == b"set-cookie" for k, _ in headers)
                if keep:  # tell the browser how to ask again (this cache's validators replace the route's)
                    own = [(k, v) for k, v in headers if k.lower() not in (b"etag", b"cache-control")]
                    message = {**message, "headers": [*own, (b"etag", etag.encode()),
                                                      (b"cache-control", b"public, no-cache")]}
            elif message["type"] == "http.response.body" and keep:
                size += len(message.get("body", b""))
                keep = size <= self.max_entry_bytes
                if keep:
                    chunks.append(message.get("body", b""))
                if keep and not message.get("more_body") and start is not None:
                    self._store(key, _Entry(start["status"], [(k, v) for k, v in start.get("headers", [])
                                                              if k.lower() not in _DROP_HEADERS],
                                            b"".join(chunks), etag))
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: str, entry: _Entry) -> None:
        old = self.entries.pop(key, None)  # two requests may fill the same key
        self.size += len(entry.body) - (len(old.body) if old else 0)
        self.entries[key] = entry
        while self.size > self.max_bytes and self.entries:
            _, old = self.entries.popitem(last=False)
            self.size -= len(old.body)
