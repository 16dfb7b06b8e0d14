"""Whether a layout's institutions and buildings look like GCJ-02 (Amap/Tencent) coordinates read as WGS84:
all of them outside the 四至, most of them inside once converted from GCJ-02. Pure geometry, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from zonegeo.domain import chinacoords


@dataclass(frozen=True)
class OffsetHint:
    total: int  # institutions and buildings looked at
    inside_after: int  # how many fall inside the 四至 once read as GCJ-02
    roles: tuple[str, ...]  # the rows whose coordinates would be read as GCJ-02: institutions, buildings

    @property
    def message(self) -> str:
        return (f"全部机构和建筑都在四至范围外；若坐标取自高德/腾讯地图（GCJ-02），换算后有{self.inside_after}个落在范围内。")

    def to_dict(self) -> dict[str, object]:
        return {"code": "gcj02_offset_likely", "message": self.message, "total": self.total,
                "inside_after": self.inside_after, "roles": list(self.roles)}


def _from_gcj02(geom: BaseGeometry) -> BaseGeometry:
    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = chinacoords.gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, convert)


def gcj02_hint(boundary: BaseGeometry | None, points: Sequence[tuple[float, float]],
               footprints: Sequence[BaseGeometry], *, share: float = 0.5) -> OffsetHint | None:
    """A hint when every institution point and every building footprint lies outside ``boundary`` (as stored,
    lon/lat) and more than ``share`` of them would lie inside if their coordinates were GCJ-02 converted to
    WGS84; None otherwise (nothing to look at, something already inside, or the conversion does not help).
    A building counts as inside when its footprint's representative point is in the boundary."""
    if boundary is None or boundary.is_empty or (not points and not footprints):
        return None
    shapely.prepare(boundary)
    pts = shapely.points(np.asarray(points, dtype=float).reshape(-1, 2)) if points else np.empty(0, dtype=object)
    marks = shapely.point_on_surface(np.asarray(list(footprints), dtype=object)) if footprints else np.empty(
        0, dtype=object)
    before = np.concatenate([pts, marks])
    if shapely.intersects(boundary, before).any():
        return None
    moved_pts = np.asarray([_from_gcj02(p) for p in pts], dtype=object)
    moved_marks = shapely.point_on_surface(np.asarray([_from_gcj02(f) for f in footprints], dtype=object))
    after = np.concatenate([moved_pts, moved_marks])
    inside = int(shapely.intersects(boundary, after).sum())
    total = len(before)
    if inside <= share * total:
        return None
    roles = tuple(r for r, n in (("institutions", len(pts)), ("buildings", len(marks))) if n)
    return OffsetHint(total=total, inside_after=inside, roles=roles)
