"""Server-side web sessions, login throttling, a least-privilege application role and a hash-chained audit log.

- ``web_session``: one row per login; the signed cookie names it (by a random token stored only as SHA-256), so
  logging out or being logged out by the province ends it on the server and a replayed cookie is refused.
- ``login_throttle``: failed logins per account and per address, with lockout and back-off; kept in the database
  so that several workers or hosts share it.
- Roles (cluster-wide, created only when missing): ``zonegeo_owner`` (NOLOGIN) owns the tables;
  ``zonegeo_app`` (LOGIN) is what the application connects with: the usual DML on the tables, only INSERT and
  SELECT on ``audit_log``, no DDL, not a superuser. Grants are per database.
- ``audit_log``: its id, time (``now()``), actor and role are set by a trigger (the actor from the
  transaction-local settings ``zonegeo.actor`` / ``zonegeo.actor_role``); a back-dated row or a chosen id is
  refused; each row stores the SHA-256 of the previous row (``prev_hash``) and of itself (``row_hash``), so a
  rewrite by a superuser is found by ``zonegeo audit verify``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OWNER_ROLE = "zonegeo_owner"
APP_ROLE = "zonegeo_app"
GENESIS = "0" * 64
# The canonical text of a row is PostgreSQL's own jsonb rendering of this array; `zonegeo audit verify` recomputes
# it with the same built-in expression (services/audit_verify.py), not with a function a superuser could replace.
ROW_TEXT = ("jsonb_build_array({p}id, to_char({p}at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
            "{p}actor, {p}role, {p}action, {p}object, {p}before, {p}after, {p}prev_hash)::text")
ROW_HASH = "encode(sha256(convert_to(" + ROW_TEXT + ", 'UTF8')), 'hex')"

# Tables of the application in schema public (PostGIS's own tables excluded: they belong to the extension).
APP_RELATIONS = """
    SELECT c.oid::regclass::text AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'S') AND c.relname <> 'alembic_version'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
"""


def _create_role(name: str, options: str) -> None:
    # Roles are cluster-wide: another database (the tests make one each) may have created it, even concurrently.
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                CREATE ROLE {name} {options};
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$""")


def _reassign(owner: str) -> None:
    """Tables and views first (a serial column's sequence follows its table), then any sequence left."""
    op.execute(f"""
        DO $$ DECLARE r record; BEGIN
            FOR r IN {APP_RELATIONS} AND c.relkind <> 'S' LOOP
                EXECUTE format('ALTER TABLE %s OWNER TO %I', r.name, {owner});
            END LOOP;
            FOR r IN {APP_RELATIONS} AND c.relkind = 'S' AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = {owner}) LOOP
                EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', r.name, {owner});
            END LOOP;
        END $$""")


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("user_agent", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(8), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('account', 'address')", name="ck_login_throttle_scope"),
    )
    _audit_chain()
    _roles_and_grants()


def _audit_chain() -> None:
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(64), nullable=False, server_default=""))
    # Rows written before this migration join the chain in id order (the append-only trigger paused for it).
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    op.execute(f"""
        DO $$ DECLARE r record; prev text := '{GENESIS}'; BEGIN
            FOR r IN SELECT id FROM audit_log ORDER BY id LOOP
                UPDATE audit_log a SET prev_hash = prev WHERE a.id = r.id;
                UPDATE audit_log a SET row_hash = {ROW_HASH.format(p="a.")} WHERE a.id = r.id
                    RETURNING a.row_hash INTO prev;
            END LOOP;
        END $$""")
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    # The id comes from the trigger, after the chain lock, so that id order is chain order.
    op.execute("ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT")
    op.execute(f"""
        CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp SET lock_timeout = '10s' AS $$
        DECLARE prev text;
        BEGIN
            IF NEW.id IS NOT NULL THEN
                RAISE EXCEPTION 'audit_log.id is assigned by the database' USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.at IS DISTINCT FROM now() THEN
                RAISE EXCEPTION 'audit_log.at is set by the database (now()), % refused', NEW.at
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            -- one writer at a time appends to the chain; the lock is held until this transaction ends
            PERFORM pg_advisory_xact_lock(hashtext('zonegeo.audit_log.chain'));
            NEW.id := nextval('audit_log_id_seq');
            NEW.actor := coalesce(nullif(current_setting('zonegeo.actor', true), ''), 'system');
            NEW.role := coalesce(nullif(current_setting('zonegeo.actor_role', true), ''), 'system');
            SELECT a.row_hash INTO prev FROM audit_log a ORDER BY a.id DESC LIMIT 1;
            NEW.prev_hash := coalesce(prev, '{GENESIS}');
            NEW.row_hash := {ROW_HASH.format(p="NEW.")};
            RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
                  FOR EACH ROW EXECUTE FUNCTION audit_log_chain()""")


def _roles_and_grants() -> None:
    _create_role(OWNER_ROLE, "NOLOGIN")
    _create_role(APP_ROLE, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
    _reassign(f"'{OWNER_ROLE}'")
    for function in ("audit_log_is_append_only()", "audit_log_chain()"):
        op.execute(f"ALTER FUNCTION {function} OWNER TO {OWNER_ROLE}")
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")  # PostgreSQL < 15 let every role create tables
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE ALL ON audit_log, alembic_version FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON audit_log TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON alembic_version TO {APP_ROLE}")
    op.execute(f"""DO $$ BEGIN
        IF to_regclass('public.spatial_ref_sys') IS NOT NULL THEN
            REVOKE INSERT, UPDATE, DELETE ON spatial_ref_sys FROM {APP_ROLE};
        END IF; END $$""")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE ALL ON SEQUENCE audit_log_id_seq FROM {APP_ROLE}")  # no setval, ids come from the trigger
    # Tables later migrations create (as whoever runs them, or as the owner role) get the same DML grants.
    for creator in ("", f" FOR ROLE {OWNER_ROLE}"):
        op.execute(f"ALTER DEFAULT PRIVILEGES{creator} IN SCHEMA public "
                   f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}")
        op.execute(f"ALTER DEFAULT PRIVILEGES{creator} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")


def downgrade() -> None:
    for creator in ("", f" FOR ROLE {OWNER_ROLE}"):
        op.execute(f"ALTER DEFAULT PRIVILEGES{creator} IN SCHEMA public "
                   f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}")
        op.execute(f"ALTER DEFAULT PRIVILEGES{creator} IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA public FROM {APP_ROLE}")
    _reassign("current_user")
    op.execute("ALTER FUNCTION audit_log_is_append_only() OWNER TO CURRENT_USER")
    op.execute("DROP TRIGGER audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION audit_log_chain()")
    op.execute("ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    op.drop_table("login_throttle")
    op.drop_table("web_session")
    # The roles stay: they are cluster-wide and other databases may use them.
