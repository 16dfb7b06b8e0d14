"""API schemas (pydantic, at the edge only)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from zonegeo.api.bounds import RegistryDate


class ORJSONResponse(JSONResponse):
    """Pre-serialised JSON: much faster than FastAPI's encoder for large reports and GeoJSON."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ZoneBase(BaseModel):
    code: str
    name: str
    city: str
    builder: str
    operator: str
    status: str
    published: bool
    version: int | None


class ZoneSummary(ZoneBase):
    version_state: str | None
    land_m2: float | None
    institutions: int


class ZonesPublic(BaseModel):
    data: list[ZoneSummary]
    count: int


class VersionSummary(BaseModel):
    number: int
    state: str
    state_label: str
    effective_on: str
    uploaded_by: str
    decided_by: str
    source_files: list[dict[str, Any]]


class VersionsPublic(BaseModel):
    data: list[VersionSummary]
    count: int


class ChangeCreate(BaseModel):
    kind: str  # operator | function | mechanism | other
    occurred_on: RegistryDate
    description: str = ""


class ChangeReport(BaseModel):
    reported_by: str
    reported_on: RegistryDate | None = None  # today when omitted
    note: str = ""


class TransitionRequest(BaseModel):
    by: str = ""  # a name to add to the record (e.g. 经办人); the actor is always the logged-in user
    effective_on: RegistryDate | None = None  # approval: the day the new layout took effect


class ZonePublic(ZoneBase):
    versions: list[VersionSummary]
