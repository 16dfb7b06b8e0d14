"""Zone reports, maps and the expensive parts of zone pages, computed once per state of the data and kept in a
bounded in-process cache, for anonymous and logged-in callers alike.

What such a result depends on is named by its key, and the key holds everything that changes it:

- the state of the stored data: the newest audit id (every write appends one, and the audit chain's lock makes
  ids follow commit order, migration 0006), read by the request itself, so a write — an approval, a register
  change, a revocation — is seen by the very next request, in every worker process;
- the day (deadlines and states that depend on the date);
- the caller's visibility class: the disclosure policy's audience (``services/disclosure.py``) and the role;
  whether the caller may see the zone at all is decided by ``services/access.py`` on every request, before the
  cache is asked, so a cached entry is never a way around it;
- what the route itself passes (the zone code, the kind of result, the tiles, the version of the program).

The app's settings, rules and database are those of the app that owns the cache (one cache per app). The strong
ETag is derived from the key alone, so two worker processes give the same ETag to the same result and a matching
If-None-Match is answered 304 before anything is computed. Per-user parts of a page (the user's name, the form
token, the one-time message) never enter the shared entries: a page adds them around the cached parts, and its
own ETag names the user and the form token (``page_etag``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from zonegeo import __version__
from zonegeo.services import audit

T = TypeVar("T")
DEFAULT_MAX_BYTES = 64 << 20  # per app (per worker process)
MAX_ENTRY_BYTES = 8 << 20  # a larger result is computed, served and not kept


@dataclass(frozen=True)
class Snapshot:
    """What a request's cached results depend on besides its own arguments: read once per request."""

    state: int  # the newest audit id
    day: str

    @classmethod
    def read(cls, session: Session) -> Snapshot:
        return cls(audit.latest_id(session), dt.date.today().isoformat())


def visibility(policy_audience: str, user: Any) -> tuple[str, str]:
    """The caller's visibility class: what the disclosure policy shows them, and their role ("public" without a
    login). Two callers share an entry only when both are equal."""
    return policy_audience, "public" if user is None else str(user.role)


def etag_of(key: tuple[Hashable, ...]) -> str:
    """A strong ETag naming ``key`` (and the program's version): the same in every worker process."""
    return '"' + hashlib.sha256(repr((__version__, key)).encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (a list, ``*``, or weak forms of the same tag)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _size(value: Any) -> int:
    if isinstance(value, bytes | str):
        return len(value)
    return sys.getsizeof(value)  # a dict of parts: counted by its own estimate (``put(..., size=…)``)


class RenderCache:
    """A bounded LRU of results by key (thread-safe: synchronous routes run in a thread pool). Two requests that
    miss the same key at once may both compute it; the second result replaces the first (they are equal)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def list_keys(self) -> list[tuple[Hashable, ...]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def get(self, key: tuple[Hashable, ...]) -> Any | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: tuple[Hashable, ...], value: Any, size: int | None = None) -> None:
        size = _size(value) if size is None else size
        if size > self.max_entry_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._entries[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= dropped
            # entries of an older state are never asked for again: they age out of the LRU like any other

    def get_or_make(self, key: tuple[Hashable, ...], make: Callable[[], T], size: Callable[[T], int] | None = None) -> T:
        found = self.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        value = make()
        self.put(key, value, size(value) if size is not None else None)
        return value


def of_app(state: Any) -> RenderCache:
    """The cache of an app (``request.app.state``): made on first use, one per app and so per worker process."""
    cache = getattr(state, "render_cache", None)
    if cache is None:
        with _MAKE_LOCK:
            cache = getattr(state, "render_cache", None)
            if cache is None:
                settings = getattr(state, "settings", None)
                mb = getattr(settings, "public_cache_mb", None)  # 0: nothing kept (the cache off)
                cache = RenderCache(max_bytes=DEFAULT_MAX_BYTES if mb is None else int(mb) << 20)
                state.render_cache = cache
    return cache


_MAKE_LOCK = threading.Lock()
