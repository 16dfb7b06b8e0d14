"""The regulation's lists of platforms and chain links end with “等”: an institution row may be a platform of
another kind (kind 'other_platform', its own words in kind_label, e.g. 知识产权信息公共服务网点) and may name chain
links beyond 创造/运用/保护/人才 (chain_other). The four named links stay checked in ``chain``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_KINDS = ("institution", "protection_center", "rapid_rights_center", "service_window")
NEW_KINDS = (*OLD_KINDS, "other_platform")


def upgrade() -> None:
    op.add_column("institution", sa.Column("kind_label", sa.Text, nullable=False, server_default=""))
    op.add_column("institution", sa.Column("chain_other", postgresql.ARRAY(sa.Text), nullable=False,
                                           server_default="{}"))
    op.drop_constraint("ck_institution_kind", "institution", type_="check")
    op.create_check_constraint("ck_institution_kind", "institution", f"kind IN {NEW_KINDS!r}")


def downgrade() -> None:
    # A platform of another kind has no place in the old schema: refuse rather than relabel it silently.
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM institution WHERE kind = 'other_platform') THEN "
               "RAISE EXCEPTION 'institution rows of kind other_platform exist; downgrade would lose them'; "
               "END IF; END $$")
    op.drop_constraint("ck_institution_kind", "institution", type_="check")
    op.create_check_constraint("ck_institution_kind", "institution", f"kind IN {OLD_KINDS!r}")
    op.drop_column("institution", "chain_other")
    op.drop_column("institution", "kind_label")
