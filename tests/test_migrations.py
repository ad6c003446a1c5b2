"""The migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import budget_ledger.adapters.db.payment_tables  # noqa: F401 - registers the payment-run tables
import budget_ledger.adapters.db.registry_tables  # noqa: F401 - registers the registry tables
import budget_ledger.adapters.db.scheduler_tables  # noqa: F401 - registers the job store table
import budget_ledger.adapters.db.warning_tables  # noqa: F401 - registers the warnings tables
from budget_ledger.adapters.db.models import Base


def test_the_migrated_schema_matches_the_models(database):
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
