"""Importing a zone folder and listing what is stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import Zone
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError, NotFoundError
from zonegeo.ingest.plan import ZoneBundle, read_zone_dir
from zonegeo.services import audit, changes
from zonegeo.services.checking import zone_summary


@dataclass(frozen=True)
class ImportResult:
    code: str
    created_zone: bool
    version: int
    new_version: bool
    institutions: dict[str, int]
    change_report_due: dt.date | None = None  # set when the import changed an approved layout materially


def _duplicate_codes(bundle: ZoneBundle) -> None:
    seen: dict[str, str] = {}
    for inst in bundle.read.plan.institutions:
        code = inst.credit_code.strip().upper()
        if code and code in seen:
            raise InputError("duplicate_credit_code",
                             f"机构“{inst.name}”与“{seen[code]}”的统一社会信用代码{code}重复",
                             {"file": bundle.files["institutions"].name, "credit_code": code})
        seen[code] = inst.name


def import_zone(*, session: Session, folder: Path, uploaded_by: str = "cli", today: dt.date | None = None,
                rules: RuleSet | None = None, calendar: WorkCalendar | None = None) -> ImportResult:
    """Store a zone folder: the zone's facts, its layout as a new approved version when it changed,
    and its institutions. Everything is read and checked before anything is written."""
    bundle = read_zone_dir(folder)
    _duplicate_codes(bundle)
    today = today or dt.date.today()
    info = bundle.info
    try:
        zone = repo.get_zone(session, info.code)
        created = False
    except NotFoundError:
        zone = Zone(code=info.code, name=info.name, city=info.city)
        session.add(zone)
        created = True
    zone.name, zone.city, zone.builder, zone.operator, zone.note = (
        info.name, info.city, info.builder, info.operator, info.note)
    if created:
        zone.status, zone.dates = info.status, dict(info.extra)
    session.flush()
    current = repo.current_version(session, zone)
    plan = bundle.read.plan
    new_version = current is None or current.content_sha256 != repo.plan_content_sha256(plan)
    event = None
    if new_version:
        previous = repo.approved_version(session, zone)
        current = repo.add_version(session, zone, plan, state="approved", source_files=bundle.read.inputs,
                                   ingest_warnings=bundle.read.warnings, uploaded_by=uploaded_by,
                                   effective_on=today)
        if rules is not None and calendar is not None:
            event = changes.on_approved(session, zone, current, previous, rules, calendar)
    counts = repo.sync_institutions(session, zone, plan.institutions, today)
    audit.record(session, None, "import_zone", f"zone/{info.code}", actor=uploaded_by,
                 after={"version": current.number, "new_version": new_version, "institutions": counts})
    return ImportResult(info.code, created, current.number, new_version, counts,
                        event.report_due if event is not None else None)


def list_zones(*, session: Session, only: list[Zone] | None = None) -> list[dict[str, Any]]:
    out = []
    for zone in repo.list_zones(session) if only is None else only:
        version = repo.current_version(session, zone)
        land = geodesic_area_m2(repo.to_domain_plan(version, []).boundary) if version else None
        out.append(zone_summary(zone) | {
            "version": version.number if version else None,
            "version_state": version.state if version else None,
            "land_m2": round(land, 2) if land is not None else None,
            "institutions": len(repo.active_institutions(session, zone)),
        })
    return out


def get_zone(*, session: Session, code: str) -> dict[str, Any]:
    zone = repo.get_zone(session, code)
    version = repo.current_version(session, zone)
    versions = [version_dict(v) for v in repo.list_versions(session, zone)]
    return zone_summary(zone) | {"version": version.number if version else None, "versions": versions}


def version_dict(v) -> dict[str, Any]:
    return {"number": v.number, "state": v.state, "state_label": changes.STATE_LABELS[v.state],
            "effective_on": v.effective_on.isoformat(), "uploaded_by": v.uploaded_by, "decided_by": v.decided_by,
            "source_files": v.source_files}


def list_versions(*, session: Session, code: str) -> list[dict[str, Any]]:
    return [version_dict(v) for v in repo.list_versions(session, repo.get_zone(session, code))]
