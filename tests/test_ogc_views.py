"""The published views of migration 0013 say in SQL what services/disclosure.py says in Python: compared zone by zone,
institution by institution and credit code by credit code; the app role may only read them."""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass

import pytest
import shapely.affinity
from sqlalchemy import Engine, select, text

from tests.conftest import PROJECT_ROOT, import_demo_copy
from tests.factories import code as valid_code
from zonegeo.db.geometry import from_db, to_db
from zonegeo.db.models import Building, Institution, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import credit_code
from zonegeo.domain.lifecycle import PUBLIC_HIDDEN_STATES
from zonegeo.domain.model import InstitutionKind
from zonegeo.services import disclosure, publishing

VIEWS = ("published_zones", "published_core_areas", "published_buildings", "published_institutions",
         "published_platforms")
PERSON_CODE = "92320105MA1XY2Z3Q4"  # a 个体工商户: a natural person's code (the public never sees it)
BAD_CODE = "913201053109802783"  # the check character is wrong (…782 is right)


@dataclass(frozen=True)
class Scenario:
    published: str  # published, approved v1, plus a draft v2 far away; a person's code, a left institution
    unpublished: str
    revoked: str
    unapproved: str  # published, but its only version is submitted (never approved)
    draft_shift_deg: float = 0.05


def build_scenario(engine: Engine, tmp_path) -> Scenario:
    """Four zones made from the demo folder, committed, in the states the public must (not) see."""
    published = import_demo_copy(engine, tmp_path, "OGCP", published=True)
    unpublished = import_demo_copy(engine, tmp_path, "OGCU")
    revoked = import_demo_copy(engine, tmp_path, "OGCR", published=True)
    unapproved = import_demo_copy(engine, tmp_path, "OGCD", published=True)
    shift = Scenario.draft_shift_deg
    with transaction(session_factory(engine)) as session:
        zone = session.scalar(select(Zone).where(Zone.code == published))
        v1 = session.scalar(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id))
        moved = shapely.affinity.translate(from_db(v1.boundary), xoff=shift)
        session.add(ZoneVersion(zone=zone, number=2, state="draft", boundary=to_db(moved), core=None,
                                content_sha256="0" * 64, effective_on=dt.date(2026, 1, 1),
                                buildings=[Building(name="草稿楼", footprint=to_db(moved), floors=3, floors_used=3)]))
        first = session.scalars(select(Institution).where(Institution.zone_id == zone.id)
                                .order_by(Institution.id)).all()
        first[0].credit_code = PERSON_CODE
        first[1].credit_code = BAD_CODE
        first[2].left_on = first[2].entered_on  # left the zone: no longer shown
        session.execute(text("UPDATE zone SET status = 'revoked' WHERE code = :c"), {"c": revoked})
        session.execute(text("UPDATE zone_version SET state = 'submitted' WHERE zone_id = "
                             "(SELECT id FROM zone WHERE code = :c)"), {"c": unapproved})
    return Scenario(published, unpublished, revoked, unapproved)


@pytest.fixture(scope="module")
def scenario(engine, tmp_path_factory) -> Scenario:
    return build_scenario(engine, tmp_path_factory.mktemp("ogc-views"))


def _migration():
    path = PROJECT_ROOT / "migrations" / "versions" / "0013_published_views.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_frozen_policy_is_the_domains():
    m = _migration()
    assert m.HIDDEN_STATES == PUBLIC_HIDDEN_STATES
    assert (m.ALPHABET, m.AUTHORITY_TYPES) == (credit_code.ALPHABET, credit_code.AUTHORITY_TYPES)
    assert list(m.WEIGHTS) == credit_code.WEIGHTS.tolist()
    assert {k: v for k, v in m.PLATFORM_LABELS.items()} == {
        k.value: k.label for k in InstitutionKind if k.is_platform and k is not InstitutionKind.OTHER_PLATFORM}


CODES = [
    "913201053109802782", "9132010500297727X6", BAD_CODE, PERSON_CODE, "92320105MA1XY2Z3Q", "",
    " 913201053109802782", "9132 0105 3109 8027 82", "913201053109802782\u3000", "９13201053109802782",
    "913201053109802782X", "91320105310980278", "91320105310980I782", "Z13201053109802782", "9A3201053109802782",
    "91AB01053109802782", "913201053109802782".lower(), "120000004660001231", *[valid_code(i) for i in range(40)],
    *[valid_code(i)[:17] + "0" for i in range(40)],
]


def test_published_credit_code_in_sql_equals_the_public_policy(engine):
    with engine.connect() as conn:
        got = {c: conn.scalar(text("SELECT published_credit_code(:c)"), {"c": c}) for c in CODES}
    expected = {c: disclosure.PUBLIC.credit_code(c) for c in CODES}
    assert got == expected
    assert got[PERSON_CODE] == "" and got[BAD_CODE] == "" and got["913201053109802782"] == "913201053109802782"
    assert sum(1 for v in got.values() if v) >= 40  # valid codes do come through


def _zone_codes(conn, view: str) -> set[str]:
    column = "code" if view == "published_zones" else "zone_code"
    return set(conn.execute(text(f"SELECT DISTINCT {column} FROM {view}")).scalars())


def test_views_hold_exactly_the_public_zones(engine, scenario):
    with transaction(session_factory(engine)) as session:
        public = {zone.code for zone, _ in publishing.public_zones(session)}
        with_core = {zone.code for zone, version in publishing.public_zones(session) if version.core is not None}
        with_buildings = {zone.code for zone, version in publishing.public_zones(session) if version.buildings}
        conn = session.connection()
        assert _zone_codes(conn, "published_zones") == public
        assert _zone_codes(conn, "published_core_areas") == with_core
        assert _zone_codes(conn, "published_buildings") == with_buildings
        assert _zone_codes(conn, "published_institutions") <= public
    assert scenario.published in public
    for hidden in (scenario.unpublished, scenario.revoked, scenario.unapproved):
        assert hidden not in public


def test_only_the_approved_layout_is_shown(engine, scenario):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT version, ST_XMin(geom) AS x FROM published_zones WHERE code = :c"),
                           {"c": scenario.published}).one()
        approved_x = conn.scalar(text("SELECT ST_XMin(boundary) FROM zone_version v JOIN zone z ON z.id = v.zone_id "
                                      "WHERE z.code = :c AND v.state = 'approved'"), {"c": scenario.published})
        names = set(conn.execute(text("SELECT name FROM published_buildings WHERE zone_code = :c"),
                                 {"c": scenario.published}).scalars())
    assert row.version == 1 and row.x == pytest.approx(approved_x, abs=1e-12)
    assert "草稿楼" not in names and len(names) == 7


def test_institutions_as_the_public_sees_them(engine, scenario):
    with transaction(session_factory(engine)) as session:
        zone = session.scalar(select(Zone).where(Zone.code == scenario.published))
        from zonegeo.db import repo

        active = repo.active_institutions(session, zone)
        expected = {(i.name, disclosure.PUBLIC.credit_code(i.credit_code)) for i in active if i.kind == "institution"}
        platforms = {(i.name, disclosure.PUBLIC.credit_code(i.credit_code)) for i in active if i.kind != "institution"}
        conn = session.connection()
        got = {tuple(r) for r in conn.execute(text("SELECT name, credit_code FROM published_institutions "
                                                   "WHERE zone_code = :c"), {"c": scenario.published})}
        got_platforms = {tuple(r) for r in conn.execute(text("SELECT name, credit_code FROM published_platforms "
                                                             "WHERE zone_code = :c"), {"c": scenario.published})}
        everywhere = set(conn.execute(text("SELECT credit_code FROM published_institutions UNION "
                                           "SELECT credit_code FROM published_platforms")).scalars())
    assert got == expected and len(got) == 17  # 18 in the demo, one has left
    assert got_platforms == platforms and len(platforms) == 2
    assert PERSON_CODE not in everywhere and BAD_CODE not in everywhere
    assert not any(c.startswith("92") for c in everywhere)


def test_views_have_one_geometry_column_each_and_no_private_columns(engine):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT f_table_name, count(*) FROM geometry_columns WHERE f_table_name LIKE "
                                 "'published\\_%' GROUP BY 1")).all()
        columns = set(conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name LIKE "
                                        "'published\\_%'")).scalars())
    assert dict(rows) == dict.fromkeys(VIEWS, 1)
    assert not columns & {"address", "uploaded_by", "decided_by", "note", "ingest_warnings", "source_files",
                          "located_by", "left_on", "dates"}


def test_the_app_role_may_read_the_views_and_nothing_more(engine):
    with engine.connect() as conn:
        for view in VIEWS:
            privileges = {p: conn.scalar(text(f"SELECT has_table_privilege('zonegeo_app', '{view}', '{p}')"))
                          for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}
            assert privileges == {"SELECT": True, "INSERT": False, "UPDATE": False, "DELETE": False,
                                  "TRUNCATE": False}, view
            owner = conn.scalar(text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = :v"), {"v": view})
            assert owner == "zonegeo_owner"
