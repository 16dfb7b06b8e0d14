"""Change-report receipts (issue 13): the province's 回执 on a filed change report (who, when, a receipt number
such as ``HZ-2026-000123``) and the city bureau's record that it received its copy (抄报已收到).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("change_event", sa.Column("acknowledged_on", sa.Date, nullable=True))
    op.add_column("change_event", sa.Column("acknowledged_by", sa.Text, nullable=False, server_default=""))
    op.add_column("change_event", sa.Column("receipt_no", sa.Text, nullable=False, server_default=""))
    op.add_column("change_event", sa.Column("city_received_on", sa.Date, nullable=True))
    op.add_column("change_event", sa.Column("city_received_by", sa.Text, nullable=False, server_default=""))
    op.create_check_constraint(
        "ck_change_event_acknowledged_after_report", "change_event",
        "acknowledged_on IS NULL OR (reported_on IS NOT NULL AND acknowledged_on >= reported_on)")
    op.create_check_constraint(
        "ck_change_event_received_after_report", "change_event",
        "city_received_on IS NULL OR (reported_on IS NOT NULL AND city_received_on >= reported_on)")
    op.create_check_constraint(
        "ck_change_event_receipt_with_acknowledgement", "change_event",
        "(receipt_no = '') = (acknowledged_on IS NULL)")
    op.create_index("ux_change_event_receipt_no", "change_event", ["receipt_no"], unique=True,
                    postgresql_where=sa.text("receipt_no <> ''"))


def downgrade() -> None:
    op.drop_index("ux_change_event_receipt_no", table_name="change_event")
    for name in ("receipt_with_acknowledgement", "received_after_report", "acknowledged_after_report"):
        op.drop_constraint(f"ck_change_event_{name}", "change_event", type_="check")
    for column in ("city_received_by", "city_received_on", "receipt_no", "acknowledged_by", "acknowledged_on"):
        op.drop_column("change_event", column)
