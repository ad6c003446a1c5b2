"""Payment runs and their payment instructions.

Revision ID: 0006_payment_runs
Revises: 0005_toeslag_decisions
Create Date: 2026-11-23

A payment run books what is due (through the planning service, in one transaction per household) and
records one payment instruction per payment that leaves the bank: planned → approved → exported →
executed, or rejected. The database guarantees:

- nothing is paid twice: (household_id, obligation, due_date) is unique among instructions that are not
  rejected (a partial unique index, on SQLite and PostgreSQL alike). A rejected instruction keeps its row
  for the audit trail but frees the key, so its obligation can be planned and paid again;
- every instruction points at exactly one ledger entry (entry_key and entry_id are unique);
- four eyes: a run recorded with four_eyes on cannot be approved by the user who started it;
- an end-to-end id is unique, at most 35 characters, in the SEPA character set.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_payment_runs"
down_revision = "0005_toeslag_decisions"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RUNS = "payment_runs"
INSTRUCTIONS = "payment_instructions"
# SEPA's basic Latin character set (EPC217); the service only ever generates [A-Z0-9-].
SEPA_SQLITE = "end_to_end_id NOT GLOB '*[^A-Za-z0-9/?:().,''+ -]*'"
SEPA_POSTGRESQL = "end_to_end_id ~ '^[A-Za-z0-9/?:().,''+ -]*$'"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    sepa = SEPA_SQLITE if op.get_bind().dialect.name == "sqlite" else SEPA_POSTGRESQL
    op.create_table(
        RUNS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_date", sa.Date(), nullable=False),
        # {"gemeente": code or null, "households": [ids] or null}
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        _ts("started_at", nullable=False),
        _ts("finished_at"),
        sa.Column("four_eyes", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        _ts("approved_at"),
        sa.Column("exported_by", sa.String(200), nullable=True),
        _ts("exported_at"),
        sa.Column("message_id", sa.String(35), nullable=True),
        sa.Column("cancelled_by", sa.String(200), nullable=True),
        _ts("cancelled_at"),
        sa.Column("report", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{RUNS}"),
        sa.CheckConstraint("status IN ('planned', 'approved', 'exported', 'cancelled')",
                           name=op.f(f"ck_{RUNS}_run_status")),
        sa.CheckConstraint("NOT four_eyes OR approved_by IS NULL OR approved_by <> started_by",
                           name=op.f(f"ck_{RUNS}_four_eyes")),
        sa.CheckConstraint("status NOT IN ('approved', 'exported') OR approved_by IS NOT NULL",
                           name=op.f(f"ck_{RUNS}_approved_has_approver")),
    )
    op.create_index(op.f(f"ix_{RUNS}_run_date"), RUNS, ["run_date"])
    op.create_table(
        INSTRUCTIONS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", BigId, sa.ForeignKey(f"{RUNS}.id"), nullable=False),
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=False),
        sa.Column("obligation", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("entry_id", BigId, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("reversal_entry_id", BigId, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("payee_kind", sa.String(16), nullable=False),
        sa.Column("creditor_id", BigId, sa.ForeignKey("creditors.id"), nullable=True),
        sa.Column("payee_name", sa.String(200), nullable=False),
        sa.Column("iban", sa.String(34), nullable=True),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("reference_kind", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(140), nullable=False),
        sa.Column("end_to_end_id", sa.String(35), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        _ts("approved_at"),
        _ts("exported_at"),
        _ts("executed_at"),
        sa.Column("rejected_by", sa.String(200), nullable=True),
        _ts("rejected_at"),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{INSTRUCTIONS}"),
        sa.UniqueConstraint("entry_key", name=f"uq_{INSTRUCTIONS}_entry_key"),
        sa.UniqueConstraint("entry_id", name=f"uq_{INSTRUCTIONS}_entry_id"),
        sa.UniqueConstraint("end_to_end_id", name=f"uq_{INSTRUCTIONS}_end_to_end_id"),
        sa.CheckConstraint("amount_cents > 0", name=op.f(f"ck_{INSTRUCTIONS}_positive_amount")),
        sa.CheckConstraint("payee_kind IN ('creditor', 'client', 'gemeente')", name=op.f(f"ck_{INSTRUCTIONS}_payee_kind")),
        sa.CheckConstraint("payee_kind <> 'creditor' OR creditor_id IS NOT NULL",
                           name=op.f(f"ck_{INSTRUCTIONS}_creditor_named")),
        sa.CheckConstraint("status IN ('planned', 'approved', 'exported', 'executed', 'rejected')",
                           name=op.f(f"ck_{INSTRUCTIONS}_instruction_status")),
        sa.CheckConstraint("status <> 'rejected' OR (rejected_at IS NOT NULL AND reversal_entry_id IS NOT NULL)",
                           name=op.f(f"ck_{INSTRUCTIONS}_rejected_is_reversed")),
        sa.CheckConstraint("length(end_to_end_id) BETWEEN 1 AND 35", name=op.f(f"ck_{INSTRUCTIONS}_end_to_end_length")),
        sa.CheckConstraint(sepa, name=op.f(f"ck_{INSTRUCTIONS}_end_to_end_charset")),
    )
    op.create_index(op.f(f"ix_{INSTRUCTIONS}_run_id"), INSTRUCTIONS, ["run_id"])
    # The guarantee that nothing is paid twice. Partial: a rejected instruction frees its obligation.
    op.create_index(
        f"uq_{INSTRUCTIONS}_household_id_obligation_due_date",
        INSTRUCTIONS,
        ["household_id", "obligation", "due_date"],
        unique=True,
        sqlite_where=sa.text("status <> 'rejected'"),
        postgresql_where=sa.text("status <> 'rejected'"),
    )


def downgrade() -> None:
    op.drop_index(f"uq_{INSTRUCTIONS}_household_id_obligation_due_date", table_name=INSTRUCTIONS)
    op.drop_index(op.f(f"ix_{INSTRUCTIONS}_run_id"), table_name=INSTRUCTIONS)
    op.drop_table(INSTRUCTIONS)
    op.drop_index(op.f(f"ix_{RUNS}_run_date"), table_name=RUNS)
    op.drop_table(RUNS)
