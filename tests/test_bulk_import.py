"""A version's buildings are written in one bulk statement (repo.insert_buildings): what is stored reads back the
same as the ORM wrote it, the layout's fingerprint is unchanged, and the write belongs to the caller's transaction
(a failure after it leaves nothing of the version)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import shapely
from sqlalchemy import func, select, text

from tests import factories
from tests.conftest import demo_copy
from zonegeo.db import repo
from zonegeo.db.models import Building as BuildingRow
from zonegeo.db.models import Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.model import Building, ZonePlan

ODD_NAMES = ["A座\t知识产权大厦", "B座\\创新中心", "C座\n专利楼", "D座\r\n配套", "\\N", "", "E座 \"引号\" '单引号'", "F座,逗号"]


def _plan(n_extra: int = 0) -> ZonePlan:
    buildings = [Building(name, factories.rect(10 + 30 * i, 10, 20, 15), floors=i + 1, floors_used=i,
                          declared_floor_area_m2=None if i % 2 else 1234.5678901234567 * (i + 1))
                 for i, name in enumerate(ODD_NAMES)]
    buildings += [Building(f"楼{k}", factories.rect(10 + (k % 20) * 9, 60 + (k // 20) * 9, 5, 4), floors=3,
                           floors_used=2) for k in range(n_extra)]
    return factories.plan(buildings=buildings, institutions=[])


def _old_fingerprint(plan: ZonePlan) -> str:
    """The fingerprint as repo computed it one building at a time before the bulk write."""
    h = hashlib.sha256()
    for geom in (plan.boundary, plan.core):
        h.update(b"-" if geom is None else shapely.to_wkb(shapely.normalize(geom)))
    for b in plan.buildings:
        h.update(f"|{b.name}|{b.floors}|{b.floors_used}|{b.declared_floor_area_m2}|".encode())
        h.update(shapely.to_wkb(shapely.normalize(b.footprint)))
    return h.hexdigest()


def _add(session, zone, plan, state="draft"):
    return repo.add_version(session, zone, plan, state=state, source_files=[], ingest_warnings=[], uploaded_by="t",
                            effective_on=dt.date(2026, 3, 2))


def _zone(session, code: str) -> Zone:
    zone = Zone(code=code, name=f"批量写入{code}", city="南京市")
    session.add(zone)
    session.flush()
    return zone


def test_bulk_written_buildings_read_back_exactly(session, monkeypatch):
    """Names with tabs, backslashes, line breaks and quotes, absent and fractional declared areas and the
    footprints' coordinates come back bit for bit, in the order given (the COPY streamed in several pieces)."""
    monkeypatch.setattr(repo, "_COPY_CHUNK", 7)
    plan = _plan(n_extra=50)
    version = _add(session, _zone(session, "BULK-RT"), plan)
    back = repo.to_domain_plan(repo.get_version(session, version.zone, version.number), []).buildings
    assert [b.name for b in back] == [b.name for b in plan.buildings]
    assert [(b.floors, b.floors_used, b.declared_floor_area_m2) for b in back] == [
        (b.floors, b.floors_used, b.declared_floor_area_m2) for b in plan.buildings]
    assert [shapely.to_wkb(b.footprint) for b in back] == [shapely.to_wkb(b.footprint) for b in plan.buildings]
    assert session.scalar(select(func.ST_SRID(BuildingRow.footprint)).where(BuildingRow.version_id == version.id)
                          .limit(1)) == 4490


def test_the_new_version_lists_its_buildings_and_keeps_the_fingerprint(session):
    plan = _plan()
    version = _add(session, _zone(session, "BULK-FP"), plan)
    assert [b.name for b in version.buildings] == ODD_NAMES  # loaded from the database on first use
    assert version.content_sha256 == _old_fingerprint(plan) == repo.plan_content_sha256(plan)
    other = _plan(n_extra=1)  # another plan is fingerprinted anew, not served from the one remembered
    assert repo.plan_content_sha256(other) == _old_fingerprint(other) != version.content_sha256


def test_a_version_without_buildings(session):
    version = _add(session, _zone(session, "BULK-NONE"), factories.plan(buildings=[], institutions=[]))
    assert version.buildings == []


def _stored(engine, code: str) -> tuple[int, int]:
    with engine.connect() as conn:
        zones = conn.scalar(text("SELECT count(*) FROM zone WHERE code = :c"), {"c": code})
        buildings = conn.scalar(text("SELECT count(*) FROM building b JOIN zone_version v ON v.id = b.version_id "
                                     "JOIN zone z ON z.id = v.zone_id WHERE z.code = :c"), {"c": code})
    return zones, buildings


def test_a_failure_after_the_bulk_write_leaves_no_buildings(engine, tmp_path, monkeypatch):
    """zonegeo import's transaction: the buildings are written, then a later step (the institutions) fails; the
    rollback takes the buildings with it, the zone and its version too."""
    from zonegeo.services import zones

    folder, code = demo_copy(tmp_path, "BULKFAIL")
    written: list[int] = []
    real_insert = repo.insert_buildings

    def counting_insert(session, version_id, buildings):
        real_insert(session, version_id, buildings)
        written.append(session.scalar(select(func.count()).where(BuildingRow.version_id == version_id)))

    def failing_sync(*args, **kwargs):
        raise RuntimeError("a later step fails")

    monkeypatch.setattr(repo, "insert_buildings", counting_insert)
    monkeypatch.setattr(repo, "sync_institutions", failing_sync)
    with pytest.raises(RuntimeError, match="a later step fails"), \
            transaction(session_factory(engine)) as session:
        zones.import_zone(session=session, folder=folder)
    assert written and written[0] > 0  # the bulk write had happened inside the transaction
    assert _stored(engine, code) == (0, 0)
