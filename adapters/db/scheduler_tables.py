"""The job store table of APScheduler 3's SQLAlchemyJobStore, created by migration 0007 like every other
table (APScheduler's own create_all then finds it and does nothing). Its shape is APScheduler's."""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from budget_ledger.adapters.db.models import Base

apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
