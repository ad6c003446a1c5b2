"""The SQL unit of work: every repository of one transaction, on one connection."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from budget_ledger.adapters.db.access_store import SqlAccessStore
from budget_ledger.adapters.db.bank_store import SqlBankStore
from budget_ledger.adapters.db.engine import Database, transaction
from budget_ledger.adapters.db.ledger_store import SqlLedgerStore
from budget_ledger.adapters.db.payment_store import SqlPaymentStore
from budget_ledger.adapters.db.registry_store import SqlRegistryStore
from budget_ledger.adapters.db.warning_store import SqlWarningStore

_connection_serials = itertools.count(1)


class SqlUnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ledger = SqlLedgerStore(conn)
        self.registry = SqlRegistryStore(conn)
        self.payments = SqlPaymentStore(conn)
        self.warnings = SqlWarningStore(conn)
        self.bank = SqlBankStore(conn)
        self.access = SqlAccessStore(conn)

    def change_marker(self) -> tuple[int, int] | None:
        """SQLite: (this connection's serial, PRAGMA data_version). data_version changes exactly when another
        connection commits, never for this connection's own commits; the serial (given once per DBAPI
        connection) keeps two connections' versions from being compared. PostgreSQL: None."""
        if self.conn.dialect.name != "sqlite":
            return None
        info = self.conn.connection.info
        serial = info.get("budget_ledger_serial")
        if serial is None:
            serial = info["budget_ledger_serial"] = next(_connection_serials)
        return serial, self.conn.exec_driver_sql("PRAGMA data_version").scalar_one()


def unit_of_work_factory(database: Database):  # type: ignore[no-untyped-def]
    """A UnitOfWorkFactory over `database`: each call opens one transaction."""

    @contextmanager
    def open_unit(*, write: bool) -> Iterator[SqlUnitOfWork]:
        with database.connect(write=write) as conn:
            yield SqlUnitOfWork(conn)

    return open_unit


def held_connection_units(conn: Connection):  # type: ignore[no-untyped-def]
    """A UnitOfWorkFactory whose every transaction runs on `conn` (held by the caller: Database.held_writer)."""

    @contextmanager
    def open_unit(*, write: bool) -> Iterator[SqlUnitOfWork]:
        with transaction(conn):
            yield SqlUnitOfWork(conn)

    return open_unit
