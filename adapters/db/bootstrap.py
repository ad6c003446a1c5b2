"""Composition root for the database side: a LedgerService on a Database."""

from __future__ import annotations

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.ledger_store import sql_store_factory
from budget_ledger.posting import LedgerService


def ledger_service(database: Database) -> LedgerService:
    return LedgerService(sql_store_factory(database), retry_attempts=database.settings.transient_retry_attempts)
