"""Composition root for the database side: the services, wired to one Database."""

from __future__ import annotations

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.unit_of_work import unit_of_work_factory
from budget_ledger.posting import LedgerService
from budget_ledger.transactions import Transactions


def transactions(database: Database) -> Transactions:
    return Transactions(unit_of_work_factory(database), retry_attempts=database.settings.transient_retry_attempts)


def ledger_service(database: Database) -> LedgerService:
    return LedgerService(transactions(database))
