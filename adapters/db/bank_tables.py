"""Tables of imported bank statements and their lines (created by migration 0011; see it for the guarantees).

A line is one payment the bank reported: an entry of a statement, or one transaction of a batch entry.
Its `line_key` (the bank's reference, else a digest of account, date, amount and references) is unique
per account, so a statement imported twice, or two statements that overlap, store each line once. A line
is matched when it is imported, or waits in the work queue (status `unmatched`) until a budgetbeheerder
assigns it; its assignments say to whom the money went.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

import budget_ledger.adapters.db.payment_tables  # noqa: F401 - instructions, referred to below
from budget_ledger.adapters.db.models import Base, BigId, UtcDateTime

metadata = Base.metadata

LINE_STATUSES = ("matched", "unmatched", "assigned", "skipped")
LINE_KEY_CONSTRAINT = "uq_bank_lines_account_iban_line_key"

bank_statement_imports = Table(
    "bank_statement_imports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("file_sha256", String(64), nullable=False, index=True),
    Column("message_id", String(35), nullable=False),
    Column("version", String(20), nullable=False),
    Column("statement_id", String(35), nullable=False),
    Column("account_iban", String(34), nullable=False, index=True),
    Column("electronic_sequence", Integer, nullable=True),
    Column("from_date", Date, nullable=True),
    Column("to_date", Date, nullable=True),
    Column("opening_cents", BigInteger, nullable=True),
    Column("opening_date", Date, nullable=True),
    Column("closing_cents", BigInteger, nullable=True),
    Column("closing_date", Date, nullable=True),
    # What the ledger's bank account said for the same days, after the import.
    Column("ledger_opening_cents", BigInteger, nullable=True),
    Column("ledger_closing_cents", BigInteger, nullable=True),
    Column("lines_total", Integer, nullable=False),
    Column("lines_new", Integer, nullable=False),
    Column("lines_known", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
)

bank_lines = Table(
    "bank_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", BigId, ForeignKey("bank_statement_imports.id"), nullable=False, index=True),
    Column("account_iban", String(34), nullable=False),
    Column("line_key", String(200), nullable=False),
    Column("entry_index", Integer, nullable=False),
    Column("transaction_index", Integer, nullable=False),
    Column("booking_date", Date, nullable=False, index=True),
    Column("value_date", Date, nullable=True),
    # Signed, as the organisation sees it: a credit (money in) is positive.
    Column("amount_cents", BigInteger, nullable=False),
    Column("bank_reference", String(120), nullable=True),
    Column("end_to_end_id", String(35), nullable=True, index=True),
    Column("counterparty_name", String(140), nullable=True),
    Column("counterparty_iban", String(34), nullable=True, index=True),
    Column("remittance", Text, nullable=False),
    Column("structured_reference", String(35), nullable=True),
    Column("return_reason", String(4), nullable=True),
    Column("bank_transaction_code", String(40), nullable=True),
    Column("status", String(16), nullable=False, index=True),
    # How it was matched ("own-payment", "return", "expected-income", …) and why, in words.
    Column("match_kind", String(30), nullable=True),
    Column("match_reason", Text, nullable=False),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=True, index=True),
    Column("instruction_id", BigId, ForeignKey("payment_instructions.id"), nullable=True),
    Column("expected_income_id", BigId, ForeignKey("expected_income.id"), nullable=True),
    Column("entry_id", BigId, ForeignKey("journal_entries.id"), nullable=True),
    Column("details", JSON, nullable=False),
    Column("assigned_by", String(200), nullable=True),
    Column("assigned_at", UtcDateTime(), nullable=True),
    UniqueConstraint("account_iban", "line_key", name=LINE_KEY_CONSTRAINT),
    CheckConstraint("amount_cents <> 0", name="nonzero_amount"),
    CheckConstraint(f"status IN {LINE_STATUSES!r}", name="line_status"),
    CheckConstraint("status <> 'assigned' OR (assigned_by IS NOT NULL AND assigned_at IS NOT NULL)",
                    name="assigned_by_someone"),
)

bank_line_assignments = Table(
    "bank_line_assignments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("line_id", BigId, ForeignKey("bank_lines.id"), nullable=False, index=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=True),
    Column("instruction_id", BigId, ForeignKey("payment_instructions.id"), nullable=True),
    Column("income_source", String(40), nullable=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("entry_id", BigId, ForeignKey("journal_entries.id"), nullable=False),
    Column("note", Text, nullable=False),
    Column("assigned_by", String(200), nullable=False),
    Column("assigned_at", UtcDateTime(), nullable=False),
    CheckConstraint("amount_cents > 0", name="positive_amount"),
    CheckConstraint("household_id IS NOT NULL OR instruction_id IS NOT NULL", name="assigned_to_something"),
)
