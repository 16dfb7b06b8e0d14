"""The 四至 beside the drawing: the 申报表's words and the drawn boundary's extreme points, for the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from zonegeo.db.geometry import from_db
from zonegeo.db.models import Zone, ZoneVersion
from zonegeo.domain.four_sides import DIRECTIONS, extremes
from zonegeo.services import disclosure


def for_zone(session: Session, zone: Zone, version: ZoneVersion | None = None, *,
             policy: disclosure.Disclosure = disclosure.REVIEWER) -> dict[str, Any] | None:
    """{"words": {east, south, west, north}, "extremes": {east: {lon, lat, tied}, …} or None, "version": n or None,
    "directions": [(key, label)]} for ``templates/_four_sides.html``; the boundary is ``version``'s, else the one
    ``policy`` is shown (``disclosure.shown_version``: the approved layout; reviewers of a zone with none yet, the
    newest). None when there are neither words nor a boundary."""
    if version is None:
        version = disclosure.shown_version(session, zone, policy)
    words = {d: str((zone.four_sides or {}).get(d, "")) for d in DIRECTIONS}
    found = extremes(from_db(version.boundary)) if version is not None else None
    if found is None and not any(words.values()):
        return None
    return {"words": words, "extremes": {d: e.to_dict() for d, e in found.items()} if found else None,
            "version": version.number if version is not None else None,
            "directions": list(DIRECTIONS.items())}
