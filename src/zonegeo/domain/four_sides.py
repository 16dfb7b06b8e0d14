"""The 四至 of a drawn boundary: its extreme points to the east, south, west and north, so that a reviewer can
compare the 申报表's words (东至…，南至…，西至…，北至…) with the polygon.

Geometries are EPSG:4490 lon/lat: east-most is the greatest longitude, north-most the greatest latitude. A polygon's
extremes lie on vertices of its outer rings (a hole never reaches further out), so only those are read. When
several vertices share the extreme value (a side along a meridian or a parallel), the point chosen is the one
furthest along the clockwise turn of the compass — east: the southern-most of them, south: the western-most,
west: the northern-most, north: the eastern-most — and ``tied`` says how many vertices share the value."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from zonegeo.errors import InputError

DIRECTIONS = {"east": "东", "south": "南", "west": "西", "north": "北"}
TIE_TOLERANCE_DEG = 1e-8  # about a millimetre: vertices closer than this to the extreme value share it


@dataclass(frozen=True)
class Extreme:
    lon: float
    lat: float
    tied: int = 1  # how many distinct outer-ring vertices reach the extreme value

    def to_dict(self) -> dict[str, float | int]:
        return {"lon": self.lon, "lat": self.lat, "tied": self.tied}


def _outer_vertices(geom: BaseGeometry) -> list[tuple[float, float]]:
    if isinstance(geom, Polygon):
        polygons = [geom]
    elif isinstance(geom, MultiPolygon):
        polygons = list(geom.geoms)
    elif hasattr(geom, "geoms"):  # a collection: its polygonal parts
        polygons = [g for part in geom.geoms for g in (part.geoms if isinstance(part, MultiPolygon) else [part])
                    if isinstance(g, Polygon)]
    else:
        raise TypeError(f"四至只能由面要素计算，收到{geom.geom_type}")
    seen: dict[tuple[float, float], None] = {}
    for polygon in polygons:
        if polygon.is_empty:
            continue
        for x, y, *_ in polygon.exterior.coords:
            seen.setdefault((float(x), float(y)), None)
    return list(seen)


# per direction: (axis, sign) of the value maximised, then (axis, sign) of the tie-break; axis 0 = lon, 1 = lat
_KEYS = {"east": (0, 1, 1, -1), "south": (1, -1, 0, -1), "west": (0, -1, 1, 1), "north": (1, 1, 0, 1)}


def extremes(geom: BaseGeometry | None, tolerance: float = TIE_TOLERANCE_DEG) -> dict[str, Extreme] | None:
    """{"east": Extreme, "south": …, "west": …, "north": …} of a (multi)polygon in lon/lat; None when empty."""
    if geom is None or geom.is_empty:
        return None
    points = _outer_vertices(geom)
    if not points:
        return None
    out = {}
    for direction, (axis, sign, tie_axis, tie_sign) in _KEYS.items():
        best = max(sign * p[axis] for p in points)
        tied = [p for p in points if best - sign * p[axis] <= tolerance]
        lon, lat = max(tied, key=lambda p: tie_sign * p[tie_axis])
        out[direction] = Extreme(lon, lat, len(tied))
    return out


MAX_WORDS = 200  # characters of one side's words


def check_words(words: dict[str, object] | None, *, required: bool = True) -> dict[str, str]:
    """The 四至 words as stored: {"east", "south", "west", "north"}, each stripped and starting with its direction,
    none empty, none over ``MAX_WORDS`` characters as typed. ``words`` None (or all four empty) is {} unless
    ``required``. Every bad side is named in one error."""
    words = words or {}
    unknown = sorted(set(words) - set(DIRECTIONS))
    if unknown:
        raise InputError("bad_four_sides", f"四至只有东、南、西、北四项，不认识：{'、'.join(unknown)}",
                         {"field": "four_sides", "unknown": unknown})
    text = {d: "" if words.get(d) is None else str(words.get(d)).strip() for d in DIRECTIONS}
    if not required and not any(text.values()):
        return {}
    empty = [d for d, t in text.items() if not t]
    long = [d for d, t in text.items() if len(t) > MAX_WORDS]
    if empty or long:
        parts = []
        if empty:
            parts.append("请填写" + "、".join(f"{DIRECTIONS[d]}至" for d in empty))
        if long:
            parts.append("、".join(f"{DIRECTIONS[d]}至" for d in long) + f"超过{MAX_WORDS}个字符")
        raise InputError("bad_four_sides", "四至（申报表所写）：" + "；".join(parts),
                         {"field": "four_sides", "empty": empty, "too_long": long, "max_chars": MAX_WORDS})
    # 东至… as the 申报表 words it: “江东中路” is stored as “东至江东中路”; words that start with their direction
    # (“东至…”, “东侧以…为界”) are kept as written
    return {d: t if t.startswith(DIRECTIONS[d]) else f"{DIRECTIONS[d]}至{t}" for d, t in text.items()}
