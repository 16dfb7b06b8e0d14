"""Evaluation rounds (综合评价): rounds, indicator scores along the five dimensions, grades confirmed by the province (issue 13).

- ``evaluation_round``: a round of 综合评价 held in a year (the year whose evaluation it is, 评价年度);
- ``evaluation_round_expert``: the experts assigned to score in it;
- ``evaluation_entry``: one zone in the round, whether it took part (or was absent with or without a 正当理由),
  and the province's confirmed grade (by whom, on which day, the computed total and grade at that moment, an
  override's reason, the lifecycle event the confirmation made);
- ``evaluation_score``: one scorer's score (0–100) of one dimension of one zone's sheet, unique per scorer ×
  dimension.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("evaluation_round", "evaluation_round_expert", "evaluation_entry", "evaluation_score")
GRADES = "('excellent', 'pass', 'fail')"
DIMENSIONS = "('institutions', 'functions', 'management', 'policy', 'industry')"


def upgrade() -> None:
    op.create_table(
        "evaluation_round",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("scheme", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="ck_evaluation_round_year"),
        sa.CheckConstraint("length(title) BETWEEN 1 AND 200", name="ck_evaluation_round_title"),
    )
    op.create_table(
        "evaluation_round_expert",
        sa.Column("round_id", sa.Integer, sa.ForeignKey("evaluation_round.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "evaluation_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("evaluation_round.id", ondelete="CASCADE"), nullable=False),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("participation", sa.String(24), nullable=False, server_default="taking_part"),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("computed_total", sa.Numeric(5, 2), nullable=True),
        sa.Column("computed_grade", sa.String(16), nullable=True),
        sa.Column("confirmed_grade", sa.String(16), nullable=True),
        sa.Column("override_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("confirmed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("confirmed_on", sa.Date, nullable=True),
        sa.Column("lifecycle_event_id", sa.Integer, sa.ForeignKey("lifecycle_event.id", ondelete="SET NULL"),
                  nullable=True),
        sa.UniqueConstraint("round_id", "zone_id", name="uq_evaluation_entry_zone"),
        sa.CheckConstraint("participation IN ('taking_part', 'absent_justified', 'absent')",
                           name="ck_evaluation_entry_participation"),
        # 正当理由: an absence with a justification names it; the others carry none
        sa.CheckConstraint("(participation = 'absent_justified') = (length(reason) > 0)",
                           name="ck_evaluation_entry_reason"),
        sa.CheckConstraint(f"confirmed_grade IS NULL OR confirmed_grade IN {GRADES}", name="ck_evaluation_entry_grade"),
        sa.CheckConstraint(f"computed_grade IS NULL OR computed_grade IN {GRADES}",
                           name="ck_evaluation_entry_computed"),
        sa.CheckConstraint("(confirmed_grade IS NULL) = (confirmed_on IS NULL)", name="ck_evaluation_entry_confirmed"),
        sa.CheckConstraint("confirmed_grade IS NULL OR participation = 'taking_part'",
                           name="ck_evaluation_entry_graded_took_part"),
    )
    op.create_table(
        "evaluation_score",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("evaluation_entry.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scorer", sa.Text, nullable=False),  # username of the logged-in expert or city bureau user
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("dimension", sa.String(32), nullable=False),
        sa.Column("score", sa.Numeric(5, 2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("entry_id", "scorer", "dimension", name="uq_evaluation_score_scorer_dimension"),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="ck_evaluation_score_range"),
        sa.CheckConstraint("role IN ('expert', 'city')", name="ck_evaluation_score_role"),
        sa.CheckConstraint(f"dimension IN {DIMENSIONS}", name="ck_evaluation_score_dimension"),
    )
    # owned like every other table (0006): the app role gets its DML grants from the default privileges
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} OWNER TO zonegeo_owner")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
