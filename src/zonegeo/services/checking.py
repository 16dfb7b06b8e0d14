"""Checking a zone against the rules: from files (no database) or from what is stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.domain.check import Report, Warning_, check_plan
from zonegeo.domain.credit_code import is_natural_person_code
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import NotFoundError
from zonegeo.ingest.plan import PlanRead, read_plan


def _warnings(raw: list[dict]) -> list[Warning_]:
    return [Warning_(w["code"], w["message"], w.get("detail", {})) for w in raw]


def check_read(read: PlanRead, *, rules: RuleSet) -> Report:
    return check_plan(read.plan, rules, inputs=read.inputs, warnings=_warnings(read.warnings))


def check_files(*, files: dict[str, Path], crs: dict[str, str], rules: RuleSet) -> Report:
    return check_read(read_plan(files, crs), rules=rules)


def zone_summary(zone) -> dict:
    return {"code": zone.code, "name": zone.name, "city": zone.city, "builder": zone.builder,
            "operator": zone.operator, "status": zone.status, "published": zone.published}


def zone_report(*, session: Session, code: str, rules: RuleSet, approved_only: bool = False) -> Report:
    """The same report ``check`` gives, computed from the zone's current version and active institutions
    (the approved one only, for the public)."""
    zone = repo.get_zone(session, code)
    version = repo.approved_version(session, zone) if approved_only else repo.current_version(session, zone)
    if version is None:
        raise NotFoundError("zone_has_no_version", f"集聚区“{code}”尚无空间布局版本", {"code": code})
    plan = repo.to_domain_plan(version, repo.active_institutions(session, zone))
    info = zone_summary(zone) | {"version": version.number, "version_state": version.state,
                                 "effective_on": version.effective_on.isoformat()}
    return check_plan(plan, rules, inputs=version.source_files, warnings=_warnings(version.ingest_warnings),
                      zone=info)


def redact_for_public(report: dict) -> dict:
    """The report as the public may see it: no credit codes of natural persons, no credit-code findings."""
    inst = dict(report["institutions"])
    inst["outside"] = [o | {"credit_code": ""} if is_natural_person_code(o["credit_code"]) else o
                       for o in inst["outside"]]
    inst["invalid_credit_codes"] = []
    rules = [r | {"evidence": {}} if r["id"] == "institutions" else r for r in report["rules"]]
    return report | {"institutions": inst, "rules": rules}
