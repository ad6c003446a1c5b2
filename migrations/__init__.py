"""Alembic migrations, installed as `budget_ledger.migrations`. The schema is created only through these."""
