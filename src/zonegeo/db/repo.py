"""Reading and writing zones, versions and institutions; conversion between rows and domain values."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from zonegeo.db.geometry import from_db, to_db, to_db_hex
from zonegeo.db.models import SRID, Building, Institution, RegisterDraft, Zone, ZoneVersion
from zonegeo.domain import model, register, versions
from zonegeo.errors import NotFoundError


def get_zone(session: Session, code: str) -> Zone:
    zone = session.scalar(select(Zone).where(Zone.code == code))
    if zone is None:
        raise NotFoundError("zone_not_found", f"集聚区“{code}”不存在", {"code": code})
    return zone


def list_zones(session: Session) -> list[Zone]:
    return list(session.scalars(select(Zone).order_by(Zone.city, Zone.code)))


def latest_version(session: Session, zone: Zone) -> ZoneVersion | None:
    """The newest version, whatever its state (a draft just uploaded, say), except a withdrawn draft: it is kept
    for the record, but uploads do not carry over from it and reviewers are not shown it."""
    stmt = (select(ZoneVersion).where(ZoneVersion.zone_id == zone.id, ZoneVersion.state != versions.WITHDRAWN)
            .order_by(ZoneVersion.number.desc())
            .options(selectinload(ZoneVersion.buildings)).limit(1))
    return session.scalar(stmt)


def lock_zone(session: Session, zone: Zone) -> None:
    """Serialise writers of one zone (version numbers, state changes) on its row."""
    session.execute(select(Zone.id).where(Zone.id == zone.id).with_for_update())


def approved_version(session: Session, zone: Zone) -> ZoneVersion | None:
    """The layout in force: the one approved version (the database allows no second), or None."""
    return session.scalar(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id,
                                                    ZoneVersion.state == versions.APPROVED)
                          .options(selectinload(ZoneVersion.buildings)))


def set_version_state(session: Session, zone: Zone, version: ZoneVersion, target: str) -> ZoneVersion | None:
    """The one place a version changes state. Entering 'approved' first supersedes the approved version (which
    is returned), so that there is never a second one. The caller has checked the transition
    (``domain.versions.step``) and locked the zone."""
    previous = None
    if versions.supersedes(target):
        previous = approved_version(session, zone)
        if previous is not None and previous.id != version.id:
            previous.state = versions.SUPERSEDED
            session.flush()  # before the new approval: the partial unique index allows one approved version
        else:
            previous = None
    version.state = target
    session.flush()
    return previous


def list_versions(session: Session, zone: Zone) -> list[ZoneVersion]:
    return list(session.scalars(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id)
                                .order_by(ZoneVersion.number)))


def get_version(session: Session, zone: Zone, number: int) -> ZoneVersion:
    version = session.scalar(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id, ZoneVersion.number == number)
                             .options(selectinload(ZoneVersion.buildings)))
    if version is None:
        raise NotFoundError("version_not_found", f"集聚区“{zone.code}”没有版本{number}",
                            {"code": zone.code, "version": number})
    return version


def active_institutions(session: Session, zone: Zone) -> list[Institution]:
    stmt = select(Institution).where(Institution.zone_id == zone.id, Institution.left_on.is_(None))
    return list(session.scalars(stmt.order_by(Institution.id)))


def rows_sha256(rows: list[dict[str, Any]]) -> str:
    """A fingerprint of a register draft: of the register's content (its rows in order)."""
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_content_sha256(plan: model.ZonePlan) -> str:
    """A fingerprint of the spatial layout (boundary, core, buildings), independent of vertex start/order.
    The buildings' footprints are normalised and written as WKB in one vectorised call each; the bytes hashed are
    those of one footprint at a time, as they always were (stored fingerprints stay comparable)."""
    cached = _LAST_FINGERPRINT
    if cached is not None and cached[0]() is plan:  # import_zone asks first, then add_version, for the same plan
        return cached[1]
    h = hashlib.sha256()
    for geom in (plan.boundary, plan.core):
        h.update(b"-" if geom is None else shapely.to_wkb(shapely.normalize(geom)))
    footprints = np.empty(len(plan.buildings), dtype=object)
    footprints[:] = [b.footprint for b in plan.buildings]
    wkbs = shapely.to_wkb(shapely.normalize(footprints)) if len(footprints) else []
    h.update(b"".join(f"|{b.name}|{b.floors}|{b.floors_used}|{b.declared_floor_area_m2}|".encode() + wkb
                      for b, wkb in zip(plan.buildings, wkbs, strict=True)))
    digest = h.hexdigest()
    _remember_fingerprint(plan, digest)
    return digest


_LAST_FINGERPRINT: tuple[weakref.ref, str] | None = None


def _remember_fingerprint(plan: model.ZonePlan, digest: str) -> None:
    """The last plan fingerprinted (a plan is immutable: frozen, of tuples): not made twice for one import."""
    global _LAST_FINGERPRINT
    try:
        _LAST_FINGERPRINT = (weakref.ref(plan), digest)
    except TypeError:  # not weak-referenceable: nothing is remembered
        _LAST_FINGERPRINT = None


def add_version(session: Session, zone: Zone, plan: model.ZonePlan, *, state: str, source_files: list[dict],
                ingest_warnings: list[dict], uploaded_by: str, effective_on: dt.date) -> ZoneVersion:
    """A new numbered version; the zone row is locked so concurrent writers get distinct numbers. Its buildings
    are written in one bulk statement on the session's connection, inside the caller's transaction: a failure
    afterwards rolls them back with the rest."""
    lock_zone(session, zone)
    versions.check_creatable(state)
    last = session.scalar(select(func.max(ZoneVersion.number)).where(ZoneVersion.zone_id == zone.id)) or 0
    version = ZoneVersion(
        zone=zone, number=last + 1, state=versions.INITIAL, boundary=to_db(plan.boundary), core=to_db(plan.core),
        source_files=source_files, ingest_warnings=ingest_warnings, content_sha256=plan_content_sha256(plan),
        uploaded_by=uploaded_by, effective_on=effective_on,
    )
    session.add(version)
    session.flush()
    insert_buildings(session, version.id, plan.buildings)
    session.expire(version, ["buildings"])  # read back from the database when asked for
    if state != version.state:  # an import records the layout in force: approved, superseding the last one
        set_version_state(session, zone, version, state)
    return version


_BUILDING_COLUMNS = ("version_id", "name", "footprint", "floors", "floors_used", "declared_floor_area_m2")


_COPY_CHUNK = 5_000  # buildings per piece of the COPY stream: its text is never all in memory at once


def insert_buildings(session: Session, version_id: int, buildings: Sequence[model.Building]) -> None:
    """Store a version's buildings in one statement on the session's connection, in its transaction: COPY on
    psycopg2 (streamed, a few thousand rows at a time), else one multi-row INSERT. Each footprint is written as
    EWKB once, by vectorised calls."""
    if not buildings:
        return
    connection = session.connection()
    if connection.dialect.driver == "psycopg2":
        dbapi: Any = connection.connection.dbapi_connection
        with dbapi.cursor() as cursor:
            cursor.copy_expert(f"COPY building ({', '.join(_BUILDING_COLUMNS)}) FROM STDIN",
                               _CopyStream(_copy_rows(version_id, buildings)))
        return
    footprints = np.empty(len(buildings), dtype=object)  # pragma: no cover - another driver than psycopg2
    footprints[:] = [b.footprint for b in buildings]
    session.execute(insert(Building), [  # pragma: no cover
        {"version_id": version_id, "name": b.name, "footprint": WKBElement(wkb, srid=SRID, extended=True),
         "floors": b.floors, "floors_used": b.floors_used, "declared_floor_area_m2": b.declared_floor_area_m2}
        for b, wkb in zip(buildings, to_db_hex(footprints), strict=True)])


def _copy_rows(version_id: int, buildings: Sequence[model.Building]) -> Iterator[str]:
    """COPY text format, one piece per chunk of buildings (footprints as hex EWKB, one vectorised call each)."""
    for start in range(0, len(buildings), _COPY_CHUNK):
        chunk = buildings[start : start + _COPY_CHUNK]
        footprints = np.empty(len(chunk), dtype=object)
        footprints[:] = [b.footprint for b in chunk]
        yield "".join(f"{version_id}\t{_copy_text(b.name)}\t{wkb}\t{b.floors}\t{b.floors_used}\t"
                      f"{_copy_float(b.declared_floor_area_m2)}\n"
                      for b, wkb in zip(chunk, to_db_hex(footprints), strict=True))


class _CopyStream:
    """The file psycopg2's ``copy_expert`` reads: each ``read`` gives the next piece (any length will do)."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces

    def read(self, size: int = -1) -> str:
        return next(self._pieces, "")

    def readline(self, size: int = -1) -> str:  # pragma: no cover - psycopg2 reads with read()
        return self.read(size)


def _copy_text(text: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_float(value: float | None) -> str:
    return "\\N" if value is None else repr(float(value))  # repr: the shortest text that reads back exactly


def _identity(name: str, credit_code: str) -> tuple[str, str]:
    return (credit_code.strip().upper() or name.strip(), name.strip())


def institution_changes(session: Session, zone: Zone,
                        institutions: tuple[model.Institution, ...]) -> dict[str, int]:
    """What ``sync_institutions`` would do, without doing it: how many enter, leave and are updated (a register
    draft's effect, shown before it is approved)."""
    current = {_identity(i.name, i.credit_code): i for i in active_institutions(session, zone)}
    wanted = {_identity(i.name, i.credit_code): i for i in institutions}
    return {"entered": sum(1 for k in wanted if k not in current),
            "left": sum(1 for k in current if k not in wanted),
            "updated": sum(1 for k, i in wanted.items() if k in current and to_domain_institution(current[k]) != i)}


def sync_institutions(session: Session, zone: Zone, institutions: tuple[model.Institution, ...],
                      today: dt.date) -> dict[str, int]:
    """Make the zone's active institutions equal to ``institutions``: new ones enter today (准入),
    missing ones leave today (退出), changed attributes (how the point was located among them) are updated in
    place. Called when the province approves a register draft, and by ``zonegeo import``."""
    current = {_identity(i.name, i.credit_code): i for i in active_institutions(session, zone)}
    wanted = {_identity(i.name, i.credit_code): i for i in institutions}
    counts = {"entered": 0, "left": 0, "updated": 0}
    for key, row in current.items():
        if key not in wanted:
            row.left_on = today
            counts["left"] += 1
    session.flush()
    for key, inst in wanted.items():
        values = _institution_values(inst)
        stored = current.get(key)
        if stored is None:
            session.add(Institution(zone=zone, entered_on=today, **values))
            counts["entered"] += 1
        elif to_domain_institution(stored) != inst:
            for k, v in values.items():
                setattr(stored, k, v)
            counts["updated"] += 1
    session.flush()
    return counts


def _institution_values(inst: model.Institution) -> dict[str, Any]:
    return {
        "name": inst.name, "credit_code": inst.credit_code.strip(), "kind": inst.kind.value,
        "services": list(inst.services), "chain": [c.value for c in inst.chain],
        "kind_label": inst.kind_label, "chain_other": list(inst.chain_other),
        "location": to_db(shapely.Point(inst.lon, inst.lat)), "address": inst.address,
        "building": inst.building, "floor": inst.floor, "located_by": inst.located_by,
    }


def to_domain_institution(row: Institution) -> model.Institution:
    point = from_db(row.location)
    return model.Institution(
        name=row.name, credit_code=row.credit_code, lon=point.x, lat=point.y,
        kind=model.InstitutionKind(row.kind), services=tuple(row.services),
        chain=tuple(model.ChainLink(c) for c in row.chain), address=row.address,
        building=row.building, floor=row.floor, kind_label=row.kind_label, chain_other=tuple(row.chain_other),
        located_by=row.located_by,
    )


def to_domain_plan(version: ZoneVersion,
                   institutions: Sequence[Institution | model.Institution]) -> model.ZonePlan:
    """The version's layout with ``institutions``: stored rows (the zone's active institutions) or domain values
    (a register draft's rows)."""
    return model.ZonePlan(
        boundary=from_db(version.boundary),
        core=from_db(version.core),
        buildings=tuple(
            model.Building(name=b.name, footprint=from_db(b.footprint), floors=b.floors,
                           floors_used=b.floors_used, declared_floor_area_m2=b.declared_floor_area_m2)
            for b in version.buildings
        ),
        institutions=tuple(i if isinstance(i, model.Institution) else to_domain_institution(i)
                           for i in institutions),
    )


# ---- institution register drafts ---------------------------------------------------------------------------

def add_register_draft(session: Session, zone: Zone, institutions: tuple[model.Institution, ...], *,
                       version_number: int | None, source_files: list[dict], ingest_warnings: list[dict],
                       uploaded_by: str) -> RegisterDraft:
    """A new numbered register draft (the zone row is locked so concurrent uploads get distinct numbers)."""
    lock_zone(session, zone)
    last = session.scalar(select(func.max(RegisterDraft.number)).where(RegisterDraft.zone_id == zone.id)) or 0
    rows = [register.to_row(i) for i in institutions]
    draft = RegisterDraft(zone_id=zone.id, number=last + 1, state=register.INITIAL, version_number=version_number,
                          rows=rows, source_files=source_files, ingest_warnings=ingest_warnings,
                          content_sha256=rows_sha256(rows), uploaded_by=uploaded_by)
    session.add(draft)
    session.flush()
    return draft


def list_register_drafts(session: Session, zone: Zone) -> list[RegisterDraft]:
    return list(session.scalars(select(RegisterDraft).where(RegisterDraft.zone_id == zone.id)
                                .order_by(RegisterDraft.number)))


def get_register_draft(session: Session, zone: Zone, number: int) -> RegisterDraft:
    draft = session.scalar(select(RegisterDraft).where(RegisterDraft.zone_id == zone.id,
                                                       RegisterDraft.number == number))
    if draft is None:
        raise NotFoundError("register_draft_not_found", f"集聚区“{zone.code}”没有机构名录草稿{number}",
                            {"code": zone.code, "register_draft": number})
    return draft


def latest_register_draft(session: Session, zone: Zone, *, untied: bool = False) -> RegisterDraft | None:
    """The newest register draft (``untied``: of those uploaded without a layout version)."""
    stmt = select(RegisterDraft).where(RegisterDraft.zone_id == zone.id)
    if untied:
        stmt = stmt.where(RegisterDraft.version_number.is_(None))
    return session.scalar(stmt.order_by(RegisterDraft.number.desc()).limit(1))


def tied_register_draft(session: Session, zone: Zone, version_number: int) -> RegisterDraft | None:
    """The register uploaded together with layout version ``version_number``, if any."""
    return session.scalar(select(RegisterDraft).where(RegisterDraft.zone_id == zone.id,
                                                      RegisterDraft.version_number == version_number)
                          .order_by(RegisterDraft.number.desc()).limit(1))


def approved_register_drafts(session: Session, zone: Zone) -> list[RegisterDraft]:
    return list(session.scalars(select(RegisterDraft).where(RegisterDraft.zone_id == zone.id,
                                                            RegisterDraft.state == register.APPROVED)))


def register_institutions(draft: RegisterDraft) -> tuple[model.Institution, ...]:
    """The located rows (an uploaded row not yet geocoded or placed on the map has no point and is not counted)."""
    return tuple(register.from_row(r) for r in draft.rows if register.is_located(r))
