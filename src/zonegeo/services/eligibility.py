"""Checking a zone against the rules: from files (no database) or from what is stored.

`zonegeo check` uses ``check_read`` only: the database side (SQLAlchemy, GeoAlchemy2, the models, ``repo``,
``disclosure``) is imported by the functions that read what is stored, and the file readers (pandas, pyogrio,
geopandas) by the caller that reads the files — importing this module loads neither (tests/test_cli_startup.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zonegeo.domain import register
from zonegeo.domain.check import Report, Warning_, check_plan
from zonegeo.domain.credit_code import normalize
from zonegeo.domain.lifecycle import REVOKED_STATES
from zonegeo.domain.model import Institution as DomainInstitution
from zonegeo.domain.model import ZonePlan
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import NotFoundError

if TYPE_CHECKING:  # annotations only: imported at run time by the functions that use them
    from sqlalchemy.orm import Session

    from zonegeo.db.models import Institution, RegisterDraft, Zone, ZoneVersion
    from zonegeo.ingest.plan import PlanRead
    from zonegeo.services import disclosure


def _warnings(raw: list[dict]) -> list[Warning_]:
    return [Warning_(w["code"], w["message"], w.get("detail", {})) for w in raw]


def check_read(read: PlanRead, *, rules: RuleSet) -> Report:
    return with_located(check_plan(read.plan, rules, inputs=read.inputs, warnings=_warnings(read.warnings)), read.plan)


def zone_summary(zone) -> dict:
    return {"code": zone.code, "name": zone.name, "city": zone.city, "builder": zone.builder,
            "operator": zone.operator, "status": zone.status, "published": zone.published}


def zone_report(*, session: Session, code: str, rules: RuleSet,
                policy: disclosure.Disclosure | None = None) -> Report:
    """The same report ``check`` gives, computed from the layout ``policy`` (default: the reviewer's) is shown
    (the approved one; for a reviewer of a zone with none yet, the newest) and the zone's active institutions.
    Not yet redacted: see ``disclosed_report``."""
    from zonegeo.db import repo
    from zonegeo.services import disclosure

    policy = disclosure.REVIEWER if policy is None else policy
    zone = repo.get_zone(session, code)
    version = disclosure.shown_version(session, zone, policy)
    if version is None:
        raise NotFoundError("zone_has_no_version", f"集聚区“{code}”尚无空间布局版本", {"code": code})
    plan = repo.to_domain_plan(version, repo.active_institutions(session, zone))
    info = zone_summary(zone) | {"version": version.number, "version_state": version.state,
                                 "effective_on": version.effective_on.isoformat()}
    warnings = [*_warnings(version.ingest_warnings), *claimed_elsewhere(session=session, zone=zone, plan=plan)]
    return with_located(check_plan(plan, rules, inputs=version.source_files, warnings=warnings, zone=info), plan)


# ---- the institutions a report counts ------------------------------------------------------------------------
# The zone's report and the public map count the zone's approved (active) institutions only. A layout draft
# uploaded with an institutions file counts that register draft's rows while both are under way; a register
# draft uploaded on its own is checked against the approved layout (or, before any approval, the newest).

def institutions_for_version(session: Session, zone: Zone,
                             version: ZoneVersion) -> list[Institution] | tuple[DomainInstitution, ...]:
    """What the report of layout ``version`` counts: the rows of the register draft uploaded with it while
    both are under way (draft or submitted), else the zone's active institutions."""
    from zonegeo.db import repo

    if version.state in register.PENDING:
        tied = repo.tied_register_draft(session, zone, version.number)
        if tied is not None and tied.state in register.PENDING:
            return repo.register_institutions(tied)
    return repo.active_institutions(session, zone)


def register_layout(session: Session, zone: Zone, draft: RegisterDraft) -> ZoneVersion | None:
    """The layout a register draft is checked against: its own version, else the approved (or newest) one."""
    from zonegeo.db import repo

    if draft.version_number is not None:
        return repo.get_version(session, zone, draft.version_number)
    return repo.approved_version(session, zone) or repo.latest_version(session, zone)


def register_report(*, session: Session, zone: Zone, draft: RegisterDraft | None, rules: RuleSet,
                    layout: ZoneVersion | None = None) -> Report:
    """The eligibility report of register ``draft`` (its rows) on its layout; with ``draft`` None, of the zone's
    approved register (its active institutions) on ``layout``: the two a reviewer compares."""
    from zonegeo.db import repo

    layout = layout if layout is not None else register_layout(session, zone, draft) if draft is not None else None
    if layout is None:
        raise NotFoundError("zone_has_no_version", f"集聚区“{zone.code}”尚无空间布局版本", {"code": zone.code})
    institutions = repo.register_institutions(draft) if draft is not None else repo.active_institutions(session, zone)
    plan = repo.to_domain_plan(layout, institutions)
    info = zone_summary(zone) | {"version": layout.number, "version_state": layout.state,
                                 "effective_on": layout.effective_on.isoformat()}
    if draft is not None:
        info |= {"register_draft": draft.number, "register_state": draft.state}
    raw = draft.ingest_warnings if draft is not None else []
    warnings = [*_warnings(raw), *claimed_elsewhere(session=session, zone=zone, plan=plan)]
    inputs = draft.source_files if draft is not None else layout.source_files
    return with_located(check_plan(plan, rules, inputs=inputs, warnings=warnings, zone=info), plan)


def with_located(report: Report, plan: ZonePlan) -> Report:
    """The report's institution list says how each institution was located (按坐标, 按楼栋定位 …) and whether it
    is inside: ``institutions.located``, one entry per institution in the plan's order (``index``)."""
    outside = {o["index"] for o in report.institutions.get("outside", [])}
    platforms = {p["index"]: p["inside"] for p in report.institutions.get("platforms", [])}
    report.institutions["located"] = [
        {"index": k, "name": i.name, "kind": i.kind.value, "kind_label": i.label, "building": i.building,
         "floor": i.floor, "located_by": i.located_by, "located_label": register.located_label(i.located_by),
         "inside": platforms.get(k, k not in outside)}
        for k, i in enumerate(plan.institutions)]
    return report


def disclosed_report(*, session: Session, code: str, rules: RuleSet, policy: disclosure.Disclosure) -> dict[str, Any]:
    """The report as ``policy`` may see it: what the API returns and the zone page shows."""
    from zonegeo.services import disclosure

    return disclosure.report(policy, zone_report(session=session, code=code, rules=rules, policy=policy).to_dict())


def claimed_elsewhere(*, session: Session, zone: Zone, plan: ZonePlan) -> list[Warning_]:
    """One institution counted by two zones: the active institutions of other zones with one of this plan's
    credit codes (one query; codes compared without spaces, in upper case)."""
    from sqlalchemy import func, select

    from zonegeo.db.models import Institution, Zone

    ours: dict[str, list] = {}
    for inst in plan.institutions:
        code = normalize(inst.credit_code)
        if code:
            ours.setdefault(code, []).append(inst)
    if not ours:
        return []
    stored = func.upper(func.regexp_replace(Institution.credit_code, r"\s", "", "g"))
    rows = session.execute(
        select(stored.label("code"), Institution.name, Institution.address, Zone.code.label("zone_code"),
               Zone.name.label("zone_name"))
        .join(Zone, Zone.id == Institution.zone_id)
        .where(Institution.zone_id != zone.id, Institution.left_on.is_(None),
               Zone.status.not_in(REVOKED_STATES), stored.in_(list(ours)))
        .order_by(Zone.code, Institution.name)).all()
    claims = [{"credit_code": r.code, "name": mine.name, "address": mine.address, "other_zone": r.zone_code,
               "other_zone_name": r.zone_name, "other_name": r.name, "other_address": r.address}
              for r in rows for mine in ours[r.code]]
    if not claims:
        return []
    listed = "；".join(
        f"{c['name']}（{c['credit_code']}）同时登记于集聚区{c['other_zone']}（{c['other_zone_name']}）："
        f"本区地址“{c['address'] or '未填写'}”，该区地址“{c['other_address'] or '未填写'}”" for c in claims)
    return [Warning_("credit_code_in_other_zone",
                     f"以下机构的统一社会信用代码也登记在其他集聚区，请核实机构实际入驻哪个集聚区：{listed}",
                     {"claims": claims})]
