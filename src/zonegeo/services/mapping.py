"""Rendering zone maps: from stored versions (web, CLI) or straight from files (``check --map``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.domain import versions
from zonegeo.domain.check import Report, check_plan
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import NotFoundError
from zonegeo.ingest.plan import PlanRead
from zonegeo.maps.render import render, to_html
from zonegeo.services import disclosure, eligibility


def zone_map_html(*, session: Session, code: str, rules: RuleSet, tiles: str, self_contained: bool = False,
                  asset_base: str = "/assets", version_number: int | None = None, audience: str = "reviewer",
                  tianditu_key: str = "") -> str:
    """The map of the layout ``audience`` is shown (``disclosure.shown_version``), or of version
    ``version_number`` for reviewers, with what ``audience`` may see of it."""
    policy = disclosure.for_audience(audience)
    zone = repo.get_zone(session, code)
    if version_number is None:
        version = disclosure.shown_version(session, zone, policy)
    else:
        version = repo.get_version(session, zone, version_number)
        if not policy.sees_version(version.state):  # not revealed: as if it did not exist
            raise NotFoundError("version_not_found", f"集聚区“{code}”没有版本{version_number}",
                                {"code": code, "version": version_number})
    if version is None:
        raise NotFoundError("zone_has_no_version", f"集聚区“{code}”尚无空间布局版本", {"code": code})
    # a draft version's map shows the register draft uploaded with it, as its report counts it
    plan = repo.to_domain_plan(version, eligibility.institutions_for_version(session, zone, version)
                               if version_number is not None else repo.active_institutions(session, zone))
    report = check_plan(plan, rules)
    state = versions.STATES[version.state]
    subtitle = f"{zone.city} · 空间布局版本{version.number}（{state}，{version.effective_on:%Y年%m月%d日}起）"
    kind = "现场核查地图" if self_contained else f"空间布局版本{version.number}地图"
    m = render(plan, report, title=zone.name, subtitle=subtitle, tiles=tiles, asset_base=asset_base,
               policy=policy, tianditu_key=tianditu_key, page_title=f"{zone.name} · {kind}",
               heading=f"{zone.name}{kind}", four_sides=zone.four_sides)
    return to_html(m, self_contained=self_contained, asset_base=asset_base)


def write_check_map(*, read: PlanRead, report: Report, title: str, out: Path, tiles: str) -> None:
    m = render(read.plan, report, title="申报文件核验地图", subtitle=title, tiles=tiles,
               page_title=f"申报文件核验地图 · {title}", heading="申报文件核验地图")
    out.write_text(to_html(m, self_contained=True), encoding="utf-8")


def diff_map_html(*, session: Session, code: str, a: int, b: int, rules: RuleSet, tiles: str,
                  asset_base: str = "/assets") -> str:
    from zonegeo.domain.diff import Tolerances, compare_plans
    from zonegeo.maps.diff import render_diff

    zone = repo.get_zone(session, code)
    before = repo.to_domain_plan(repo.get_version(session, zone, a), [])
    after = repo.to_domain_plan(repo.get_version(session, zone, b), [])
    diff = compare_plans(before, after, Tolerances.from_rules(rules.change))
    m = render_diff(before, after, diff, title=zone.name, subtitle=f"版本{a} → 版本{b}", tiles=tiles,
                    asset_base=asset_base)
    return to_html(m, asset_base=asset_base)
