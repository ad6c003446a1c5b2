"""Alembic environment: runs on the connection handed in by budget_ledger, else on Settings' database."""

from __future__ import annotations

from alembic import context

from budget_ledger.adapters.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from budget_ledger.adapters.db.engine import create_db_engine
    from budget_ledger.settings import load_settings

    engine = create_db_engine(load_settings())
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: triggers differ per database")
run_migrations_online()
