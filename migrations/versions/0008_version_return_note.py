"""The province's 退回意见 on a layout version (issue 13): a submitted version may be returned to draft with a
comment the applicant reads on the zone page's version row, kept on the version (``zone_version.note``) beside
who decided and when, as the register draft keeps its own (``register_draft.note``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("zone_version", sa.Column("note", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("zone_version", "note")
