"""Engines and units of work for SQLite and PostgreSQL.

SQLite: foreign keys on, WAL, a busy timeout, and every writing transaction opened with BEGIN IMMEDIATE
so two writers can never both read a balance and then both spend it. PostgreSQL: psycopg 3; writers lock
the account rows they touch (see ledger_store). A unit of work rolls back unless committed, and turns
the database's "try again" signals (deadlock, serialization failure, busy, a lost idempotency race) into
`TransientDatabaseError`, which the service layer retries a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from budget_ledger.adapters.db.bank_tables import LINE_KEY_CONSTRAINT
from budget_ledger.adapters.db.models import IDEMPOTENCY_CONSTRAINT
from budget_ledger.adapters.db.payment_tables import ENTRY_KEY_CONSTRAINT, ONCE_PER_OBLIGATION
from budget_ledger.ledger.errors import TransientDatabaseError
from budget_ledger.settings import Settings

_BEGIN_OPTION = "budget_ledger_begin"
# Unique constraints two racing writers can meet: retrying the transaction turns the loser into a replay.
_RACE_CONSTRAINTS = {IDEMPOTENCY_CONSTRAINT, ONCE_PER_OBLIGATION, ENTRY_KEY_CONSTRAINT, LINE_KEY_CONSTRAINT}
_RACE_COLUMNS = ("journal_entries.idempotency_key", "payment_instructions.entry_key",
                 "payment_instructions.household_id, payment_instructions.obligation",
                 "bank_lines.account_iban, bank_lines.line_key")
_PG_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization_failure, deadlock, lock_not_available


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    # A writer waiting on another's row lock gives up after lock_timeout (SQLSTATE 55P03), which counts
    # as transient: the transaction is retried a bounded number of times instead of hanging.
    lock_timeout_ms = int(settings.postgresql_lock_timeout_seconds * 1000)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": f"-c lock_timeout={lock_timeout_ms}"},
    )


def _sqlite_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    database = url.database or ""
    if database in ("", ":memory:"):
        raise ValueError("budget_ledger needs a SQLite file, not an in-memory database (one per connection)")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_seconds})
    synchronous = settings.sqlite_synchronous
    busy_ms = int(settings.sqlite_busy_timeout_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event below decide how a transaction starts (pysqlite would
        # otherwise emit its own deferred BEGIN lazily).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        # Through SQLAlchemy, not the raw driver: a busy database must arrive as a wrapped OperationalError
        # so the unit of work can recognise it as transient and retry.
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_transient(exc: BaseException) -> bool:
    """Whether a database error means 'try the whole transaction again', not 'the request is wrong'."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_TRANSIENT_SQLSTATES:
        return True
    if isinstance(exc, IntegrityError):
        # Two writers raced for the same idempotency key (or, in a payment run, the same obligation's
        # instruction); on retry the loser finds the winner's entry and answers with a replay or a conflict.
        diag = getattr(orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None) if diag is not None else None
        message = str(orig)
        return constraint in _RACE_CONSTRAINTS or ("UNIQUE" in message and any(
            column in message for column in _RACE_COLUMNS))
    if isinstance(exc, OperationalError):
        text = str(orig).lower()
        return "database is locked" in text or "database is busy" in text or "deadlock" in text
    return False


class Database:
    """The engine plus a way to open units of work on it."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_db_engine(settings)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # Engine variants sharing the pool, with the transaction mode set once rather than per connection.
        if self.is_sqlite:
            self._writer = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            self._reader = self.engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        else:
            self._writer = self.engine
            self._reader = self.engine.execution_options(isolation_level="REPEATABLE READ")

    @contextmanager
    def connect(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction on one connection: committed when the block ends normally, rolled back on error.

        Read-only work starts with a deferred BEGIN on SQLite, so it does not take the write lock, and
        runs as REPEATABLE READ on PostgreSQL, so a report or export sees one consistent snapshot.
        """
        with (self._writer if write else self._reader).connect() as conn, transaction(conn):
            yield conn

    @contextmanager
    def held_writer(self) -> Iterator[Connection]:
        """One writing connection held by the caller for many transactions (`transaction`), which nobody
        else can use meanwhile: a payment run planned ahead compares the connection's view of other
        connections' commits from one chunk to the next (budget_ledger.run_ahead)."""
        with self._writer.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """A transaction on `conn`: committed when the block ends normally, rolled back on error, the database's
    "try again" signals raised as `TransientDatabaseError`."""
    try:
        with conn.begin():
            yield conn
    except DBAPIError as exc:
        if is_transient(exc):
            raise TransientDatabaseError(str(exc.orig)) from exc
        raise
