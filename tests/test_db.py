"""The schema from the migrations, storing versions, and PostGIS agreeing with the domain's numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import demo_copy
from tests.factories import rect
from zonegeo.db import repo
from zonegeo.db.geometry import to_db
from zonegeo.db.models import Base, Institution, Zone, ZoneVersion
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.errors import InputError
from zonegeo.ingest.plan import read_plan, read_zone_dir
from zonegeo.services.eligibility import check_read, zone_report
from zonegeo.services.zones import import_zone


@pytest.fixture
def zone_dir(tmp_path):
    """A copy of the demo folder under a code of its own, so tests do not meet the committed demo zone."""
    return demo_copy(tmp_path, "T")


def test_migrations_reach_head_and_match_the_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": alembic_helpers.include_object})
        assert ctx.get_current_revision() == "0014"
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff


def test_geometry_columns_are_srid_4490_with_gist_indexes(engine):
    with engine.connect() as conn:
        # tables only: the published views of migration 0013 label their geometry 4326 (tests/test_ogc_views.py)
        rows = conn.execute(text("SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns "
                                 "WHERE f_table_name NOT IN (SELECT viewname FROM pg_views) ORDER BY 1, 2")).all()
        assert {(r[0], r[1]) for r in rows} == {("building", "footprint"), ("institution", "location"),
                                                ("zone_version", "boundary"), ("zone_version", "core")}
        assert {r[2] for r in rows} == {4490}
        gist = conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")).scalars()
        assert set(gist) == {"ix_building_footprint", "ix_institution_location", "ix_zone_version_boundary",
                             "ix_zone_version_core"}


def test_import_stores_version_1_and_is_idempotent(session, zone_dir):
    folder, code = zone_dir
    first = import_zone(session=session, folder=folder)
    assert (first.created_zone, first.version, first.new_version) == (True, 1, True)
    assert first.institutions["entered"] == 20
    again = import_zone(session=session, folder=folder)
    assert (again.created_zone, again.version, again.new_version) == (False, 1, False)
    assert again.institutions == {"entered": 0, "left": 0, "updated": 0}
    zone = repo.get_zone(session, code)
    assert session.scalar(select(func.count()).select_from(ZoneVersion).where(ZoneVersion.zone_id == zone.id)) == 1


def test_changed_layout_makes_version_2_and_supersedes_1(session, zone_dir):
    folder, code = zone_dir
    import_zone(session=session, folder=folder)
    csv = folder / "institutions.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    csv.write_text("\n".join(lines[:-3] + lines[-2:]) + "\n", encoding="utf-8")  # one institution leaves
    buildings = folder / "buildings.geojson"
    buildings.write_text(buildings.read_text(encoding="utf-8").replace('"层数": 18', '"层数": 19'), encoding="utf-8")
    result = import_zone(session=session, folder=folder, today=dt.date(2026, 12, 1))
    assert (result.version, result.new_version) == (2, True)
    assert result.institutions["left"] == 1
    zone = repo.get_zone(session, code)
    states = dict(session.execute(select(ZoneVersion.number, ZoneVersion.state)
                                  .where(ZoneVersion.zone_id == zone.id)).all())
    assert states == {1: "superseded", 2: "approved"}
    left = session.scalars(select(Institution).where(Institution.zone_id == zone.id,
                                                     Institution.left_on.is_not(None))).all()
    assert [r.left_on for r in left] == [dt.date(2026, 12, 1)]


def test_postgis_geography_area_agrees_with_the_domain(session, reference_areas, zone_dir):
    folder, code = zone_dir
    import_zone(session=session, folder=folder)
    zone = repo.get_zone(session, code)
    version = repo.approved_version(session, zone)
    pg_area = session.scalar(select(func.ST_Area(func.geography(ZoneVersion.boundary), True))
                             .where(ZoneVersion.id == version.id))
    domain = geodesic_area_m2(repo.to_domain_plan(version, []).boundary)
    assert abs(pg_area - domain) / domain <= 1e-6
    # And the reference polygons too, straight through PostGIS.
    from shapely.geometry import shape

    for f in reference_areas:
        geom = shape(f["geometry"])
        pg = session.scalar(select(func.ST_Area(func.geography(func.ST_GeomFromWKB(geom.wkb, 4490)), True)))
        ref = f["properties"]["ref_area_cgcs2000_m2"]
        assert abs(pg - ref) / ref <= 1e-6, f["properties"]["name"]


def test_report_from_the_database_equals_the_report_from_files(session, rules, zone_dir):
    folder, code = zone_dir
    import_zone(session=session, folder=folder)
    stored = zone_report(session=session, code=code, rules=rules).to_dict()
    bundle = read_zone_dir(folder)
    checked = check_read(read_plan(bundle.files, {"institutions": "EPSG:4490"}), rules=rules).to_dict()
    assert stored.pop("zone")["version"] == 1
    checked.pop("zone")
    # Only the database knows other zones: their claims on the same credit codes are the one difference.
    stored["warnings"] = [w for w in stored["warnings"] if w["code"] != "credit_code_in_other_zone"]
    assert stored == checked


def test_database_refuses_invalid_geometry_and_duplicate_versions(session, zone_dir):
    folder, code = zone_dir
    import_zone(session=session, folder=folder)
    zone = repo.get_zone(session, code)
    bowtie = "MULTIPOLYGON(((118.78 32.04, 118.781 32.041, 118.781 32.04, 118.78 32.041, 118.78 32.04)))"
    with pytest.raises(IntegrityError) as e, session.begin_nested():
        session.execute(text("INSERT INTO zone_version (zone_id, number, boundary, content_sha256, effective_on) "
                             "VALUES (:z, 9, ST_GeomFromText(:g, 4490), 'x', now())"), {"z": zone.id, "g": bowtie})
    assert "ck_zone_version_boundary_valid" in str(e.value)
    with pytest.raises(IntegrityError) as e, session.begin_nested():
        session.add(ZoneVersion(zone_id=zone.id, number=1, state="draft", boundary=to_db(rect(0, 0, 10, 10)),
                                content_sha256="x", effective_on=dt.date.today()))
        session.flush()
    assert "uq_zone_version_number" in str(e.value)
    with pytest.raises(IntegrityError) as e, session.begin_nested():
        session.execute(text("INSERT INTO zone (code, name, city) VALUES ('X1', 'x', '杭州市')"))
    assert "ck_zone_city" in str(e.value)


def test_a_failed_import_leaves_the_stored_zone_unchanged(session, zone_dir):
    folder, code = zone_dir
    import_zone(session=session, folder=folder)
    stored = (select(Zone.name, ZoneVersion.number, ZoneVersion.content_sha256)
              .join(ZoneVersion).where(Zone.code == code))
    before = session.execute(stored).all()
    (folder / "zone.toml").write_text((folder / "zone.toml").read_text(encoding="utf-8")
                                      .replace("（演示数据）", "（改名）"), encoding="utf-8")
    (folder / "institutions.csv").write_text("名称,经度,纬度\n甲,abc,32\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        import_zone(session=session, folder=folder)
    assert e.value.code == "bad_coordinate"
    assert session.execute(stored).all() == before


def test_duplicate_credit_codes_are_refused_on_import(session, zone_dir):
    folder, code = zone_dir
    csv = folder / "institutions.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    dup = lines[1].replace("南京星河专利代理事务所", "另一家事务所")
    csv.write_text("\n".join([*lines, dup]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        import_zone(session=session, folder=folder)
    assert e.value.code == "duplicate_credit_code"
    assert session.scalar(select(func.count()).select_from(Zone).where(Zone.code == code)) == 0


def test_inspector_sees_the_four_tables(engine):
    assert {"zone", "zone_version", "building", "institution"} <= set(inspect(engine).get_table_names())
