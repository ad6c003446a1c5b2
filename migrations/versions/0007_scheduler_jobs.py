"""The scheduler's job store: APScheduler 3's apscheduler_jobs table, in the service's own database.

Revision ID: 0007_scheduler_jobs
Revises: 0006_payment_runs
Create Date: 2026-11-23

The schema exists only through migrations, so the table APScheduler would create for itself is created
here with the same shape (id, next_run_time, pickled job_state).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_scheduler_jobs"
down_revision = "0006_payment_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), nullable=False),
        sa.Column("next_run_time", sa.Float(25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apscheduler_jobs"),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
