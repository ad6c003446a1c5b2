"""The SQL unit of work: every repository of one transaction, on one connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from budget_ledger.adapters.db.access_store import SqlAccessStore
from budget_ledger.adapters.db.bank_store import SqlBankStore
from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.ledger_store import SqlLedgerStore
from budget_ledger.adapters.db.payment_store import SqlPaymentStore
from budget_ledger.adapters.db.registry_store import SqlRegistryStore
from budget_ledger.adapters.db.warning_store import SqlWarningStore


class SqlUnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ledger = SqlLedgerStore(conn)
        self.registry = SqlRegistryStore(conn)
        self.payments = SqlPaymentStore(conn)
        self.warnings = SqlWarningStore(conn)
        self.bank = SqlBankStore(conn)
        self.access = SqlAccessStore(conn)


def unit_of_work_factory(database: Database):  # type: ignore[no-untyped-def]
    """A UnitOfWorkFactory over `database`: each call opens one transaction."""

    @contextmanager
    def open_unit(*, write: bool) -> Iterator[SqlUnitOfWork]:
        with database.connect(write=write) as conn:
            yield SqlUnitOfWork(conn)

    return open_unit
