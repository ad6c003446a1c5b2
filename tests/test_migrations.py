"""The migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import budget_ledger.adapters.db.access_tables  # noqa: F401 - registers the API token and audit tables
import budget_ledger.adapters.db.bank_tables  # noqa: F401 - registers the bank statement tables
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


def test_the_payee_details_migration_goes_down_and_up_again_keeping_the_rows(database, services):
    """0009 down (its columns and table gone, every other row kept) and up again (the schema matches the models,
    the leefgeld accounts are append-only again)."""
    import importlib
    from datetime import date

    import pytest
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import DBAPIError

    from budget_ledger.adapters.db.migrate import current_revision, downgrade, head_revision, upgrade

    payee_details = importlib.import_module("budget_ledger.migrations.versions.0009_payee_details")
    services.gemeenten.create({"code": "roermond", "name": "Roermond", "settings": {}}, "beheerder.anna")
    household = services.households.create({
        "gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 3, 15),
        "members": [{"name": "Yonas Tesfay", "date_of_birth": date(1998, 6, 1), "role": "aanvrager"}]},
        "beheerder.anna").household.id
    services.households.set_leefgeld_account(
        household, {"iban": "NL44RABO0123456789", "account_holder_name": "Y. Tesfay"}, "beheerder.anna")
    creditor = services.creditors.add(household, {
        "organisation": "Woonstichting", "account_holder_name": "Woonstichting", "iban": "NL91ABNA0417164300",
        "category": "huur", "reference_kind": "vrij", "reference": "Huur",
        "schedule": {"amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 3, 15)},
        "address": {"street_name": "Dijk", "building_number": "44", "postcode": "1601 GK", "town": "Enkhuizen"}},
        "beheerder.anna")
    database.engine.dispose()  # no pooled connection keeps the old schema

    downgrade(database, payee_details.down_revision)
    assert current_revision(database) == payee_details.down_revision
    with database.engine.connect() as conn:
        schema = inspect(conn)
        assert "household_leefgeld_accounts" not in schema.get_table_names()
        assert {"street_name", "town", "address_recorded_by"}.isdisjoint(c["name"] for c in schema.get_columns("creditors"))
        assert {"payee_town", "payee_country", "payee_street_name"}.isdisjoint(
            c["name"] for c in schema.get_columns("payment_instructions"))
        assert conn.execute(text("SELECT organisation FROM creditors")).scalars().all() == ["Woonstichting"]
        assert conn.execute(text("SELECT count(*) FROM creditor_schedules")).scalar_one() == 1
    database.engine.dispose()

    upgrade(database)
    assert current_revision(database) == head_revision()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
    database.engine.dispose()
    assert services.creditors.get(creditor.id).address is None  # the address went with its columns
    assert services.households.get(household).leefgeld_account is None
    services.households.set_leefgeld_account(
        household, {"iban": "NL44RABO0123456789", "account_holder_name": "Y. Tesfay"}, "beheerder.anna")
    with pytest.raises(DBAPIError), database.engine.begin() as conn:
        conn.execute(text("DELETE FROM household_leefgeld_accounts"))
