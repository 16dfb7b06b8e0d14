"""Change events (变更事项) with their report deadlines, and who decided a version's state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KINDS = ("spatial_layout", "operator", "function", "mechanism", "other")


def upgrade() -> None:
    op.add_column("zone_version", sa.Column("decided_by", sa.Text, nullable=False, server_default=""))
    op.add_column("zone_version", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "change_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("metrics", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("report_due", sa.Date, nullable=False),
        sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reported_on", sa.Date, nullable=True),
        sa.Column("reported_by", sa.Text, nullable=False, server_default=""),
        sa.Column("report_note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name="ck_change_event_kind"),
        sa.CheckConstraint("report_due > occurred_on", name="ck_change_event_due"),
        sa.CheckConstraint("reported_on IS NULL OR reported_on >= occurred_on", name="ck_change_event_reported"),
        sa.CheckConstraint("kind <> 'spatial_layout' OR to_version IS NOT NULL", name="ck_change_event_versions"),
    )
    op.create_index("ix_change_event_zone_id", "change_event", ["zone_id"])
    op.create_index("ix_change_event_open_due", "change_event", ["report_due"],
                    postgresql_where=sa.text("reported_on IS NULL"))


def downgrade() -> None:
    op.drop_table("change_event")
    op.drop_column("zone_version", "decided_at")
    op.drop_column("zone_version", "decided_by")
