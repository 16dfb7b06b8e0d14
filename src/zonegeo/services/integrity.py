"""Integrity across zones (issue 14): what no single zone shows, found by PostGIS over the whole registry.

- two zones' approved boundaries overlapping (the area in m² on the CGCS2000 ellipsoid and a point inside it);
- the same 统一社会信用代码 registered (active) in two zones, with both names and addresses;
- institutions of two zones at the same point (within ``SAME_POINT_M``) under different codes;
- a public service platform registered twice (the same kind and name, in one zone or two);
- a zone's approved boundary reaching outside its 设区市, when the bureau supplies the cities' boundaries
  (``ZONEGEO_CITY_BOUNDARIES``, ingest/city_boundaries.py: the project ships no boundary data it may license).

Readings chosen (named here and in the README): overlaps (and parts outside the city) of ``OVERLAP_TOLERANCE_M2``
or less are digitising slivers along a shared edge and are not reported (a shared edge alone has no area and is
never an overlap); revoked zones, refused applications and institutions that left (``left_on``) claim nothing.

Only approved layouts and active registers are compared; a layout version under review is compared by
``for_version`` on its approval page, and a register under review by its report's ``credit_code_in_other_zone``
warning (services/eligibility.py, the same reading of a credit code: no whitespace, upper case). Every query
is one SQL statement over the whole registry, whatever the zone count."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from zonegeo.domain.lifecycle import REVOKED_STATES
from zonegeo.domain.model import InstitutionKind

HIDDEN_STATES = (*REVOKED_STATES, "rejected")  # zones that claim nothing: revoked titles, refused applications
OVERLAP_TOLERANCE_M2 = 1.0  # overlaps of at most this area are slivers, not reported
SAME_POINT_M = 1.0  # two institutions this close (metres, geodesic) stand at the same point
KINDS = {"zone_overlap": "集聚区范围重叠", "outside_city": "集聚区超出所在设区市",
         "duplicate_credit_code": "同一机构登记于两个集聚区", "same_point": "不同机构登记于同一位置",
         "duplicate_platform": "公共服务平台重复登记"}

_LIVE = """
  SELECT z.id, z.code, z.name, z.city, v.boundary
  FROM zone z JOIN zone_version v ON v.zone_id = z.id AND v.state = 'approved'
  WHERE z.status <> ALL(:hidden)"""

_OVERLAPS = f"""
WITH live AS ({_LIVE}),
pairs AS (
  SELECT a.code AS a_code, a.name AS a_name, a.city AS a_city, b.code AS b_code, b.name AS b_name, b.city AS b_city,
         ST_Intersection(a.boundary, b.boundary) AS shared
  FROM live a JOIN live b ON a.id < b.id AND ST_Intersects(a.boundary, b.boundary)
  WHERE (CAST(:zone AS text) IS NULL OR CAST(:zone AS text) IN (a.code, b.code))
    AND (CAST(:city AS text) IS NULL OR CAST(:city AS text) IN (a.city, b.city)))
SELECT a_code, a_name, a_city, b_code, b_name, b_city, ST_Area(shared::geography) AS area_m2,
       ST_X(ST_PointOnSurface(ST_CollectionExtract(shared, 3))) AS lon,
       ST_Y(ST_PointOnSurface(ST_CollectionExtract(shared, 3))) AS lat
FROM pairs WHERE ST_Area(shared::geography) > :tolerance
ORDER BY a_code, b_code"""

_ACTIVE = """
  SELECT i.id, i.zone_id, z.code AS zone_code, z.name AS zone_name, z.city, i.name, i.credit_code, i.kind,
         i.kind_label, i.address, i.location
  FROM institution i JOIN zone z ON z.id = i.zone_id
  WHERE i.left_on IS NULL AND z.status <> ALL(:hidden)"""

_CODES = f"""
WITH active AS ({_ACTIVE})
SELECT upper(regexp_replace(credit_code, '\\s', '', 'g')) AS credit_code,
       jsonb_agg(jsonb_build_object('zone', zone_code, 'zone_name', zone_name, 'city', city, 'name', name,
                                    'address', address) ORDER BY zone_code) AS claims
FROM active WHERE credit_code <> ''
GROUP BY upper(regexp_replace(credit_code, '\\s', '', 'g')) HAVING count(DISTINCT zone_id) > 1
  AND (CAST(:zone AS text) IS NULL OR bool_or(zone_code = :zone))
  AND (CAST(:city AS text) IS NULL OR bool_or(city = :city))
ORDER BY 1"""

_SAME_POINT_COLUMNS = """a.zone_code AS a_zone, a.zone_name AS a_zone_name, a.city AS a_city, a.name AS a_name,
       a.credit_code AS a_code, a.address AS a_address,
       b.zone_code AS b_zone, b.zone_name AS b_zone_name, b.city AS b_city, b.name AS b_name,
       b.credit_code AS b_code, b.address AS b_address,
       ST_Distance(a.location::geography, b.location::geography) AS distance_m,
       ST_X(a.location) AS lon, ST_Y(a.location) AS lat"""


def _near_under_other_codes(a: str, b: str) -> str:
    return f"""ST_DWithin({a}.location, {b}.location, :degrees)
    AND ST_DWithin({a}.location::geography, {b}.location::geography, :metres)
    AND ({a}.credit_code = '' OR {b}.credit_code = ''
         OR upper(regexp_replace({a}.credit_code, '\\s', '', 'g')) <> upper(regexp_replace({b}.credit_code, '\\s', '', 'g')))"""


# Every pair of zones. NOT MATERIALIZED: the planner joins the institution rows themselves rather than a
# materialised copy compared row by row with itself (measured: 16.8 s against 1.8 s for 3 000 institutions in 150
# zones, the same rows).
_SAME_POINT = f"""
WITH active AS NOT MATERIALIZED ({_ACTIVE})
SELECT {_SAME_POINT_COLUMNS}
FROM active a JOIN active b ON a.zone_id < b.zone_id AND {_near_under_other_codes("a", "b")}
ORDER BY a.zone_code, b.zone_code, a.name, b.name"""

# The pairs naming one zone or one city: its institutions against every other's, each pair then ordered by zone as
# above (0.03 s against 0.45 s for one zone among 150).
_SAME_POINT_NAMED = f"""
WITH active AS NOT MATERIALIZED ({_ACTIVE}),
named AS MATERIALIZED (
  SELECT * FROM active
  WHERE (CAST(:zone AS text) IS NULL OR zone_code = :zone) AND (CAST(:city AS text) IS NULL OR city = :city)),
pairs AS (
  SELECT DISTINCT CASE WHEN n.zone_id < o.zone_id THEN n.id ELSE o.id END AS a_id,
                  CASE WHEN n.zone_id < o.zone_id THEN o.id ELSE n.id END AS b_id
  FROM named n JOIN active o ON n.zone_id <> o.zone_id AND {_near_under_other_codes("n", "o")})
SELECT {_SAME_POINT_COLUMNS}
FROM pairs p JOIN active a ON a.id = p.a_id JOIN active b ON b.id = p.b_id
ORDER BY a.zone_code, b.zone_code, a.name, b.name"""

_PLATFORMS = f"""
WITH active AS ({_ACTIVE})
SELECT kind, kind_label, regexp_replace(name, '\\s+', '', 'g') AS key, min(name) AS name,
       jsonb_agg(jsonb_build_object('zone', zone_code, 'zone_name', zone_name, 'city', city, 'name', name,
                                    'address', address) ORDER BY zone_code, id) AS claims
FROM active WHERE kind <> :institution
GROUP BY kind, kind_label, regexp_replace(name, '\\s+', '', 'g') HAVING count(*) > 1
  AND (CAST(:zone AS text) IS NULL OR bool_or(zone_code = :zone))
  AND (CAST(:city AS text) IS NULL OR bool_or(city = :city))
ORDER BY 3"""


_VERSION_OVERLAPS = f"""
WITH live AS ({_LIVE}),
mine AS (SELECT v.zone_id, v.boundary FROM zone_version v WHERE v.id = :version_id),
pairs AS (
  SELECT l.code, l.name, l.city, ST_Intersection(m.boundary, l.boundary) AS shared
  FROM mine m JOIN live l ON l.id <> m.zone_id AND ST_Intersects(m.boundary, l.boundary))
SELECT code, name, city, ST_Area(shared::geography) AS area_m2,
       ST_X(ST_PointOnSurface(ST_CollectionExtract(shared, 3))) AS lon,
       ST_Y(ST_PointOnSurface(ST_CollectionExtract(shared, 3))) AS lat
FROM pairs WHERE ST_Area(shared::geography) > :tolerance ORDER BY code"""


_OUTSIDE_CITY = f"""
WITH live AS ({_LIVE}),
cities AS (SELECT name, ST_GeomFromWKB(wkb, 4490) AS geom FROM unnest(CAST(:names AS text[]),
                                                                      CAST(:wkbs AS bytea[])) AS c(name, wkb)),
outside AS (
  SELECT l.code, l.name, l.city, ST_Difference(l.boundary, c.geom) AS part
  FROM live l JOIN cities c ON c.name = l.city
  WHERE (CAST(:zone AS text) IS NULL OR l.code = :zone) AND (CAST(:city AS text) IS NULL OR l.city = :city))
SELECT code, name, city, ST_Area(part::geography) AS area_m2,
       ST_X(ST_PointOnSurface(ST_CollectionExtract(part, 3))) AS lon,
       ST_Y(ST_PointOnSurface(ST_CollectionExtract(part, 3))) AS lat
FROM outside WHERE NOT ST_IsEmpty(part) AND ST_Area(part::geography) > :tolerance ORDER BY code"""


def _kind_label(kind: str, label: str) -> str:
    try:
        return label if kind == InstitutionKind.OTHER_PLATFORM and label else InstitutionKind(kind).label
    except ValueError:
        return label or kind


def findings(session: Session, *, zone: str | None = None, city: str | None = None,
             cities: dict[str, BaseGeometry] | None = None) -> list[dict[str, Any]]:
    """Every finding over the registry, each with a stable ``kind``, a Chinese ``message``, the ``zones`` it names
    and the facts behind it; with ``zone`` or ``city``, only those naming that zone or city (``for_zone`` and
    ``for_city`` of all of them, without comparing every other pair of zones)."""
    params: dict[str, Any] = {"hidden": list(HIDDEN_STATES), "zone": zone, "city": city}
    out: list[dict[str, Any]] = []
    for r in session.execute(text(_OVERLAPS), params | {"tolerance": OVERLAP_TOLERANCE_M2}).mappings():
        out.append({"kind": "zone_overlap", "zones": [r["a_code"], r["b_code"]], "cities": [r["a_city"], r["b_city"]],
                    "area_m2": round(float(r["area_m2"]), 2), "where": [round(r["lon"], 7), round(r["lat"], 7)],
                    "message": f"集聚区“{r['a_name']}”（{r['a_code']}）与“{r['b_name']}”（{r['b_code']}）的批准范围重叠"
                               f"{float(r['area_m2']):,.1f}平方米，重叠处约在东经{r['lon']:.6f}°、北纬{r['lat']:.6f}°"})
    for r in session.execute(text(_CODES), params).mappings():
        claims = r["claims"]
        where = "；".join(f"{c['zone_name']}（{c['zone']}）登记为“{c['name']}”，地址：{c['address'] or '未填写'}"
                         for c in claims)
        out.append({"kind": "duplicate_credit_code", "zones": sorted({c["zone"] for c in claims}),
                    "cities": sorted({c["city"] for c in claims}), "credit_code": r["credit_code"], "claims": claims,
                    "message": f"统一社会信用代码{r['credit_code']}同时登记于{len({c['zone'] for c in claims})}个集聚区："
                               f"{where}"})
    degrees = SAME_POINT_M / 90_000  # a bounding prefilter in degrees (≥ 1 m at Jiangsu's latitudes), then geodesic
    same_point = _SAME_POINT if zone is None and city is None else _SAME_POINT_NAMED
    for r in session.execute(text(same_point), params | {"degrees": degrees, "metres": SAME_POINT_M}).mappings():
        out.append({"kind": "same_point", "zones": [r["a_zone"], r["b_zone"]], "cities": [r["a_city"], r["b_city"]],
                    "distance_m": round(float(r["distance_m"]), 2), "where": [round(r["lon"], 7), round(r["lat"], 7)],
                    "claims": [{"zone": r["a_zone"], "name": r["a_name"], "credit_code": r["a_code"],
                                "address": r["a_address"]},
                               {"zone": r["b_zone"], "name": r["b_name"], "credit_code": r["b_code"],
                                "address": r["b_address"]}],
                    "message": f"“{r['a_name']}”（{r['a_zone_name']}，{r['a_zone']}）与“{r['b_name']}”"
                               f"（{r['b_zone_name']}，{r['b_zone']}）登记于同一位置（相距{float(r['distance_m']):.2f}米），"
                               "统一社会信用代码不同，请核实是否为同一机构或定位有误"})
    for r in session.execute(text(_PLATFORMS), params | {"institution": InstitutionKind.INSTITUTION.value}).mappings():
        claims = r["claims"]
        kind = _kind_label(r["kind"], r["kind_label"])
        where = "、".join(f"{c['zone_name']}（{c['zone']}）" for c in claims)
        out.append({"kind": "duplicate_platform", "zones": sorted({c["zone"] for c in claims}),
                    "cities": sorted({c["city"] for c in claims}), "platform": r["name"], "platform_kind": kind,
                    "claims": claims,
                    "message": f"{kind}“{r['name']}”登记了{len(claims)}次：{where}"})
    if cities:  # the 设区市 boundaries the bureau supplied (ingest/city_boundaries.py)
        names = sorted(cities)
        rows = session.execute(text(_OUTSIDE_CITY), params | {
            "names": names, "wkbs": [shapely.to_wkb(cities[n]) for n in names], "tolerance": OVERLAP_TOLERANCE_M2})
        for r in rows.mappings():
            out.append({"kind": "outside_city", "zones": [r["code"]], "cities": [r["city"]],
                        "area_m2": round(float(r["area_m2"]), 2), "where": [round(r["lon"], 7), round(r["lat"], 7)],
                        "message": f"集聚区“{r['name']}”（{r['code']}）有{float(r['area_m2']):,.1f}平方米"
                                   f"在{r['city']}的行政区域之外，约在东经{r['lon']:.6f}°、北纬{r['lat']:.6f}°"})
    for f in out:
        f["kind_label"] = KINDS[f["kind"]]
        f["zone_cities"] = _zone_cities(f)
    return out


def _zone_cities(f: dict[str, Any]) -> dict[str, str]:
    if f["kind"] in ("zone_overlap", "same_point", "outside_city"):  # zones and cities side by side
        return dict(zip(f["zones"], f["cities"], strict=True))
    return {c["zone"]: c["city"] for c in f["claims"]}


def configured_cities(path: str) -> dict[str, BaseGeometry] | None:
    """The 设区市 boundaries named by ``ZONEGEO_CITY_BOUNDARIES``, or None when none is configured."""
    from zonegeo.ingest.city_boundaries import load

    return load(path) if path.strip() else None


def for_version(session: Session, version_id: int, zone_code: str) -> list[dict[str, Any]]:
    """A layout version (a draft under review, before its approval) against every other zone's approved
    boundary: the overlaps its approval would make."""
    rows = session.execute(text(_VERSION_OVERLAPS), {"hidden": list(HIDDEN_STATES), "version_id": version_id,
                                                     "tolerance": OVERLAP_TOLERANCE_M2}).mappings()
    return [{"kind": "zone_overlap", "kind_label": KINDS["zone_overlap"], "zones": [zone_code, r["code"]],
             "cities": [r["city"]], "area_m2": round(float(r["area_m2"]), 2),
             "where": [round(r["lon"], 7), round(r["lat"], 7)],
             "message": f"本版本的范围与集聚区“{r['name']}”（{r['code']}）的批准范围重叠{float(r['area_m2']):,.1f}平方米，"
                        f"重叠处约在东经{r['lon']:.6f}°、北纬{r['lat']:.6f}°"} for r in rows]


def for_zone(all_findings: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [f for f in all_findings if code in f["zones"]]


def for_city(all_findings: list[dict[str, Any]], city: str) -> list[dict[str, Any]]:
    """What a 设区市 bureau sees: the findings naming a zone of its city, and of another city's zone only its code
    and city (names, institutions, addresses and credit codes there are that city's and the province's to see)."""
    return [_redacted(f, city) for f in all_findings if city in f["cities"]]


def _redacted(f: dict[str, Any], city: str) -> dict[str, Any]:
    others = {z: c for z, c in f["zone_cities"].items() if c != city}
    if not others:
        return f
    own = [z for z, c in f["zone_cities"].items() if c == city]
    claims = [c for c in f.get("claims") or [] if f["zone_cities"].get(c["zone"]) == city]
    what = "；".join(f"本市登记为“{c['name']}”" for c in claims if c.get("name"))
    elsewhere = "、".join(f"{c}{z}" for z, c in others.items())
    size = f"，重叠{f['area_m2']:,.1f}平方米" if f["kind"] == "zone_overlap" else ""
    message = (f"{f['kind_label']}：本市集聚区{'、'.join(own)}与{elsewhere}{size}" + (f"（{what}）" if what else "")
               + "；其他设区市集聚区的详情由省知识产权局核查")
    out = {k: v for k, v in f.items() if k not in ("claims", "credit_code", "platform")}
    return out | {"claims": claims, "message": message, "redacted": True}


def summary(all_findings: list[dict[str, Any]], *, cities_checked: bool = False) -> dict[str, Any]:
    counts = {k: 0 for k in KINDS}
    for f in all_findings:
        counts[f["kind"]] += 1
    return {"total": len(all_findings), "by_kind": counts, "labels": KINDS,
            "tolerances": {"overlap_m2": OVERLAP_TOLERANCE_M2, "same_point_m": SAME_POINT_M},
            "cities_checked": cities_checked,
            "not_checked": [] if cities_checked else [
                "集聚区是否超出所在设区市行政区域：未配置设区市边界文件（ZONEGEO_CITY_BOUNDARIES），本项目不附带边界数据，未核查"]}
