"""Publishing the public site (static files any web server can serve): published, non-revoked zones only,
their approved layout only, and public attributes only."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import orjson
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import AuditEntry, Zone
from zonegeo.domain.check import check_plan
from zonegeo.domain.rules import RuleSet
from zonegeo.maps.assets import ASSET_DIR
from zonegeo.maps.public import announcements_page, index_page, province_map
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


def publish(*, session: Session, rules: RuleSet, out_dir: Path, tiles: str, tianditu_key: str = "",
            actor: str = "cli") -> dict[str, Any]:
    """Write the static site. It is a snapshot: lifecycle events (批复, 取消称号 …) do not rewrite it; the app's own
    pages are current at once. The result says how old its data is (``data_as_of``) and when it ran."""
    audit_id, as_of = data_as_of(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (out_dir / "zones", out_dir / "assets"):
        shutil.rmtree(stale, ignore_errors=True)
    shutil.copytree(ASSET_DIR, out_dir / "assets", ignore=shutil.ignore_patterns("LICENSE*", "*.txt"))
    (out_dir / "zones").mkdir()
    summaries, features = [], []
    for zone, version in public_zones(session):
        plan = repo.to_domain_plan(version, repo.active_institutions(session, zone))
        report = check_plan(plan, rules)
        subtitle = (f"{zone.city} · 建设主体：{zone.builder} · 空间布局版本{version.number}"
                    f"（{version.effective_on:%Y年%m月%d日}起）")
        m = render(plan, report, title=zone.name, subtitle=subtitle, tiles=tiles, asset_base="../assets",
                   policy=disclosure.PUBLIC, tianditu_key=tianditu_key, four_sides=zone.four_sides)
        (out_dir / "zones" / f"{zone.code}.html").write_text(to_html(m, asset_base="../assets"), encoding="utf-8")
        facts = {"code": zone.code, "name": zone.name, "city": zone.city, "builder": zone.builder,
                 "operator": zone.operator, "land_m2": round(report.areas["land_m2"], 1),
                 "core_land_m2": round(report.areas["core_land_m2"], 1),  # the core within the 四至, as reported
                 "institutions": report.institutions["inside"], "version": version.number,
                 "effective_on": version.effective_on.isoformat(),
                 "four_sides": dict(zone.four_sides or {})}  # the 申报表's words, beside the drawn boundary
        summaries.append(facts | {"boundary": plan.boundary})
        features.append({"type": "Feature", "properties": facts, "geometry": mapping(plan.boundary)})
    now = dt.datetime.now(audit.BEIJING)
    as_of_text = as_of.astimezone(audit.BEIJING).strftime("%Y年%m月%d日 %H:%M") if as_of else "（无记录）"
    generated = f"数据截至{as_of_text}（审计日志第{audit_id}条），生成于{now:%Y年%m月%d日 %H:%M}"
    province = province_map(summaries, tiles=tiles, asset_base="assets", tianditu_key=tianditu_key)
    (out_dir / "province.html").write_text(to_html(province, asset_base="assets"), encoding="utf-8")
    (out_dir / "index.html").write_text(index_page(summaries, generated), encoding="utf-8")
    (out_dir / "announcements.html").write_text(
        announcements_page(announcements.announcements(session=session), generated), encoding="utf-8")
    (out_dir / "zones.geojson").write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    result = {"zones": [s["code"] for s in summaries], "out_dir": str(out_dir), "data_audit_id": audit_id,
              "data_as_of": as_of.isoformat() if as_of else None, "generated_at": now.isoformat(timespec="seconds"),
              "summary": generated}
    audit.record(session, None, "publish", "site", actor=actor, after=result)
    return result
