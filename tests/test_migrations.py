"""Every migration can be undone and redone: on a fresh database, upgrade to head, downgrade to base (nothing of
the application is left) and upgrade to head again gives the same schema, and the application works on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import import_demo_copy, throwaway_database
from zonegeo.db.migrate import downgrade, upgrade

# What the migrations make in schema public, with PostGIS's own objects (members of the extension) left out.
NOT_POSTGIS = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
SCHEMA = {
    "relations": f"""
        SELECT c.relname, c.relkind::text, pg_get_userbyid(c.relowner), coalesce(c.relacl::text, '')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S', 'i') AND {NOT_POSTGIS.format(oid='c.oid')}
        ORDER BY 1""",
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, is_nullable, coalesce(column_default, '')
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'spatial_ref_sys'
        ORDER BY 1, 2""",
    "constraints": f"""
        SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid)
        FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = 'public' AND {NOT_POSTGIS.format(oid='cl.oid')} ORDER BY 1, 2""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "triggers": """
        SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1""",
    "functions": f"""
        SELECT p.proname, pg_get_userbyid(p.proowner), md5(pg_get_functiondef(p.oid))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prokind = 'f' AND {NOT_POSTGIS.format(oid='p.oid')} ORDER BY 1""",
}


def schema(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {part: [tuple(row) for row in conn.execute(text(sql))] for part, sql in SCHEMA.items()}


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database of its own (not the session's): the round trip drops every table."""
    with throwaway_database("zonegeo_migrations", migrate=False) as url:
        yield url


def test_downgrade_to_base_and_upgrade_to_head_give_the_same_schema(fresh_database, tmp_path):
    engine = create_engine(fresh_database)
    try:
        upgrade(fresh_database)
        at_head = schema(engine)
        assert {"zone", "zone_version", "building", "institution", "audit_log"} <= {r[0] for r in at_head["relations"]}
        assert at_head["triggers"] and at_head["functions"]

        downgrade(fresh_database, "base")
        left = schema(engine)
        assert [r[0] for r in left["relations"] if r[1] == "r"] == ["alembic_version"], left["relations"]
        assert left["triggers"] == [] and left["functions"] == []
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0

        upgrade(fresh_database)
        again = schema(engine)
        for part in SCHEMA:
            assert again[part] == at_head[part], part
        code = import_demo_copy(engine, tmp_path, "MIG")  # the application works on the re-made schema
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM zone_version v JOIN zone z ON z.id = v.zone_id "
                                    "WHERE z.code = :c"), {"c": code}) == 1
    finally:
        engine.dispose()
