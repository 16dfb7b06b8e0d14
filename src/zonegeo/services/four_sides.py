"""The 四至 beside the drawing: the 申报表's words and the drawn boundary's extreme points, for the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.geometry import from_db
from zonegeo.db.models import Zone, ZoneVersion
from zonegeo.domain.four_sides import DIRECTIONS, extremes


def for_zone(session: Session, zone: Zone, version: ZoneVersion | None = None, *,
             approved_only: bool = False) -> dict[str, Any] | None:
    """{"words": {east, south, west, north}, "extremes": {east: {lon, lat, tied}, …} or None, "version": n or None,
    "directions": [(key, label)]} for ``templates/_four_sides.html``; the boundary is ``version``'s, else the
    approved version's, else (unless ``approved_only``: public pages) the newest one's. None when there are
    neither words nor a boundary."""
    if version is None:
        version = repo.approved_version(session, zone)
        if version is None and not approved_only:
            version = repo.latest_version(session, zone)
    words = {d: str((zone.four_sides or {}).get(d, "")) for d in DIRECTIONS}
    found = extremes(from_db(version.boundary)) if version is not None else None
    if found is None and not any(words.values()):
        return None
    return {"words": words, "extremes": {d: e.to_dict() for d, e in found.items()} if found else None,
            "version": version.number if version is not None else None,
            "directions": list(DIRECTIONS.items())}
