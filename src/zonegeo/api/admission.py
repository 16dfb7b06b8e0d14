"""Admission control: at most as many requests at work as the database pool has connections; the others wait in
line (first come, first served) for a bounded time, then get 503 with Retry-After.

Why: FastAPI runs a synchronous route and each of its synchronous dependencies in separate trips to the thread
pool. A request whose login check has already checked a connection out of the pool then waits for a thread like
any newcomer; with more requests in flight than connections, newcomers take the threads and wait for connections
that only the waiting requests can give back. Requests then pile up until the pool's timeout (SQLAlchemy's 30 s
default: the review's `QueuePool limit … reached` 500s and 5 req/s at 200 connections). Admitting no more
requests than there are connections means a request at work never waits for a connection: it waits, if at all,
in this line, in order, and is told to come back when the line is too long or too slow."""

from __future__ import annotations

import anyio
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

# Static files need no database connection: never held in line.
EXEMPT_PREFIXES = ("/assets/", "/public/", "/static/", "/healthz")


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, max_active: int, max_wait_s: float, max_waiting: int) -> None:
        self.app, self.max_wait_s, self.max_waiting = app, max_wait_s, max_waiting
        self.max_active = max_active
        self.waiting = 0
        self._slots: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made in the server's event loop
            self._slots = anyio.Semaphore(self.max_active)
        slots = self._slots
        try:
            slots.acquire_nowait()  # a free slot: no line at all
        except anyio.WouldBlock:
            if self.waiting >= self.max_waiting:
                await _busy(send, "queue_full")
                return
            if not await self._wait_in_line(slots):
                await _busy(send, "wait_timeout")
                return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _wait_in_line(self, slots: anyio.Semaphore) -> bool:
        self.waiting += 1
        try:
            with anyio.move_on_after(self.max_wait_s):
                await slots.acquire()
                return True
            return False
        finally:
            self.waiting -= 1


async def _busy(send: Send, reason: str) -> None:
    body = orjson.dumps({"code": "server_busy", "message": "系统繁忙，请稍后重试（未处理本次请求）",
                         "detail": {"reason": reason}})
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"2")]})
    await send({"type": "http.response.body", "body": body})
