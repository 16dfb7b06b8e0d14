"""需人工审核 results recorded by experts and the province, and the name a decider may add to a version
(the actor itself always comes from the login).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RESULTS = ("meets", "fails", "needs_more")


def upgrade() -> None:
    op.create_table(
        "review_record",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reviewed_on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"result IN {RESULTS!r}", name="ck_review_record_result"),
        sa.CheckConstraint("role IN ('expert', 'province')", name="ck_review_record_role"),
    )
    op.add_column("zone_version", sa.Column("decided_by_name", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("zone_version", "decided_by_name")
    op.drop_table("review_record")
