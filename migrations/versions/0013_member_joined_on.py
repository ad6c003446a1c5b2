"""A member who joins a household later (a nareiziger, S4) is recorded with the day they joined.

Revision ID: 0013_member_joined_on
Revises: 0012_api_access
Create Date: 2026-11-23

`household_members.joined_on` is NULL for the members registered with the household (they were there
from the start) and the day of arrival for one added later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_member_joined_on"
down_revision = "0012_api_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("household_members") as batch:
        batch.add_column(sa.Column("joined_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household_members") as batch:
        batch.drop_column("joined_on")
