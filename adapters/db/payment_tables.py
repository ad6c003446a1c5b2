"""Tables of payment runs and payment instructions (created by migration 0006; see it for the guarantees).

An instruction is unique per (household, obligation, due date) among those not rejected: a partial unique
index, the database's own guarantee that nothing is paid twice, while a rejected instruction keeps its row
and frees its obligation to be planned again.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

import budget_ledger.adapters.db.registry_tables  # noqa: F401 - households and creditors, referred to below
from budget_ledger.adapters.db.models import Base, BigId, UtcDateTime

metadata = Base.metadata

RUN_STATUSES = ("planned", "approved", "exported", "cancelled")
INSTRUCTION_STATUSES = ("planned", "approved", "exported", "executed", "rejected")
PAYEE_KINDS = ("creditor", "client", "gemeente")
ONCE_PER_OBLIGATION = "uq_payment_instructions_household_id_obligation_due_date"
ENTRY_KEY_CONSTRAINT = "uq_payment_instructions_entry_key"

payment_runs = Table(
    "payment_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_date", Date, nullable=False, index=True),
    Column("scope", JSON, nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    # The organisation's four-eyes setting when the run started; the CHECK below holds it to it.
    Column("four_eyes", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("approved_by", String(200), nullable=True),
    Column("approved_at", UtcDateTime(), nullable=True),
    Column("exported_by", String(200), nullable=True),
    Column("exported_at", UtcDateTime(), nullable=True),
    Column("message_id", String(35), nullable=True),
    Column("cancelled_by", String(200), nullable=True),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Column("report", JSON(none_as_null=True), nullable=True),
    CheckConstraint(f"status IN {RUN_STATUSES!r}", name="run_status"),
    CheckConstraint("NOT four_eyes OR approved_by IS NULL OR approved_by <> started_by", name="four_eyes"),
    CheckConstraint("status NOT IN ('approved', 'exported') OR approved_by IS NOT NULL", name="approved_has_approver"),
)

payment_instructions = Table(
    "payment_instructions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("payment_runs.id"), nullable=False, index=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False),
    Column("obligation", String(200), nullable=False),
    Column("due_date", Date, nullable=False),
    # The requested execution date: the due date, or the run's day for a payment caught up late.
    Column("execution_date", Date, nullable=False),
    # The ledger entry that moved the money to org:bank:onderweg, by its idempotency key and id.
    Column("entry_key", String(200), nullable=False),
    Column("entry_id", BigId, ForeignKey("journal_entries.id"), nullable=False),
    Column("reversal_entry_id", BigId, ForeignKey("journal_entries.id"), nullable=True),
    Column("rule", String(100), nullable=False),
    Column("category", String(60), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("payee_kind", String(16), nullable=False),
    Column("creditor_id", BigId, ForeignKey("creditors.id"), nullable=True),
    Column("payee_name", String(200), nullable=False),
    # NULL when the payee's account is not known (leefgeld without a client IBAN): not exportable.
    Column("iban", String(34), nullable=True),
    Column("bic", String(11), nullable=True),
    Column("reference_kind", String(20), nullable=False),
    Column("reference", String(140), nullable=False),
    Column("end_to_end_id", String(35), nullable=False),
    # The payee's postal address when the run made the instruction (0009), for the bank file; NULL when
    # none was known. A later change of the creditor's address leaves it as it was.
    Column("payee_street_name", String(70), nullable=True),
    Column("payee_building_number", String(16), nullable=True),
    Column("payee_postcode", String(16), nullable=True),
    Column("payee_town", String(35), nullable=True),
    Column("payee_country", String(2), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("approved_by", String(200), nullable=True),
    Column("approved_at", UtcDateTime(), nullable=True),
    Column("exported_at", UtcDateTime(), nullable=True),
    Column("executed_at", UtcDateTime(), nullable=True),
    Column("rejected_by", String(200), nullable=True),
    Column("rejected_at", UtcDateTime(), nullable=True),
    Column("rejection_reason", Text, nullable=True),
    UniqueConstraint("entry_key", name=ENTRY_KEY_CONSTRAINT),
    UniqueConstraint("entry_id", name="uq_payment_instructions_entry_id"),
    UniqueConstraint("end_to_end_id", name="uq_payment_instructions_end_to_end_id"),
    CheckConstraint("amount_cents > 0", name="positive_amount"),
    CheckConstraint(f"payee_kind IN {PAYEE_KINDS!r}", name="payee_kind"),
    CheckConstraint("payee_kind <> 'creditor' OR creditor_id IS NOT NULL", name="creditor_named"),
    CheckConstraint(f"status IN {INSTRUCTION_STATUSES!r}", name="instruction_status"),
    CheckConstraint("status <> 'rejected' OR (rejected_at IS NOT NULL AND reversal_entry_id IS NOT NULL)",
                    name="rejected_is_reversed"),
    CheckConstraint("length(end_to_end_id) BETWEEN 1 AND 35", name="end_to_end_length"),
    CheckConstraint("end_to_end_id NOT GLOB '*[^A-Za-z0-9/?:().,''+ -]*'", name="end_to_end_charset"
                    ).ddl_if(dialect="sqlite"),
    CheckConstraint("end_to_end_id ~ '^[A-Za-z0-9/?:().,''+ -]*$'", name="end_to_end_charset"
                    ).ddl_if(dialect="postgresql"),
    Index(ONCE_PER_OBLIGATION, "household_id", "obligation", "due_date", unique=True,
          sqlite_where=text("status <> 'rejected'"), postgresql_where=text("status <> 'rejected'")),
)
