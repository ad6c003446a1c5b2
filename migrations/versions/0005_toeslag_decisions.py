"""Toeslag decisions: an expected toeslag can be recorded as rejected (beschikking €0).

Revision ID: 0005_toeslag_decisions
Revises: 0004_budgetplans
Create Date: 2026-11-23

A rejected toeslag is no longer expected, and an advance made on it can no longer be repaid from it
(domain.md S2, negative case): the rules engine reports it as owed to the gemeente instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_toeslag_decisions"
down_revision = "0004_budgetplans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("expected_income") as batch:
        batch.add_column(sa.Column("rejected_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("expected_income") as batch:
        batch.drop_column("rejection_reason")
        batch.drop_column("rejected_on")
