"""The applicant's web desk (issue 12):

- ``zone.four_sides``: the 四至 as the 申报表 words it ({"east": "东至…", "south": …, "west": …, "north": …}),
  shown beside the drawn boundary so a reviewer can compare the words with the polygon;
- ``zone_version.state`` may be ``withdrawn``: a draft the applicant withdrew (kept, audited, never approved);
- ``institution.located_by``: how the institution's point was obtained (coordinates, building, geocoder, map);
- ``register_draft``: an institution register uploaded for review. Institutions change only when the province
  approves the draft (on its own, or with the layout version it came with); an institutions-only upload makes no
  layout version.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('draft', 'submitted', 'approved', 'superseded')"
NEW_STATES = "state IN ('draft', 'submitted', 'approved', 'superseded', 'withdrawn')"
LOCATED_BY = "located_by IN ('', 'coordinates', 'building', 'geocoder', 'map')"
REGISTER_STATES = "state IN ('draft', 'submitted', 'approved', 'superseded', 'withdrawn', 'returned')"


def upgrade() -> None:
    op.add_column("zone", sa.Column("four_sides", postgresql.JSONB, nullable=False, server_default="{}"))
    op.drop_constraint("ck_zone_version_state", "zone_version", type_="check")
    op.create_check_constraint("ck_zone_version_state", "zone_version", NEW_STATES)
    op.add_column("institution", sa.Column("located_by", sa.String(16), nullable=False, server_default=""))
    op.create_check_constraint("ck_institution_located_by", "institution", LOCATED_BY)
    op.create_table(
        "register_draft",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
        # the layout version uploaded together with this register, if any (decided together)
        sa.Column("version_number", sa.Integer, nullable=True),
        sa.Column("rows", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("source_files", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("ingest_warnings", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Text, nullable=False, server_default=""),
        sa.Column("decided_by", sa.Text, nullable=False, server_default=""),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("zone_id", "number", name="uq_register_draft_number"),
        sa.CheckConstraint("number >= 1", name="ck_register_draft_number"),
        sa.CheckConstraint(REGISTER_STATES, name="ck_register_draft_state"),
    )
    # owned like every other table (0006): the app role gets its DML grants from the default privileges
    op.execute("ALTER TABLE register_draft OWNER TO zonegeo_owner")


def downgrade() -> None:
    op.drop_table("register_draft")
    op.drop_constraint("ck_institution_located_by", "institution", type_="check")
    op.drop_column("institution", "located_by")
    # A withdrawn draft has no place in the old schema: refuse rather than relabel it silently.
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM zone_version WHERE state = 'withdrawn') THEN "
               "RAISE EXCEPTION 'withdrawn layout versions exist; downgrade would lose them'; END IF; END $$")
    op.drop_constraint("ck_zone_version_state", "zone_version", type_="check")
    op.create_check_constraint("ck_zone_version_state", "zone_version", OLD_STATES)
    op.drop_column("zone", "four_sides")
