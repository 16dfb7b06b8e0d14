"""The error family: every error a user can meet, with a stable code, a Chinese message and a location."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ZonegeoError(Exception):
    """Base error. ``code`` is stable for machines, ``message`` is Chinese for people,
    ``detail`` says where (file, layer, row, coordinate)."""

    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}

    def __str__(self) -> str:
        where = "，".join(f"{k}={v}" for k, v in self.detail.items() if k != "findings")
        return f"{self.message}（{where}）" if where else self.message


class InputError(ZonegeoError):
    """The input could not be used (CLI exit 2, HTTP 422)."""


class NotFoundError(ZonegeoError):
    """A requested object does not exist (HTTP 404)."""


class ConflictError(ZonegeoError):
    """The request conflicts with the stored state (HTTP 409)."""


class ConfigError(ZonegeoError):
    """The application is misconfigured (e.g. a broken rules file)."""


class AuthenticationError(ZonegeoError):
    """Not logged in, or the token is unknown or revoked (HTTP 401)."""


class PermissionDeniedError(ZonegeoError):
    """Logged in, but this role may not do this here (HTTP 403)."""


class UnavailableError(ZonegeoError):
    """The database cannot serve the request now; retrying later can help (HTTP 503 with Retry-After)."""

    retry_after_s: int = 5


class InternalError(ZonegeoError):
    """Something failed that the user cannot fix; logged with the request id, never shown (HTTP 500)."""
