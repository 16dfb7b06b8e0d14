"""Public objections during the 公示 (with receipt numbers) and announcements (公告) on the public site (issue 14).

- ``public_objection``: an objection filed on the public 公示 page (name, contact, text, one optional attachment),
  numbered by its receipt (YY-2026-000123), linked to the lifecycle ``objection`` event it was registered as and
  to the ``resolve_objection`` event that handled it;
- ``public_objection_throttle``: objections filed per client address (its SHA-256) in the current window, counted
  atomically like the login throttle, so every worker and host shares the limit.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_objection",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("receipt", sa.String(32), nullable=False, unique=True),
        sa.Column("notice_start", sa.Date, nullable=False),
        sa.Column("notice_end", sa.Date, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("attachment_name", sa.Text, nullable=False, server_default=""),
        sa.Column("attachment_type", sa.String(64), nullable=False, server_default=""),
        sa.Column("attachment_size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attachment_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("attachment", sa.LargeBinary, nullable=True),
        sa.Column("objection_event_id", sa.Integer,
                  sa.ForeignKey("lifecycle_event.id", ondelete="SET NULL"), nullable=True),
        sa.Column("resolve_event_id", sa.Integer,
                  sa.ForeignKey("lifecycle_event.id", ondelete="SET NULL"), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("char_length(text) BETWEEN 1 AND 5000", name="ck_public_objection_text"),
        sa.CheckConstraint("attachment_size >= 0 AND attachment_size <= 10485760", name="ck_public_objection_size"),
    )
    op.create_table(
        "public_objection_throttle",
        sa.Column("address_sha256", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("filed", sa.Integer, nullable=False, server_default="0"),
    )
    # owned like every other table (0006): the app role gets its DML grants from the default privileges
    for table in ("public_objection", "public_objection_throttle"):
        op.execute(f"ALTER TABLE {table} OWNER TO zonegeo_owner")


def downgrade() -> None:
    op.drop_table("public_objection_throttle")
    op.drop_table("public_objection")
