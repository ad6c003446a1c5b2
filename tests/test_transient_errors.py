"""A busy or locked database is retried a bounded number of times and reported as busy, never as
insufficient funds; nothing is written."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import text

from book import income, open_book, pay
from budget_ledger.adapters.db.bootstrap import ledger_service
from budget_ledger.ledger import Money
from budget_ledger.ledger.errors import DatabaseBusyError, TransientDatabaseError
from budget_ledger.posting import LedgerService
from budget_ledger.transactions import Transactions

APRIL_1 = date(2025, 4, 1)


def hold_write_lock(database, account_code: str):
    """Another writer holding the lock the posting needs: SQLite's database lock, PostgreSQL's row lock."""
    conn = database.engine.connect()
    trans = conn.begin()  # BEGIN IMMEDIATE on SQLite: the database write lock
    if database.engine.dialect.name == "postgresql":
        conn.execute(text("SELECT id FROM accounts WHERE code = :c FOR UPDATE"), {"c": account_code})
    return conn, trans


def test_a_locked_basisrekening_ends_in_busy_not_in_insufficient_funds(database_maker):
    database = database_maker.make(sqlite_busy_timeout_seconds=0.05, postgresql_lock_timeout_seconds=0.05,
                                   transient_retry_attempts=3)
    ledger = ledger_service(database)
    h = open_book(ledger)[1]
    ledger.post(income("bijstand", APRIL_1, h, "1000.00"))

    conn, trans = hold_write_lock(database, h["basis"])
    try:
        with pytest.raises(DatabaseBusyError, match="3 attempts"):
            ledger.post(pay("huur", APRIL_1, h, "725.00"))
    finally:
        trans.rollback()
        conn.close()

    assert ledger.balance(h["basis"]) == Money.parse("1000.00")
    assert ledger.post(pay("huur", APRIL_1, h, "725.00")).replayed is False
    assert ledger.balance(h["basis"]) == Money.parse("275.00")


def test_a_lock_released_during_the_retries_lets_the_posting_through(database_maker):
    database = database_maker.make(sqlite_busy_timeout_seconds=0.05, postgresql_lock_timeout_seconds=0.05,
                                   transient_retry_attempts=12)
    ledger = ledger_service(database)
    h = open_book(ledger)[1]
    ledger.post(income("bijstand", APRIL_1, h, "1000.00"))

    conn, trans = hold_write_lock(database, h["basis"])
    release = threading.Timer(0.2, lambda: (trans.rollback(), conn.close()))
    release.start()
    try:
        entry = ledger.post(pay("huur", APRIL_1, h, "725.00"))
    finally:
        release.join()
    assert not entry.replayed
    assert ledger.balance(h["basis"]) == Money.parse("275.00")


def test_retries_are_bounded_and_back_off():
    attempts = []
    pauses = []

    class AlwaysBusy:
        def __call__(self, *, write: bool):
            attempts.append(write)
            raise TransientDatabaseError("deadlock detected")

    service = LedgerService(Transactions(AlwaysBusy(), retry_attempts=5, sleep=pauses.append))
    with pytest.raises(DatabaseBusyError):
        service.accounts()
    assert len(attempts) == 5
    assert len(pauses) == 4 and all(0 < p <= 0.75 for p in pauses)
