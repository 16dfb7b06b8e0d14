"""The figures of /statistics for the province (or one city): zones by city and state, their land and floor area,
institutions by chain link and kind, change reports on time / late / overdue by city, evaluations by grade
(the lifecycle ``evaluate`` events), and year on year; and the province map coloured by state.

Read with a fixed number of SQL statements whatever the number of zones (``STATEMENTS``): grouped counts in SQL;
only the areas are measured in Python, from the approved layouts loaded in two statements, with the same functions
as each zone's report (geodesic on the CGCS2000 ellipsoid)."""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from typing import Any, cast

import folium
import shapely
from branca.element import Element, Figure
from sqlalchemy import Integer, case, extract, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from zonegeo.db.geometry import from_db
from zonegeo.db.models import ChangeEvent, Institution, LifecycleEvent, Zone, ZoneVersion
from zonegeo.domain import lifecycle as states
from zonegeo.domain import versions
from zonegeo.domain.model import JIANGSU_CITIES, ChainLink, InstitutionKind
from zonegeo.domain.rules import RuleSet
from zonegeo.maps import page
from zonegeo.maps.basemaps import add_base_layers
from zonegeo.maps.overlays import Overlay, PageScript, feature
from zonegeo.maps.render import ZoneMap, to_html
from zonegeo.services import exports
from zonegeo.services.exports import Scope

STATEMENTS = 8  # SQL statements of ``compute``, whatever the number of zones (tests/test_statistics.py counts them)
CHANGE_STATES = {"reported": "按时报告", "late": "逾期报告", "overdue": "已逾期", "pending": "未到期"}
GRADES = states.GRADES  # excellent 优秀, pass 合格, fail 不合格
CHAINS = [c.value for c in ChainLink]
KINDS = {k.value: k.label for k in InstitutionKind}
# state -> colour of the province map and the charts (colour-blind-safe where it matters: the titled states differ
# in lightness too)
STATE_COLOURS = {
    "draft": "#bdbdbd", "submitted": "#9e9ac8", "recommended": "#807dba", "under_review": "#6a51a3",
    "noticed": "#fdae6b", "construction": "#3182bd", "rectification": "#e6550d", "operating": "#31a354",
    "rectifying": "#fd8d3c", "revocation_proposed": "#de2d26", "rejected": "#636363", "revoked": "#252525",
}
YEAR_METRICS = {"approved": "新批复集聚区", "entered": "新入驻机构和平台", "left": "退出机构和平台",
                "changes": "发生变更事项", "evaluated": "完成绩效评价"}


def _zones(session: Session, scope: Scope) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(Zone.id, Zone.city, Zone.status).where(scope.where()).order_by(Zone.city, Zone.code))]


def _areas(session: Session, zone_ids: list[int], cities: dict[int, str], rules: RuleSet) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"zones": 0, "land_m2": 0.0, "core_land_m2": 0.0,
                                                            "floor_m2": 0.0})
    for zone_id, version in exports.approved_versions(session, zone_ids).items():  # two statements
        measured = exports.areas(version, rules)
        row = out[cities[zone_id]]
        row["zones"] += 1
        for key in ("land_m2", "core_land_m2", "floor_m2"):
            row[key] += measured[key]
    return dict(out)


def _institutions(session: Session, scope: Scope) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Active institutions by (city, kind) and service institutions (platforms apart) by (city, chain link)."""
    active = Institution.left_on.is_(None)
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    stmt = (select(Zone.city, Institution.kind, func.count()).join(Zone, Zone.id == Institution.zone_id)
            .where(scope.where(), active).group_by(Zone.city, Institution.kind))
    for city, kind, n in session.execute(stmt):
        by_kind[city][kind] = n
    links = (select(Zone.city.label("city"), func.unnest(Institution.chain).label("link"))
             .join(Zone, Zone.id == Institution.zone_id)
             .where(scope.where(), active, Institution.kind == InstitutionKind.INSTITUTION.value).subquery())
    by_chain: dict[str, dict[str, int]] = defaultdict(dict)
    for city, link, n in session.execute(select(links.c.city, links.c.link, func.count())
                                         .group_by(links.c.city, links.c.link)):
        by_chain[city][link] = n
    return dict(by_kind), dict(by_chain)


def _changes(session: Session, scope: Scope, today: dt.date) -> dict[str, dict[str, int]]:
    status = case((ChangeEvent.reported_on > ChangeEvent.report_due, "late"),
                  (ChangeEvent.reported_on.is_not(None), "reported"),
                  (ChangeEvent.report_due < today, "overdue"), else_="pending")
    stmt = (select(Zone.city, status, func.count()).join(Zone, Zone.id == ChangeEvent.zone_id)
            .where(scope.where()).group_by(Zone.city, status))
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for city, state, n in session.execute(stmt):
        out[city][state] = n
    return dict(out)


def _grades(session: Session, scope: Scope) -> dict[int, dict[str, int]]:
    year = extract("year", LifecycleEvent.on_date).cast(Integer)
    grade = LifecycleEvent.data["grade"].astext
    stmt = (select(year, grade, func.count()).join(Zone, Zone.id == LifecycleEvent.zone_id)
            .where(scope.where(), LifecycleEvent.action == "evaluate").group_by(year, grade))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for y, g, n in session.execute(stmt):
        out[int(y)][g or ""] = n
    return dict(out)


def _years(session: Session, scope: Scope) -> dict[int, dict[str, int]]:
    """Per year: zones approved, institutions entered and left, change events, evaluations — one statement."""
    def counted(metric: str, model: Any, column: Any, *where: Any) -> Any:
        y = extract("year", column).cast(Integer)
        return (select(literal(metric).label("metric"), y.label("year"), func.count().label("n"))
                .select_from(model).join(Zone, Zone.id == model.zone_id)
                .where(scope.where(), column.is_not(None), *where).group_by(y))

    stmt = union_all(
        counted("approved", LifecycleEvent, LifecycleEvent.on_date, LifecycleEvent.action == "approve"),
        counted("evaluated", LifecycleEvent, LifecycleEvent.on_date, LifecycleEvent.action == "evaluate"),
        counted("entered", Institution, Institution.entered_on),
        counted("left", Institution, Institution.left_on),
        counted("changes", ChangeEvent, ChangeEvent.occurred_on))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for metric, y, n in session.execute(stmt):
        out[int(y)][metric] = n
    return dict(out)


def _table(rows: dict[str, dict[str, Any]], columns: list[str], order: list[str]) -> list[dict[str, Any]]:
    return [{"key": key, "values": [rows[key].get(c, 0) for c in columns], "total": sum(rows[key].get(c, 0)
                                                                                        for c in columns)}
            for key in order if key in rows]


def _yoy(years: dict[int, dict[str, int]], today: dt.date) -> list[dict[str, Any]]:
    if not years:
        return []
    first, last = max(min(years), states.FIRST_YEAR), min(max(years), today.year + 1)
    out, before = [], None
    for y in range(first, last + 1):
        now = {m: years.get(y, {}).get(m, 0) for m in YEAR_METRICS}
        out.append({"year": y, "values": now,
                    "delta": {m: (now[m] - before[m]) if before is not None else None for m in YEAR_METRICS}})
        before = now
    return out


def compute(*, session: Session, scope: Scope, rules: RuleSet, today: dt.date) -> dict[str, Any]:
    """Every figure of the page, as plain data (the template renders the tables, statistics.js the charts)."""
    zones = _zones(session, scope)
    cities_of = {zone_id: city for zone_id, city, _ in zones}
    by_state: dict[str, dict[str, int]] = defaultdict(dict)
    for _, city, status in zones:
        by_state[city][status] = by_state[city].get(status, 0) + 1
    order = [c for c in JIANGSU_CITIES if c in by_state or c == scope.city] + sorted(
        c for c in by_state if c not in JIANGSU_CITIES)
    used_states = [s for s in states.STATES if any(s in row for row in by_state.values())]
    areas = _areas(session, list(cities_of), cities_of, rules)
    by_kind, by_chain = _institutions(session, scope)
    changes = _changes(session, scope, today)
    grades = _grades(session, scope)
    years = _years(session, scope)
    area_total = {k: sum(a[k] for a in areas.values()) for k in ("zones", "land_m2", "core_land_m2", "floor_m2")}
    return {
        "scope": scope.city or "全省", "today": today.isoformat(), "cities": order, "zone_count": len(zones),
        "states": [{"key": s, "label": states.STATES[s], "colour": STATE_COLOURS[s]} for s in used_states],
        "zones_by_state": _table(by_state, used_states, order),
        "state_totals": [sum(row.get(s, 0) for row in by_state.values()) for s in used_states],
        "areas": [{"city": c, **areas[c]} for c in order if c in areas], "area_total": area_total,
        "chains": CHAINS, "by_chain": _table(by_chain, CHAINS, order),
        "chain_totals": [sum(row.get(c, 0) for row in by_chain.values()) for c in CHAINS],
        "kinds": [{"key": k, "label": label} for k, label in KINDS.items()],
        "by_kind": _table(by_kind, list(KINDS), order),
        "kind_totals": [sum(row.get(k, 0) for row in by_kind.values()) for k in KINDS],
        "change_states": [{"key": k, "label": label} for k, label in CHANGE_STATES.items()],
        "changes": _table(changes, list(CHANGE_STATES), order),
        "change_totals": [sum(row.get(k, 0) for row in changes.values()) for k in CHANGE_STATES],
        "grades": [{"key": k, "label": label} for k, label in GRADES.items()],
        "by_grade": [{"year": y, "values": [grades[y].get(g, 0) for g in GRADES], "total": sum(grades[y].values())}
                     for y in sorted(grades)],
        "year_metrics": [{"key": k, "label": label} for k, label in YEAR_METRICS.items()],
        "years": _yoy(years, today),
    }


def charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The charts statistics.js draws (Chart.js configurations in short form), the same numbers as the tables."""
    def series(rows: list[dict[str, Any]], keys: list[dict[str, Any]], colours: list[str] | None = None
               ) -> list[dict[str, Any]]:
        return [{"label": k["label"], "data": [r["values"][i] for r in rows],
                 **({"color": colours[i]} if colours else {})} for i, k in enumerate(keys)]

    palette = ["#8c1c13", "#3182bd", "#31a354", "#fd8d3c", "#756bb1", "#636363"]
    cities = [r["key"] for r in data["zones_by_state"]]
    return [
        {"id": "chart-states", "type": "bar", "stacked": True, "labels": cities,
         "datasets": series(data["zones_by_state"], data["states"], [s["colour"] for s in data["states"]])},
        {"id": "chart-areas", "type": "bar", "stacked": False, "labels": [a["city"] for a in data["areas"]],
         "datasets": [{"label": "用地面积（公顷）", "data": [round(a["land_m2"] / 1e4, 2) for a in data["areas"]],
                       "color": palette[0]},
                      {"label": "建筑面积（万平方米）", "data": [round(a["floor_m2"] / 1e4, 2) for a in data["areas"]],
                       "color": palette[1]}]},
        {"id": "chart-chains", "type": "bar", "stacked": False, "labels": data["chains"],
         "datasets": [{"label": "服务机构（家）", "data": data["chain_totals"], "color": palette[2]}]},
        {"id": "chart-kinds", "type": "bar", "stacked": False, "labels": [k["label"] for k in data["kinds"]],
         "datasets": [{"label": "在册（家/个）", "data": data["kind_totals"], "color": palette[4]}]},
        {"id": "chart-changes", "type": "bar", "stacked": True, "labels": [r["key"] for r in data["changes"]],
         "datasets": series(data["changes"], data["change_states"], ["#31a354", "#fd8d3c", "#de2d26", "#9e9ac8"])},
        {"id": "chart-grades", "type": "bar", "stacked": True, "labels": [str(r["year"]) for r in data["by_grade"]],
         "datasets": series(data["by_grade"], data["grades"], ["#31a354", "#3182bd", "#de2d26"])},
        {"id": "chart-years", "type": "line", "stacked": False, "labels": [str(r["year"]) for r in data["years"]],
         "datasets": [{"label": m["label"], "data": [r["values"][m["key"]] for r in data["years"]], "color": palette[i]}
                      for i, m in enumerate(data["year_metrics"])]},
    ]


# ---- the province map ---------------------------------------------------------------------------------------------

def state_map_html(*, session: Session, scope: Scope, tiles: str, tianditu_key: str = "",
                   asset_base: str = "/assets") -> str:
    """Every zone of ``scope`` drawn with the layout reviewers are shown (the approved one, else the newest not
    withdrawn), coloured by its state, with a legend; one statement for the layouts."""
    approved_first = case((ZoneVersion.state == versions.APPROVED, 0), else_=1)
    stmt = (select(Zone.code, Zone.name, Zone.city, Zone.status, ZoneVersion.boundary)
            .join(ZoneVersion, ZoneVersion.zone_id == Zone.id)
            .where(scope.where(), ZoneVersion.state != versions.WITHDRAWN)
            .order_by(Zone.id, approved_first, ZoneVersion.number.desc()).ext(distinct_on(Zone.id)))
    rows = [(code, name, city, status, from_db(b)) for code, name, city, status, b in session.execute(stmt)]
    if rows:
        west, south, east, north = shapely.union_all([r[4] for r in rows]).bounds
    else:  # Jiangsu
        west, south, east, north = 116.3, 30.7, 121.9, 35.2
    heading = f"{scope.city or '江苏省'}集聚区分布（按状态着色）"
    m = ZoneMap(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True, zoom_start=8,
                asset_base=asset_base, page_title=heading, heading=heading)
    gcj = add_base_layers(m, default=tiles, tianditu_key=tianditu_key)
    features = [feature(geom, {"n": name, "c": city, "s": states.STATES.get(status, status),
                               "k": STATE_COLOURS.get(status, "#000000"), "href": f"/zones/{code}"})
                for code, name, city, status, geom in rows]
    if features:
        Overlay(features, name="集聚区（按状态着色）", asset_base=asset_base, tooltip="n",
                fields=[["n", "名称"], ["c", "设区市"], ["s", "状态"]],
                style="function (f) { return {color: f.properties.k, weight: 2, fillColor: f.properties.k, "
                      "fillOpacity: 0.5}; }").add_to(m)
        # a dot at each zone: a zone of a few hundred metres is less than a pixel at the province's scale
        dots = folium.FeatureGroup(name="集聚区位置（圆点）")
        for _code, name, city, status, geom in rows:
            at = geom.representative_point()
            folium.CircleMarker([at.y, at.x], radius=7, weight=2, color="#333333", fill=True, fill_opacity=0.9,
                                fill_color=STATE_COLOURS.get(status, "#000000"),
                                tooltip=html.escape(f"{name}（{city}，{states.STATES.get(status, status)}）")).add_to(dots)
        dots.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    PageScript(gcj).add_to(m)
    shown = sorted({r[3] for r in rows}, key=list(states.STATES).index)
    legend = "".join(f'<div><span style="display:inline-block;width:14px;height:14px;vertical-align:middle;'
                     f'background:{STATE_COLOURS[s]};border:1px solid #333"></span> {html.escape(states.STATES[s])}'
                     f"（{sum(r[3] == s for r in rows)}）</div>" for s in shown) or "没有集聚区"
    root = cast(Figure, m.get_root())
    root.html.add_child(Element(page.title_panel(heading, f"共 {len(rows)} 个集聚区")))
    root.html.add_child(Element(page.legend_panel(legend)))
    page.PageChrome().add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    return to_html(m, asset_base=asset_base)
