"""Reads served from memory: what a visitor sees changes only when something is written, and every write
appends to the audit log, so the newest audit id (read at most once per ``ttl_s``, and again after any write
through this process) names the state of everything stored. Responses to anonymous GETs are kept per
(path, query, state, day), answered with an ETag, and a matching If-None-Match gets 304 without any work.

A web session's reads of a zone's report, page and map (``USER_PATHS``) are kept the same way, per session: the
key holds the session cookie itself (its signature checked with the app's own session signer, its age with the
session's ``max_age``), so an entry is only ever answered to the session that made it, and only while the session
holds nothing but its login and form token (a one-time message in the session is never cached). What the user
may see changes only by a write (an approval, a register change, a revocation, ending the session, deactivating
the user: each audited), so the state in the key covers it; an entry also lives ``user_ttl_s`` at most, which
bounds how long a session that merely expires keeps its cached pages. Bearer-token requests never touch the
cache. Below this layer the routes keep the expensive parts per state, day and visibility class
(``services/render_cache.py``), for every caller."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("zonegeo.cache")
# Public pages and API reads whose content depends on the stored data and the day only.
CACHEABLE_PREFIXES = ("/api/zones", "/zones/")
CACHEABLE_EXACT = ("/",)
_DROP_HEADERS = {b"x-request-id", b"set-cookie", b"content-length", b"etag", b"cache-control"}
# A web session's reads kept per session: a zone's report, page and map.
USER_PATHS = re.compile(r"^/(api/zones/[^/]+/report|zones/[^/]+|zones/[^/]+/map)$")
SESSION_KEYS = {"sid", "csrf"}  # a session holding anything else (a one-time message …) is not cached


@dataclass(frozen=True)
class _Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    private: bool = False
    at: float = 0.0


class PublicCacheMiddleware:
    def __init__(self, app: ASGIApp, *, state: Callable[[Scope], str | None], session_cookie: str,
                 ttl_s: float = 1.0, max_bytes: int = 64 << 20, max_entry_bytes: int = 8 << 20,
                 user_ttl_s: float = 60.0) -> None:
        self.app, self.state_of, self.session_cookie = app, state, session_cookie
        self.ttl_s, self.max_bytes, self.max_entry_bytes = ttl_s, max_bytes, max_entry_bytes
        self.user_ttl_s = user_ttl_s
        self._signer: Any = None  # the session middleware's, found on first use
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.size = 0
        self._state: tuple[float, str | None] = (0.0, None)
        self._generation = 0  # writes served by this process
        # responses being made: at a cold start, or after a write, the many requests for one page wait for the
        # first one's response instead of each making it (each would wait in line for the database, api/admission.py)
        self._filling: dict[str, anyio.Event] = {}
        self.fill_wait_s = 30.0
        self._flight: tuple[int, asyncio.Future[str | None]] | None = None  # the state read under way

    def _cacheable(self, scope: Scope) -> str | None:
        """None, or what names the caller in the key: "" for the public, the session cookie for a web session."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        path = scope["path"]
        headers = Headers(scope=scope)
        if "authorization" in headers:
            return None
        from starlette.requests import HTTPConnection

        # the cookies as the session middleware reads them ("zonegeo_session =…" is a session too)
        if self.session_cookie not in HTTPConnection(scope).cookies:
            return "" if path in CACHEABLE_EXACT or path.startswith(CACHEABLE_PREFIXES) else None
        if not USER_PATHS.match(path):
            return None
        return self._session_of(scope)

    def _session_of(self, scope: Scope) -> str | None:
        """The session cookie when its signature and age hold and the session holds only its login and form
        token; None otherwise (the request is served as if there were no cache)."""
        signer = self._find_signer()
        if signer is None:
            return None
        from starlette.requests import HTTPConnection

        value = HTTPConnection(scope).cookies.get(self.session_cookie, "")
        try:
            data = json.loads(base64.b64decode(signer[0].unsign(value.encode(), max_age=signer[1])))
        except Exception:  # bad signature, expired, not JSON: not ours to answer
            return None
        if not isinstance(data, dict) or not data.get("sid") or set(data) - SESSION_KEYS:
            return None
        return value

    def _find_signer(self) -> tuple[Any, int | None] | None:
        if self._signer is None:
            layer: Any = self.app
            while layer is not None and not (hasattr(layer, "signer") and hasattr(layer, "session_cookie")
                                             and layer.session_cookie == self.session_cookie):
                layer = getattr(layer, "app", None)
            self._signer = (layer.signer, layer.max_age) if layer is not None else False
        return self._signer or None

    async def _current_state(self, scope: Scope) -> str | None:
        """The state, read again once ``ttl_s`` has passed. One read at a time: the requests that find the state
        stale while it is being read wait for that read (under load, hundreds would otherwise each ask the
        database at once, every second). A read begun before a write this process served is used by the
        requests that were waiting for it, and not kept."""
        at, value = self._state
        if value is not None and time.monotonic() - at <= self.ttl_s:
            return value
        generation = self._generation
        if self._flight is not None and self._flight[0] == generation:
            return await asyncio.shield(self._flight[1])
        flight: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._flight = (generation, flight)
        value = None
        try:
            try:
                value = await anyio.to_thread.run_sync(self.state_of, scope)
            except Exception:  # no state, no cache: the request is served as if there were none
                log.warning("public cache: state unavailable", exc_info=True)
            if self._generation == generation:
                self._state = (time.monotonic(), value)
        finally:
            if self._flight is not None and self._flight[1] is flight:
                self._flight = None
            if not flight.done():
                flight.set_result(value)
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            await self._write(scope, receive, send)
            return
        who = self._cacheable(scope)
        if who is None:
            await self.app(scope, receive, send)
            return
        # trusted for ttl_s, for a web session too: its own write through another worker shows within ttl_s (a
        # desk form's answer holds a one-time message and is never cached); reading it for each request of a
        # session cost about three quarters of their throughput (bench/serve_zone.py)
        state = await self._current_state(scope)
        if state is None:
            await self.app(scope, receive, send)
            return
        key = "\0".join((scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), state,
                         time.strftime("%Y-%m-%d"), who))
        etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        private = bool(who)
        control = b"private, no-cache" if private else b"public, no-cache"
        if etag in Headers(scope=scope).get("if-none-match", ""):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", etag.encode()), (b"cache-control", control)]})
            await send({"type": "http.response.body", "body": b""})
            return
        entry = self.entries.get(key)
        if entry is not None and private and time.monotonic() - entry.at > self.user_ttl_s:
            self._drop(key)
            entry = None
        if entry is None and key in self._filling:  # the same response is being made: wait for it once
            with anyio.move_on_after(self.fill_wait_s):
                await self._filling[key].wait()
            entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            await self._replay(entry, send)
            return
        if key in self._filling:  # not kept (too large, not a 200, a cookie set) or too slow: made again
            await self._fill(key, etag, scope, receive, send, private=private)
            return
        self._filling[key] = done = anyio.Event()
        try:
            await self._fill(key, etag, scope, receive, send, private=private)
        finally:
            del self._filling[key]
            done.set()

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A write through this process: the next public read asks for the state again, whatever the TTL
        (other processes see it within their TTL)."""
        try:
            await self.app(scope, receive, send)
        finally:
            self._generation += 1
            self._state = (0.0, None)

    async def _replay(self, entry: _Entry, send: Send) -> None:
        control = b"private, no-cache" if entry.private else b"public, no-cache"
        headers = [*entry.headers, (b"content-length", str(len(entry.body)).encode()),
                   (b"etag", entry.etag.encode()), (b"cache-control", control)]
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})

    async def _fill(self, key: str, etag: str, scope: Scope, receive: Receive, send: Send, *,
                    private: bool = False) -> None:
        control = b"private, no-cache" if private else b"public, no-cache"
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
                if not private and (scope.get("session") or {}).get("sid"):
                    keep = False  # the app served a logged-in user: never the public's answer
                if keep:  # tell the browser how to ask again (this cache's validators replace the route's)
                    own = [(k, v) for k, v in headers if k.lower() not in (b"etag", b"cache-control")]
                    message = {**message, "headers": [*own, (b"etag", etag.encode()), (b"cache-control", control)]}
            elif message["type"] == "http.response.body" and keep:
                size += len(message.get("body", b""))
                keep = size <= self.max_entry_bytes
                if keep:
                    chunks.append(message.get("body", b""))
                if keep and not message.get("more_body") and start is not None:
                    self._store(key, _Entry(start["status"], [(k, v) for k, v in start.get("headers", [])
                                                              if k.lower() not in _DROP_HEADERS],
                                            b"".join(chunks), etag, private, time.monotonic()))
            await send(message)

        await self.app(scope, receive, capture)

    def _drop(self, key: str) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)

    def _store(self, key: str, entry: _Entry) -> None:
        old = self.entries.pop(key, None)  # two requests may fill the same key
        self.size += len(entry.body) - (len(old.body) if old else 0)
        self.entries[key] = entry
        while self.size > self.max_bytes and self.entries:
            _, old = self.entries.popitem(last=False)
            self.size -= len(old.body)
