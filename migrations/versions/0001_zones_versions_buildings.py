"""Zones, their versioned spatial layout (boundary, core, buildings) and institutions.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SRID = 4490
CITIES = ("南京市", "无锡市", "徐州市", "常州市", "苏州市", "南通市", "连云港市",
          "淮安市", "盐城市", "扬州市", "镇江市", "泰州市", "宿迁市")


def _geom(kind: str) -> Geometry:
    return Geometry(kind, srid=SRID, spatial_index=False)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "zone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("city", sa.String(16), nullable=False),
        sa.Column("builder", sa.Text, nullable=False, server_default=""),
        sa.Column("operator", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False, server_default="registered"),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"city IN {CITIES!r}", name="ck_zone_city"),
        sa.CheckConstraint("code ~ '^[A-Za-z0-9][A-Za-z0-9_-]*$'", name="ck_zone_code"),
    )
    op.create_table(
        "zone_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("boundary", _geom("MULTIPOLYGON"), nullable=False),
        sa.Column("core", _geom("MULTIPOLYGON"), nullable=True),
        sa.Column("source_files", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("ingest_warnings", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("uploaded_by", sa.Text, nullable=False, server_default=""),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("zone_id", "number", name="uq_zone_version_number"),
        sa.CheckConstraint("number >= 1", name="ck_zone_version_number"),
        sa.CheckConstraint("state IN ('draft', 'submitted', 'approved', 'superseded')", name="ck_zone_version_state"),
        sa.CheckConstraint("ST_IsValid(boundary)", name="ck_zone_version_boundary_valid"),
        sa.CheckConstraint("core IS NULL OR ST_IsValid(core)", name="ck_zone_version_core_valid"),
    )
    op.create_index("ix_zone_version_zone_id", "zone_version", ["zone_id"])
    op.create_index("ix_zone_version_boundary", "zone_version", ["boundary"], postgresql_using="gist")
    op.create_index("ix_zone_version_core", "zone_version", ["core"], postgresql_using="gist")
    op.create_index("uq_zone_version_one_approved", "zone_version", ["zone_id"], unique=True,
                    postgresql_where=sa.text("state = 'approved'"))
    op.create_table(
        "building",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("zone_version.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("footprint", _geom("MULTIPOLYGON"), nullable=False),
        sa.Column("floors", sa.Integer, nullable=False),
        sa.Column("floors_used", sa.Integer, nullable=False),
        sa.Column("declared_floor_area_m2", sa.Double, nullable=True),
        sa.CheckConstraint("floors >= 1", name="ck_building_floors"),
        sa.CheckConstraint("floors_used >= 0 AND floors_used <= floors", name="ck_building_floors_used"),
        sa.CheckConstraint("declared_floor_area_m2 IS NULL OR declared_floor_area_m2 > 0",
                           name="ck_building_declared_area"),
        sa.CheckConstraint("ST_IsValid(footprint)", name="ck_building_footprint_valid"),
    )
    op.create_index("ix_building_version_id", "building", ["version_id"])
    op.create_index("ix_building_footprint", "building", ["footprint"], postgresql_using="gist")
    op.create_table(
        "institution",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("credit_code", sa.String(32), nullable=False, server_default=""),
        sa.Column("kind", sa.String(32), nullable=False, server_default="institution"),
        sa.Column("services", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("chain", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("location", _geom("POINT"), nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("building", sa.Text, nullable=False, server_default=""),
        sa.Column("floor", sa.Text, nullable=False, server_default=""),
        sa.Column("entered_on", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date, nullable=True),
        sa.CheckConstraint("kind IN ('institution', 'protection_center', 'rapid_rights_center', 'service_window')",
                           name="ck_institution_kind"),
        sa.CheckConstraint("left_on IS NULL OR left_on >= entered_on", name="ck_institution_dates"),
        sa.CheckConstraint("chain <@ ARRAY['创造', '运用', '保护', '人才']::text[]", name="ck_institution_chain"),
    )
    op.create_index("ix_institution_zone_id", "institution", ["zone_id"])
    op.create_index("ix_institution_location", "institution", ["location"], postgresql_using="gist")
    op.create_index("uq_institution_active_code", "institution", ["zone_id", "credit_code"], unique=True,
                    postgresql_where=sa.text("left_on IS NULL AND credit_code <> ''"))


def downgrade() -> None:
    op.drop_table("institution")
    op.drop_table("building")
    op.drop_table("zone_version")
    op.drop_table("zone")
