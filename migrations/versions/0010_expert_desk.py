"""Expert opinions with 答辩 and 现场考察 recorded separately, and site visits (实地考察) with their findings (issue 13).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
