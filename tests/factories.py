"""Building synthetic zone plans in metres (GK zone 40 around Nanjing) for tests."""

from __future__ import annotations

import random

import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from zonegeo.domain.credit_code import check_char
from zonegeo.domain.model import Building, ChainLink, Institution, InstitutionKind, ZonePlan

_T = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
E0, N0 = 375_000.0, 3_545_000.0  # about 118.67°E, 32.03°N (Nanjing)


def lonlat(x: float, y: float) -> tuple[float, float]:
    return _T.transform(E0 + x, N0 + y)


def rect(x: float, y: float, w: float, h: float) -> MultiPolygon:
    ring = [lonlat(px, py) for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h))]
    return MultiPolygon([Polygon(ring)])


def code(seed: int) -> str:
    rng = random.Random(seed)
    first17 = "91320105" + "".join(rng.choice("0123456789ABCDEFGH") for _ in range(9))
    return first17 + check_char(first17)


def institution(i: int, x: float = 50, y: float = 50, chain=(ChainLink.CREATION,),
                kind=InstitutionKind.INSTITUTION, credit: str | None = None) -> Institution:
    lon, lat = lonlat(x, y)
    return Institution(name=f"机构{i}", credit_code=code(i) if credit is None else credit, lon=lon, lat=lat,
                       kind=kind, chain=tuple(chain))


def full_chain(n: int = 15) -> list[Institution]:
    links = list(ChainLink)
    return [institution(i, 20 + i * 5, 50, chain=(links[i % 4],)) for i in range(n)]


def plan(*, boundary=None, core=None, buildings=None, institutions=None) -> ZonePlan:
    """An eligible plan by default: 200 m × 200 m, core 60 × 60, a 40 × 30 m building of 6 floors."""
    return ZonePlan(
        boundary=boundary or rect(0, 0, 200, 200),
        core=core if core is not None else rect(10, 10, 60, 60),
        buildings=tuple(buildings if buildings is not None else [
            Building("一号楼", rect(100, 100, 40, 30), floors=6, floors_used=6)]),
        institutions=tuple(institutions if institutions is not None else [
            *full_chain(), institution(99, 30, 30, chain=(), kind=InstitutionKind.PROTECTION_CENTER)]),
    )


def geodesic_rect_area(w: float, h: float) -> float:
    from zonegeo.domain.measure import geodesic_area_m2

    return geodesic_area_m2(rect(0, 0, w, h))


__all__ = ["Building", "full_chain", "institution", "plan", "rect", "shapely"]
