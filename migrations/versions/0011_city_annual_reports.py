"""The 设区市's annual summary report (总结报告) per year with its per-zone indicators (issue 13).

- ``city_annual_report``: one per 设区市 and year (unique), the three sections of the regulation's sentence
  (发展情况, 存在问题, 意见建议), its state (draft → filed → received), when and by whom it was filed, the deadline
  it was judged against and how many working days late it came. The city may revise a filed report until the
  province marks it received; then it is locked.
- ``annual_zone_indicator``: the figures of each zone of the city titled during the year (institutions entered
  and left, staff, service revenue and policy funds in 万元, cases handled by the platforms) and the register's
  own figures at the time of saving (``register``: prefilled counts, coverage by chain link and service type).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

REPORT_STATES = "state IN ('draft', 'filed', 'received')"
SECTION_MAX = 5000  # characters per section; domain/annual_report.py says the same


def upgrade() -> None:
    op.create_table(
        "city_annual_report",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("city", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("development", sa.Text, nullable=False, server_default=""),  # 发展情况
        sa.Column("problems", sa.Text, nullable=False, server_default=""),  # 存在问题
        sa.Column("suggestions", sa.Text, nullable=False, server_default=""),  # 意见建议
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("filed_on", sa.Date, nullable=True),
        sa.Column("filed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("filed_via", sa.String(16), nullable=False, server_default=""),  # form | xlsx | api
        sa.Column("workdays_late", sa.Integer, nullable=False, server_default="0"),
        sa.Column("revisions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("received_on", sa.Date, nullable=True),
        sa.Column("received_by", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_by", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("city", "year", name="uq_city_annual_report_city_year"),
        sa.CheckConstraint(REPORT_STATES, name="ck_city_annual_report_state"),
        sa.CheckConstraint("year BETWEEN 2000 AND 9998", name="ck_city_annual_report_year"),
        sa.CheckConstraint(f"char_length(development) <= {SECTION_MAX} AND char_length(problems) <= {SECTION_MAX} "
                           f"AND char_length(suggestions) <= {SECTION_MAX}", name="ck_city_annual_report_sections"),
        sa.CheckConstraint("workdays_late >= 0 AND revisions >= 0", name="ck_city_annual_report_counts"),
        sa.CheckConstraint("(state = 'draft') = (filed_on IS NULL)", name="ck_city_annual_report_filed"),
        sa.CheckConstraint("(state = 'received') = (received_on IS NOT NULL)", name="ck_city_annual_report_received"),
    )
    op.create_table(
        "annual_zone_indicator",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("city_annual_report.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("institutions_entered", sa.Integer, nullable=True),
        sa.Column("institutions_left", sa.Integer, nullable=True),
        sa.Column("staff", sa.Integer, nullable=True),
        sa.Column("service_revenue_wan", sa.Numeric(14, 2), nullable=True),
        sa.Column("policy_funds_wan", sa.Numeric(14, 2), nullable=True),
        sa.Column("platform_cases", sa.Integer, nullable=True),
        # the register's figures when the row was last saved: entered/left counts, coverage by chain and service
        sa.Column("register", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.UniqueConstraint("report_id", "zone_id", name="uq_annual_zone_indicator_zone"),
        sa.CheckConstraint("institutions_entered >= 0 AND institutions_left >= 0 AND staff >= 0 "
                           "AND service_revenue_wan >= 0 AND policy_funds_wan >= 0 AND platform_cases >= 0",
                           name="ck_annual_zone_indicator_non_negative"),
    )
    # owned like every other table (0006): the app role gets its DML grants from the default privileges
    op.execute("ALTER TABLE city_annual_report OWNER TO zonegeo_owner")
    op.execute("ALTER TABLE annual_zone_indicator OWNER TO zonegeo_owner")


def downgrade() -> None:
    op.drop_table("annual_zone_indicator")
    op.drop_table("city_annual_report")
