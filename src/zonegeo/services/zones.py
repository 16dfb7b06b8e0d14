"""Importing a zone folder and listing what is stored."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.geometry import from_db
from zonegeo.db.models import AuditEntry, Institution, Zone, ZoneVersion
from zonegeo.domain import versions
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, NotFoundError
from zonegeo.services import audit, changes, disclosure
from zonegeo.services.eligibility import zone_summary

if TYPE_CHECKING:  # reading files (pandas, pyogrio, geopandas) is imported by import_zone, not by listing zones
    from zonegeo.ingest.plan import ZoneBundle
    from zonegeo.ingest.safety import Limits


@dataclass(frozen=True)
class ImportResult:
    code: str
    created_zone: bool
    version: int
    new_version: bool
    institutions: dict[str, int]
    change_report_due: dt.date | None = None  # set when the import changed an approved layout materially
    unchanged: bool = False  # the folder's files are those of the last import: nothing was written
    kept_approved: bool = False  # users approved another layout since the last import: the files' layout was not used


def folder_sha256(folder: Path) -> str:
    """A fingerprint of every file in the folder (relative names and contents), to tell a repeated import."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _last_import(session: Session, code: str) -> dict[str, Any] | None:
    """What the last file import of this zone recorded in the audit log (version, folder_sha256), if any."""
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "import_zone",
                                                     AuditEntry.object == f"zone/{code}")
                           .order_by(AuditEntry.id.desc()).limit(1))
    return entry.after if entry is not None and isinstance(entry.after, dict) else None


def _imported_version(last: dict[str, Any] | None) -> int | None:
    """The version holding the layout of the last import's files (older records name it ``version``)."""
    if last is None:
        return None
    number = last.get("imported_version", last.get("version"))
    return number if isinstance(number, int) else None


def _approved_by_users_since(session: Session, zone: Zone, last: dict[str, Any] | None,
                             plan_sha256: str) -> ZoneVersion | None:
    """The layout users approved since the last file import (it stays), or None when there is none.
    Refused when the files bring a layout of their own: a file import never replaces a layout users approved."""
    approved = repo.approved_version(session, zone)
    imported = _imported_version(last)
    if approved is None or approved.content_sha256 == plan_sha256 or approved.number == imported:
        return None
    imported_sha256 = None
    if imported is not None:
        with contextlib.suppress(NotFoundError):
            imported_sha256 = repo.get_version(session, zone, imported).content_sha256
    if plan_sha256 != imported_sha256:
        raise ConflictError("layout_approved_since_import",
                            f"集聚区{zone.code}在上次文件导入后已批准了第{approved.number}版空间布局，"
                            "文件中的空间布局不会覆盖它；如需更改请上传新版本并报批",
                            {"zone": zone.code, "approved_version": approved.number, "imported_version": imported})
    return approved


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
                rules: RuleSet | None = None, calendar: WorkCalendar | None = None,
                limits: Limits | None = None) -> ImportResult:
    """Store a zone folder: the zone's facts, its layout as a new approved version when it changed,
    and its institutions. Everything is read and checked before anything is written.
    Importing the files of the last import again writes nothing; a layout users approved since the last
    import is kept (the files' institutions and facts are still taken), or refused when the files' layout
    changed too. ``limits``: what each file may cause (the defaults of ingest/safety.py when not given)."""
    from zonegeo.ingest.plan import read_zone_dir
    from zonegeo.ingest.safety import DEFAULT_LIMITS

    bundle = read_zone_dir(folder, limits=limits or DEFAULT_LIMITS)
    _duplicate_codes(bundle)
    today = today or dt.date.today()
    info = bundle.info
    fingerprint = folder_sha256(folder)
    plan = bundle.read.plan
    plan_sha256 = repo.plan_content_sha256(plan)
    kept, imported = None, None
    try:
        zone = repo.get_zone(session, info.code)
        created = False
    except NotFoundError:
        zone = Zone(code=info.code, name=info.name, city=info.city)
        session.add(zone)
        created = True
    if not created:
        last = _last_import(session, info.code)
        if last is not None and last.get("folder_sha256") == fingerprint:
            current = repo.approved_version(session, zone)
            return ImportResult(info.code, False, current.number if current else 0, False,
                                {"entered": 0, "left": 0, "updated": 0}, unchanged=True)
        kept = _approved_by_users_since(session, zone, last, plan_sha256)
        imported = _imported_version(last)
    zone.name, zone.city, zone.builder, zone.operator, zone.note = (
        info.name, info.city, info.builder, info.operator, info.note)
    if created:
        zone.status, zone.dates = info.status, dict(info.extra)
    session.flush()
    current = kept or repo.approved_version(session, zone)  # an import records the layout in force
    new_version = kept is None and (current is None or current.content_sha256 != plan_sha256)
    event = None
    if new_version:
        previous = repo.approved_version(session, zone)
        current = repo.add_version(session, zone, plan, state="approved", source_files=bundle.read.inputs,
                                   ingest_warnings=bundle.read.warnings, uploaded_by=uploaded_by,
                                   effective_on=today)
        if rules is not None and calendar is not None:
            event = changes.on_approved(session, zone, current, previous, rules, calendar)
    assert current is not None  # a zone with no approved layout always gets a new version above
    # An import records what is in force (an administrative act of the province): its institutions apply directly.
    # Uploads never do: they make a register draft, applied when approved (services/register.py).
    counts = repo.sync_institutions(session, zone, plan.institutions, today)
    audit.record(session, None, "import_zone", f"zone/{info.code}", actor=uploaded_by,
                 after={"version": current.number, "new_version": new_version, "institutions": counts,
                        "imported_version": imported if kept else current.number, "folder_sha256": fingerprint})
    return ImportResult(info.code, created, current.number, new_version, counts,
                        event.report_due if event is not None else None, kept_approved=kept is not None)


def list_zones(*, session: Session, only: list[Zone] | None = None,
               policy: disclosure.Disclosure = disclosure.REVIEWER) -> list[dict[str, Any]]:
    """Zone summaries with the layout ``policy`` is shown (its number, state and land area) and the count of
    active institutions: three queries whatever the number of zones (zones, shown versions, grouped counts)."""
    listed = repo.list_zones(session) if only is None else only
    ids = [z.id for z in listed]
    shown = disclosure.shown_versions(session, ids, policy)
    counts = dict(session.execute(
        select(Institution.zone_id, func.count()).where(Institution.zone_id.in_(ids), Institution.left_on.is_(None))
        .group_by(Institution.zone_id)).all()) if ids else {}
    out = []
    for zone in listed:
        version = shown.get(zone.id)
        land = geodesic_area_m2(from_db(version.boundary)) if version else None
        out.append(zone_summary(zone) | {
            "version": version.number if version else None,
            "version_state": version.state if version else None,
            "land_m2": round(land, 2) if land is not None else None,
            "institutions": counts.get(zone.id, 0),
        })
    return out


def get_zone(*, session: Session, code: str, policy: disclosure.Disclosure = disclosure.REVIEWER) -> dict[str, Any]:
    """One zone with the layout versions ``policy`` may see; ``version`` is the one it is shown by default."""
    zone = repo.get_zone(session, code)
    version = disclosure.shown_version(session, zone, policy)
    rows = disclosure.visible_versions(policy, [version_dict(v) for v in repo.list_versions(session, zone)])
    rows = disclosure.public_actors(policy, session, zone, rows)
    return zone_summary(zone) | {"version": version.number if version else None, "versions": rows,
                                 "four_sides": dict(zone.four_sides or {})}  # the 申报表's 四至 words


def version_dict(v) -> dict[str, Any]:
    return {"number": v.number, "state": v.state, "state_label": versions.STATES[v.state],
            "effective_on": v.effective_on.isoformat(), "uploaded_by": v.uploaded_by, "decided_by": v.decided_by,
            "source_files": v.source_files}


def list_versions(*, session: Session, code: str,
                  policy: disclosure.Disclosure = disclosure.REVIEWER) -> list[dict[str, Any]]:
    rows = [version_dict(v) for v in repo.list_versions(session, repo.get_zone(session, code))]
    return disclosure.visible_versions(policy, rows)
