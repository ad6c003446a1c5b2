"""SQLAlchemy 2 models of the book. The tables are created only by the Alembic migrations.

Amounts are BIGINT cents. Balances are debit-positive. Constraint names are fixed so that migrations
(SQLite batch mode) and error handling can refer to them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")



class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time, stored in UTC and always read back time-zone aware.

    SQLite keeps no time zone and would hand back naive datetimes; PostgreSQL's timestamptz would hand
    back the session's zone. Both become aware UTC here, so timestamps compare equal across engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be time-zone aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
IDEMPOTENCY_CONSTRAINT = "uq_journal_entries_idempotency_key"
OVERDRAFT_CONSTRAINT = "ck_accounts_no_overdraft"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"type IN {ACCOUNT_TYPES!r}", name="account_type"),
        # The database's own guard for client money: even a buggy caller cannot leave a no-overdraft
        # account on the wrong side of zero when a transaction commits.
        CheckConstraint(
            "NOT no_overdraft OR "
            "(CASE WHEN type IN ('asset', 'expense') THEN balance_cents ELSE -balance_cents END) >= 0",
            name="no_overdraft",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    no_overdraft: Mapped[bool] = mapped_column(Boolean, default=False)
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JournalEntryRow(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name=IDEMPOTENCY_CONSTRAINT),
        # One reversal per entry: reversing twice is refused by the database too.
        UniqueConstraint("reverses_entry_id", name="uq_journal_entries_reverses_entry_id"),
        CheckConstraint("status IN ('draft', 'posted')", name="entry_status"),
        Index("ix_journal_entries_booking_date", "booking_date"),
        Index("ix_journal_entries_household_id", "household_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    household_id: Mapped[int | None] = mapped_column(BigInteger)
    reverses_entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))
    # none_as_null: an entry without details stores SQL NULL, not the JSON text 'null'.
    details: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PostingRow(Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="nonzero_amount"),
        Index("ix_postings_account_id", "account_id"),
        Index("ix_postings_entry_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_entries.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)


accounts = AccountRow.__table__
journal_entries = JournalEntryRow.__table__
postings = PostingRow.__table__
