"""Publishing the public site (static files any web server can serve): published, non-revoked zones only,
their approved layout only, and public attributes only; each run makes again only what changed."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import folium
import orjson
from shapely.geometry import mapping, shape
from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, selectinload

import zonegeo
from zonegeo.db import repo
from zonegeo.db.models import AuditEntry, Institution, Zone, ZoneVersion
from zonegeo.domain import versions
from zonegeo.domain.check import check_plan
from zonegeo.domain.rules import RuleSet
from zonegeo.maps.assets import ASSET_DIR
from zonegeo.maps.public import SiteFolder, announcements_page, index_page, province_map, sync_assets
from zonegeo.maps.render import render, to_html
from zonegeo.services import announcements, audit, disclosure


def set_published(*, session: Session, code: str, published: bool, actor: str = "cli") -> None:
    zone = repo.get_zone(session, code)
    if zone.published == published:  # nothing changes, nothing to audit (Docker sets it at every start)
        return
    before, zone.published = zone.published, published
    audit.record(session, None, "set_published", f"zone/{code}", actor=actor, before={"published": before},
                 after={"published": published})


def public_zones(session: Session) -> list[tuple[Zone, Any]]:
    """(zone, approved version) of every zone that may appear in public."""
    zones = session.scalars(select(Zone).where(disclosure.public_zones_clause()).order_by(Zone.city, Zone.code))
    out = []
    for zone in zones:
        version = disclosure.shown_version(session, zone, disclosure.PUBLIC)
        if version is not None:  # drafts and submissions never go public
            out.append((zone, version))
    return out


def data_as_of(session: Session) -> tuple[int, dt.datetime | None]:
    """The newest change the export includes: the newest audit entry (every write appends one) — its id and time."""
    row = session.execute(select(AuditEntry.id, AuditEntry.at).order_by(AuditEntry.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else (0, None)


# ---- incremental publishing -----------------------------------------------------------------------------------
# Every file of the site is made from inputs named by a key (services and maps code, rules, the zone's facts,
# approved layout and active register, the day for the zone maps' 制图日期); a run computes the keys with one
# query for the zones and one for the 公告, and writes only the files whose key changed or which are no longer as
# written (missing, truncated, edited). The manifest (maps/public.py: SiteFolder) keeps the keys.

_CHUNK = 50  # zones loaded at once to be made again
_SEP = "\x1f"  # between the fields of one institution in its fingerprint (no text field holds it)
# The modules whose code shapes the published files: a change to any of them makes every file again.
_RENDERER_SOURCES = ("zonegeo/maps", "zonegeo/domain", "zonegeo/services/disclosure.py",
                     "zonegeo/services/announcements.py", "zonegeo/services/publishing.py")


@functools.lru_cache(maxsize=1)
def renderer_version() -> str:
    """A fingerprint of the code that renders the site (its sources, zonegeo's and folium's versions)."""
    root = Path(zonegeo.__file__).resolve().parent.parent
    h = hashlib.sha256(f"{zonegeo.__version__}|{folium.__version__}".encode())
    for name in _RENDERER_SOURCES:
        path = root / name
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(source.relative_to(root).as_posix().encode() + b"\0" + source.read_bytes())
    return h.hexdigest()


def _digest(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _register_fingerprint() -> Any:
    """md5 of a zone's active institutions (every stored attribute, in the order the plan lists them) and their
    count, computed by the database: a correlated subquery of ``_zone_keys``."""
    fields = func.concat_ws(_SEP, Institution.id, Institution.name, Institution.credit_code, Institution.kind,
                            cast(Institution.services, Text), cast(Institution.chain, Text), Institution.kind_label,
                            cast(Institution.chain_other, Text), func.encode(func.ST_AsEWKB(Institution.location), "hex"),
                            Institution.address, Institution.building, Institution.floor, Institution.located_by)
    return (select(func.md5(func.string_agg(fields, aggregate_order_by(literal("\n"), Institution.id))).label("md5"),
                   func.count().label("count"))
            .where(Institution.zone_id == Zone.id, Institution.left_on.is_(None)).lateral("register"))


def _zone_keys(session: Session, rules_hash: str) -> dict[str, tuple[int, int, str]]:
    """code → (zone id, approved version id, content key) of every zone the public may see, in one query, in the
    order of the site (city, code). The content key names everything the zone's page and facts are made from."""
    register = _register_fingerprint()
    stmt = (select(Zone.id, Zone.code, Zone.name, Zone.city, Zone.builder, Zone.operator, Zone.status,
                   cast(Zone.four_sides, Text), ZoneVersion.id, ZoneVersion.number, ZoneVersion.effective_on,
                   ZoneVersion.content_sha256, register.c.md5, register.c.count)
            .join(ZoneVersion, (ZoneVersion.zone_id == Zone.id) & (ZoneVersion.state == versions.APPROVED))
            .join(register, literal(True))
            .where(disclosure.public_zones_clause()).order_by(Zone.city, Zone.code))
    renderer = renderer_version()
    return {row[1]: (row[0], row[8], _digest(renderer, rules_hash, *row[1:])) for row in session.execute(stmt)}


def _load(session: Session, todo: list[tuple[int, int]]) -> Iterator[tuple[Zone, ZoneVersion, list[Institution]]]:
    """The zones, approved layouts (with buildings) and active institutions of (zone id, version id) pairs, in three
    queries per chunk rather than four per zone."""
    for start in range(0, len(todo), _CHUNK):
        chunk = todo[start:start + _CHUNK]
        zones = {z.id: z for z in session.scalars(select(Zone).where(Zone.id.in_([z for z, _ in chunk])))}
        layouts = {v.id: v for v in session.scalars(select(ZoneVersion).where(ZoneVersion.id.in_([v for _, v in chunk]))
                                                     .options(selectinload(ZoneVersion.buildings)))}
        members: dict[int, list[Institution]] = {z: [] for z, _ in chunk}
        for row in session.scalars(select(Institution).where(Institution.zone_id.in_(list(members)),
                                                             Institution.left_on.is_(None)).order_by(Institution.id)):
            members[row.zone_id].append(row)
        for zone_id, version_id in chunk:
            yield zones[zone_id], layouts[version_id], members[zone_id]


def _render_zone(zone: Zone, version: ZoneVersion, institutions: list[Institution], rules: RuleSet, *, tiles: str,
                 tianditu_key: str) -> tuple[bytes, dict[str, Any]]:
    """A zone's public page and its feature (public facts and boundary), from the approved layout."""
    plan = repo.to_domain_plan(version, institutions)
    report = check_plan(plan, rules)
    subtitle = (f"{zone.city} · 建设主体：{zone.builder} · 空间布局版本{version.number}"
                f"（{version.effective_on:%Y年%m月%d日}起）")
    m = render(plan, report, title=zone.name, subtitle=subtitle, tiles=tiles, asset_base="../assets",
               policy=disclosure.PUBLIC, tianditu_key=tianditu_key, four_sides=zone.four_sides)
    facts = {"code": zone.code, "name": zone.name, "city": zone.city, "builder": zone.builder,
             "operator": zone.operator, "land_m2": round(report.areas["land_m2"], 1),
             "core_land_m2": round(report.areas["core_land_m2"], 1),  # the core within the 四至, as reported
             "institutions": report.institutions["inside"], "version": version.number,
             "effective_on": version.effective_on.isoformat(),
             "four_sides": dict(zone.four_sides or {})}  # the 申报表's words, beside the drawn boundary
    page = to_html(m, asset_base="../assets").encode("utf-8")
    return page, {"type": "Feature", "properties": facts, "geometry": mapping(plan.boundary)}


def _today() -> dt.date:
    """The day of the zone maps' 制图日期 (maps/render.py reads the same clock)."""
    return dt.date.today()


def _zone_files(code: str) -> tuple[str, str]:
    return f"zones/{code}.html", f"zones/{code}.geojson"


def _remove_strays(site: SiteFolder, codes: Iterable[str]) -> list[str]:
    """Files in zones/ that belong to no zone of the site (a zone no longer public, a run that failed half-way, a
    site written before the manifest): removed, so that nothing unpublished stays online."""
    wanted = {name for code in codes for name in _zone_files(code)}
    removed = []
    for path in sorted((site.root / "zones").glob("*")):
        rel = path.relative_to(site.root).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
            removed.append(rel)
    return removed


def publish(*, session: Session, rules: RuleSet, out_dir: Path, tiles: str, tianditu_key: str = "",
            actor: str = "cli", force: bool = False) -> dict[str, Any]:
    """Write the static site, making again only the files whose inputs changed (``force``: every file). It is a
    snapshot: lifecycle events (批复, 取消称号 …) do not rewrite it; the app's own pages are current at once. The
    result says how old its data is (``data_as_of``), when it ran, and which zones' pages it made again."""
    with SiteFolder(out_dir).locked() as site:
        result = _publish(session=session, site=site, rules=rules, tiles=tiles, tianditu_key=tianditu_key,
                          force=force)
        site.save()
    audit.record(session, None, "publish", "site", actor=actor, after=result)
    return result


def _publish(*, session: Session, site: SiteFolder, rules: RuleSet, tiles: str, tianditu_key: str,
             force: bool) -> dict[str, Any]:
    audit_id, as_of = data_as_of(session)
    now = dt.datetime.now(audit.BEIJING)
    as_of_text = as_of.astimezone(audit.BEIJING).strftime("%Y年%m月%d日 %H:%M") if as_of else "（无记录）"
    generated = f"数据截至{as_of_text}（审计日志第{audit_id}条），生成于{now:%Y年%m月%d日 %H:%M}"
    if force:
        site.groups.clear()
    sync_assets(site, ASSET_DIR)
    look = {"tiles": tiles, "tianditu_key": hashlib.sha256(tianditu_key.encode()).hexdigest()}
    keys = _zone_keys(session, hashlib.sha256(repr(rules).encode()).hexdigest())
    # the zone page shows its 制图日期 (maps/render.py): it is made again on another day; its facts are not
    page_keys = {code: _digest(key, look, _today().isoformat()) for code, (_, _, key) in keys.items()}
    features: dict[str, dict[str, Any]] = {}
    todo = [(zone_id, version_id) for code, (zone_id, version_id, _) in keys.items()
            if not site.current(f"zone:{code}", page_keys[code])]
    for zone, version, institutions in _load(session, todo):
        code = zone.code
        page, features[code] = _render_zone(zone, version, institutions, rules, tiles=tiles, tianditu_key=tianditu_key)
        html_file, feature_file = _zone_files(code)
        feature = orjson.dumps(features[code])
        site.write(f"zone:{code}", page_keys[code], {html_file: page, feature_file: feature},
                   feature=hashlib.sha256(feature).hexdigest())
    rendered = list(features)
    # the index, the province map and zones.geojson show the zones' features: made again when one of them changed
    # (an institution renamed changes a zone's page, not its facts)
    site_key = _digest(renderer_version(), look, [(code, site.note(f"zone:{code}", "feature")) for code in keys])
    if not site.current("site", site_key):
        for code in keys:
            if code not in features:  # unchanged zones: their feature as written beside their page
                features[code] = orjson.loads((site.root / _zone_files(code)[1]).read_bytes())
        ordered = [features[code] for code in keys]
        summaries = [f["properties"] | {"boundary": shape(f["geometry"])} for f in ordered]
        province = province_map(summaries, tiles=tiles, asset_base="assets", tianditu_key=tianditu_key)
        site.write("site", site_key, {
            "province.html": to_html(province, asset_base="assets").encode("utf-8"),
            "index.html": index_page(summaries, generated).encode("utf-8"),
            "zones.geojson": orjson.dumps({"type": "FeatureCollection", "features": ordered})})
        site.notes["generated"] = generated
    rows = announcements.announcements(session=session)
    rows_key = _digest(renderer_version(), rows)
    if not site.current("announcements", rows_key):
        site.write("announcements", rows_key,
                   {"announcements.html": announcements_page(rows, generated).encode("utf-8")})
    removed = sorted(group.removeprefix("zone:") for group in list(site.groups)
                     if group.startswith("zone:") and group.removeprefix("zone:") not in keys)
    for code in removed:  # no longer public (withdrawn, revoked): its page and feature go
        site.forget(f"zone:{code}")
    _remove_strays(site, keys)
    shown = site.notes.get("generated", generated)  # what the index says: the data unchanged since
    return {"zones": list(keys), "out_dir": str(site.root), "data_audit_id": audit_id,
            "data_as_of": as_of.isoformat() if as_of else None, "generated_at": now.isoformat(timespec="seconds"),
            "rendered": rendered, "removed": removed,
            "summary": f"{shown}；本次重新生成{len(rendered)}个集聚区页面，{len(keys) - len(rendered)}个未变"
                       + (f"，撤下{len(removed)}个" if removed else "")}
