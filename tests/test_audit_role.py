"""The audit log that the application's own database role cannot rewrite (issue 11): these tests connect as
zonegeo_app, the role the app runs with; only the tampering that needs a superuser is done as the superuser, and
`zonegeo audit verify` (run as zonegeo_app) finds it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from zonegeo.services.audit_verify import GENESIS

APP_ROLE = "zonegeo_app"


@pytest.fixture(scope="module")
def app_url(database_url: str) -> str:
    return make_url(database_url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def app_engine(app_url: str) -> Iterator[Engine]:
    eng = create_engine(app_url)
    yield eng
    eng.dispose()


def test_the_app_role_is_not_a_superuser_and_owns_nothing(engine, app_engine):
    with app_engine.connect() as conn:
        assert conn.scalar(text("SELECT current_user")) == APP_ROLE
    with engine.connect() as conn:
        app = conn.execute(text("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolbypassrls FROM pg_roles "
                                "WHERE rolname = 'zonegeo_app'")).one()
        assert tuple(app) == (False, False, False, True, False)
        assert conn.scalar(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'zonegeo_owner'")) is False
        owners = dict(conn.execute(text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' "
                                        "AND tablename NOT IN ('spatial_ref_sys', 'alembic_version')")).all())
        assert owners and set(owners.values()) == {"zonegeo_owner"}, owners
        rights = conn.execute(text("SELECT privilege_type FROM information_schema.role_table_grants "
                                   "WHERE grantee = 'zonegeo_app' AND table_name = 'audit_log'")).scalars()
        assert sorted(rights) == ["INSERT", "SELECT"]


ATTACKS = {
    "replication role": "SET session_replication_role = replica",
    "disable trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    "disable all triggers": "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "drop trigger": "DROP TRIGGER audit_log_no_update_delete ON audit_log",
    "drop chain trigger": "DROP TRIGGER audit_log_chain ON audit_log",
    "replace function": "CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql "
                        "AS $$ BEGIN RETURN NEW; END $$",
    "truncate": "TRUNCATE audit_log",
    "drop table": "DROP TABLE audit_log",
    "update": "UPDATE audit_log SET actor = 'x'",
    "delete": "DELETE FROM audit_log",
    "back-dated insert": "INSERT INTO audit_log (at, actor, role, action, object) "
                         "VALUES (now() - interval '30 days', 'x', 'system', 'login', 'user/x')",
    "chosen id": "INSERT INTO audit_log (id, actor, role, action, object) VALUES (1, 'x', 'system', 'login', 'user/x')",
    "move the sequence": "SELECT setval('audit_log_id_seq', 1)",
    "create table": "CREATE TABLE audit_copy (id int)",
    "create role": "CREATE ROLE zonegeo_evil SUPERUSER",
}


@pytest.mark.parametrize("statement", ATTACKS.values(), ids=ATTACKS.keys())
def test_the_app_role_cannot_rewrite_the_audit_log(app_engine, engine, tokens, statement):
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*), max(id) FROM audit_log")).one()
    with app_engine.connect() as conn, pytest.raises(DBAPIError) as caught, conn.begin():
        conn.execute(text(statement))
    assert caught.value.orig.pgcode in ("42501", "42P01") or "permission denied" in str(caught.value) \
        or "must be owner" in str(caught.value), caught.value
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), max(id) FROM audit_log")).one() == before
        triggers = set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
                                         "AND tgenabled = 'O'")).scalars())
        assert {"audit_log_no_update_delete", "audit_log_no_truncate", "audit_log_chain"} <= triggers


def test_time_actor_and_chain_are_set_by_the_database(app_engine, tokens):
    with app_engine.connect() as conn, conn.begin() as tx:
        conn.execute(text("SET LOCAL zonegeo.actor = 'province-bureau'"))
        conn.execute(text("SET LOCAL zonegeo.actor_role = 'province'"))
        last = conn.scalar(text("SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1"))
        row = conn.execute(text("INSERT INTO audit_log (actor, role, action, object) "
                                "VALUES ('somebody-else', 'expert', 'test', 'user/x') "
                                "RETURNING actor, role, at = now() AS now, prev_hash, row_hash")).one()
        tx.rollback()
    assert (row.actor, row.role, row.now) == ("province-bureau", "province", True)
    assert row.prev_hash == (last or GENESIS) and len(row.row_hash) == 64 and row.row_hash != row.prev_hash


def test_the_app_runs_as_the_app_role_and_its_audit_rows_verify(app_url, settings, tokens, cli):
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    as_app = settings.model_copy(update={"database_url": app_url})
    with TestClient(create_app(as_app), headers={"Authorization": f"Bearer {tokens['province']}"}) as c:
        assert c.get("/api/zones").status_code == 200
        zone = c.post("/api/zones", json={"code": f"AR-{dt.datetime.now():%H%M%S%f}", "name": "角色测试集聚区",
                                          "city": "南京市", "builder": "甲", "operator": "乙"})
        assert zone.status_code == 201, zone.text
        entries = c.get(f"/api/audit?object=zone/{zone.json()['code']}").json()["data"]
    assert entries and entries[0]["actor"] == "province-bureau" and entries[0]["role"] == "province"
    result = cli("audit", "verify", "--json", env={"ZONEGEO_DATABASE_URL": app_url})
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["intact"] and report["rows"] >= 1


def _superuser_tamper(engine: Engine, statement: str, params: dict) -> None:
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # what only a superuser can do
        conn.execute(text(statement), params)


def test_audit_verify_finds_a_superuser_rewrite(engine, app_url, tokens, cli):
    env = {"ZONEGEO_DATABASE_URL": app_url}
    clean = cli("audit", "verify", env=env)
    assert clean.returncode == 0, clean.stderr
    with engine.connect() as conn:
        victim = conn.execute(text("SELECT id, after FROM audit_log ORDER BY id LIMIT 1 OFFSET 1")).one()
    _superuser_tamper(engine, "UPDATE audit_log SET after = CAST(:after AS jsonb) WHERE id = :id",
                      {"id": victim.id, "after": json.dumps({"role": "province"})})
    try:
        found = cli("audit", "verify", env=env)
        assert found.returncode == 1
        assert f"第{victim.id}条记录的内容与其哈希不符" in found.stderr
    finally:
        _superuser_tamper(engine, "UPDATE audit_log SET after = CAST(:after AS jsonb) WHERE id = :id",
                          {"id": victim.id, "after": json.dumps(victim.after)})
    assert cli("audit", "verify", env=env).returncode == 0


def test_audit_verify_finds_a_removed_row_and_a_rewritten_head(engine, app_url, tokens, cli):
    env = {"ZONEGEO_DATABASE_URL": app_url}
    head = json.loads(cli("audit", "verify", "--json", env=env).stdout)["head"]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_log ORDER BY id LIMIT 1")).mappings().one()
    _superuser_tamper(engine, "DELETE FROM audit_log WHERE id = :id", {"id": row["id"]})
    try:
        found = cli("audit", "verify", "--json", env=env)
        assert found.returncode == 1
        problems = json.loads(found.stdout)["problems"]
        assert problems and problems[0]["kind"] == "chain_broken"
    finally:
        columns = ", ".join(row.keys())
        values = ", ".join(f"CAST(:{k} AS jsonb)" if k in ("before", "after") else f":{k}" for k in row)
        _superuser_tamper(engine, f"INSERT INTO audit_log ({columns}) VALUES ({values})",
                          {k: json.dumps(v) if k in ("before", "after") and v is not None else v for k, v in row.items()})
    anchor = f"{head['id']}:{head['hash']}"
    assert cli("audit", "verify", "--anchor", anchor, env=env).returncode == 0
    wrong = cli("audit", "verify", "--anchor", f"{head['id']}:{'f' * 64}", env=env)
    assert wrong.returncode == 1 and "锚点" in wrong.stderr
    assert cli("audit", "verify", "--anchor", "nonsense", env=env).returncode == 2
