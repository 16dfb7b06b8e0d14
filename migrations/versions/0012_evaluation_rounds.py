"""Evaluation rounds (综合评价): rounds, indicator scores along the five dimensions, grades confirmed by the province (issue 13).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
