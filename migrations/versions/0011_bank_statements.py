"""Bank statements in: imported statements, their lines, and how unmatched lines were assigned.

Revision ID: 0011_bank_statements
Revises: 0010_payment_guards
Create Date: 2026-11-23

The database guarantees:

- each bank line once per account: (account_iban, line_key) is unique, so a statement imported twice, an
  overlapping statement, or two imports at once store (and book) a line once;
- a line is matched, unmatched (in the work queue), assigned (by someone, at a time) or skipped;
- the record of what the bank said cannot be rewritten: statement imports and assignments are
  append-only, a line cannot be deleted, and of a line only its status, match and assignment columns may
  change (and only while it is unmatched: a matched, assigned or skipped line is final);
- a bank return may still reach a payment the bank had executed: an executed instruction may now become
  rejected (with its reversal, as 0006's check asks), so 0010's "executed is final" becomes "rejected is
  final; executed may only be rejected".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_bank_statements"
down_revision = "0010_payment_guards"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IMPORTS = "bank_statement_imports"
LINES = "bank_lines"
ASSIGNMENTS = "bank_line_assignments"
APPEND_ONLY = (IMPORTS, ASSIGNMENTS)
LINE_FROZEN = (
    "id", "import_id", "account_iban", "line_key", "entry_index", "transaction_index", "booking_date", "value_date",
    "amount_cents", "bank_reference", "end_to_end_id", "counterparty_name", "counterparty_iban", "remittance",
    "structured_reference", "return_reason", "bank_transaction_code",
)
INSTRUCTIONS = "payment_instructions"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    if dialect == "sqlite":
        return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


def upgrade() -> None:
    op.create_table(
        IMPORTS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(35), nullable=False),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("statement_id", sa.String(35), nullable=False),
        sa.Column("account_iban", sa.String(34), nullable=False),
        sa.Column("electronic_sequence", sa.Integer(), nullable=True),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("opening_cents", sa.BigInteger(), nullable=True),
        sa.Column("opening_date", sa.Date(), nullable=True),
        sa.Column("closing_cents", sa.BigInteger(), nullable=True),
        sa.Column("closing_date", sa.Date(), nullable=True),
        sa.Column("ledger_opening_cents", sa.BigInteger(), nullable=True),
        sa.Column("ledger_closing_cents", sa.BigInteger(), nullable=True),
        sa.Column("lines_total", sa.Integer(), nullable=False),
        sa.Column("lines_new", sa.Integer(), nullable=False),
        sa.Column("lines_known", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        _ts("imported_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{IMPORTS}"),
    )
    op.create_index(op.f(f"ix_{IMPORTS}_file_sha256"), IMPORTS, ["file_sha256"])
    op.create_index(op.f(f"ix_{IMPORTS}_account_iban"), IMPORTS, ["account_iban"])
    op.create_table(
        LINES,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("import_id", BigId, sa.ForeignKey(f"{IMPORTS}.id"), nullable=False),
        sa.Column("account_iban", sa.String(34), nullable=False),
        sa.Column("line_key", sa.String(200), nullable=False),
        sa.Column("entry_index", sa.Integer(), nullable=False),
        sa.Column("transaction_index", sa.Integer(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("bank_reference", sa.String(120), nullable=True),
        sa.Column("end_to_end_id", sa.String(35), nullable=True),
        sa.Column("counterparty_name", sa.String(140), nullable=True),
        sa.Column("counterparty_iban", sa.String(34), nullable=True),
        sa.Column("remittance", sa.Text(), nullable=False),
        sa.Column("structured_reference", sa.String(35), nullable=True),
        sa.Column("return_reason", sa.String(4), nullable=True),
        sa.Column("bank_transaction_code", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("match_kind", sa.String(30), nullable=True),
        sa.Column("match_reason", sa.Text(), nullable=False),
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=True),
        sa.Column("instruction_id", BigId, sa.ForeignKey("payment_instructions.id"), nullable=True),
        sa.Column("expected_income_id", BigId, sa.ForeignKey("expected_income.id"), nullable=True),
        sa.Column("entry_id", BigId, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=True),
        _ts("assigned_at"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{LINES}"),
        sa.UniqueConstraint("account_iban", "line_key", name=f"uq_{LINES}_account_iban_line_key"),
        sa.CheckConstraint("amount_cents <> 0", name=op.f(f"ck_{LINES}_nonzero_amount")),
        sa.CheckConstraint("status IN ('matched', 'unmatched', 'assigned', 'skipped')",
                           name=op.f(f"ck_{LINES}_line_status")),
        sa.CheckConstraint("status <> 'assigned' OR (assigned_by IS NOT NULL AND assigned_at IS NOT NULL)",
                           name=op.f(f"ck_{LINES}_assigned_by_someone")),
    )
    for column in ("import_id", "booking_date", "end_to_end_id", "counterparty_iban", "status", "household_id"):
        op.create_index(op.f(f"ix_{LINES}_{column}"), LINES, [column])
    op.create_table(
        ASSIGNMENTS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("line_id", BigId, sa.ForeignKey(f"{LINES}.id"), nullable=False),
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=True),
        sa.Column("instruction_id", BigId, sa.ForeignKey("payment_instructions.id"), nullable=True),
        sa.Column("income_source", sa.String(40), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", BigId, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        _ts("assigned_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{ASSIGNMENTS}"),
        sa.CheckConstraint("amount_cents > 0", name=op.f(f"ck_{ASSIGNMENTS}_positive_amount")),
        sa.CheckConstraint("household_id IS NOT NULL OR instruction_id IS NOT NULL",
                           name=op.f(f"ck_{ASSIGNMENTS}_assigned_to_something")),
    )
    op.create_index(op.f(f"ix_{ASSIGNMENTS}_line_id"), ASSIGNMENTS, ["line_id"])

    dialect = op.get_bind().dialect.name
    _guards(dialect)
    _executed_may_be_returned(dialect)


def _guards(dialect: str) -> None:
    for table in APPEND_ONLY:
        message = f"{table} is append-only: the record of what the bank said stays as it was"
        if dialect == "sqlite":
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER trg_{table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        else:
            op.execute(f"""CREATE FUNCTION bl_append_only_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; END $$""")
            op.execute(f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION bl_append_only_{table}()")
            op.execute(f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION bl_append_only_{table}()")
    no_delete = f"{LINES} are the record of the bank: assign, never delete"
    frozen = f"{LINES}: what the bank said cannot change; only an unmatched line can be assigned"
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER trg_{LINES}_no_delete BEFORE DELETE ON {LINES} "
                   f"BEGIN SELECT RAISE(ABORT, '{no_delete}'); END")
        op.execute(f"CREATE TRIGGER trg_{LINES}_frozen BEFORE UPDATE ON {LINES} "
                   f"WHEN OLD.status <> 'unmatched' OR {_changed(LINE_FROZEN, dialect)} "
                   f"BEGIN SELECT RAISE(ABORT, '{frozen}'); END")
        return
    op.execute(f"""CREATE FUNCTION bl_guard_{LINES}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' THEN
                RAISE EXCEPTION '{no_delete}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF OLD.status <> 'unmatched' OR {_changed(LINE_FROZEN, dialect)} THEN
                RAISE EXCEPTION '{frozen}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$""")
    op.execute(f"CREATE TRIGGER trg_{LINES}_guard BEFORE UPDATE OR DELETE ON {LINES} "
               f"FOR EACH ROW EXECUTE FUNCTION bl_guard_{LINES}()")
    op.execute(f"CREATE TRIGGER trg_{LINES}_no_truncate BEFORE TRUNCATE ON {LINES} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION bl_guard_{LINES}()")


def _final_rule(dialect: str, finals: str, executed_only_to_rejected: bool) -> None:
    """(Re)write 0010's rule for final instructions."""
    final = f"{INSTRUCTIONS}: a rejected or executed instruction is final"
    if executed_only_to_rejected:
        final = f"{INSTRUCTIONS}: a rejected instruction is final, an executed one can only be returned (rejected)"
    condition = (f"OLD.status IN ({finals})" if not executed_only_to_rejected else
                 "OLD.status = 'rejected' OR (OLD.status = 'executed' AND NEW.status <> 'rejected')")
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS trg_{INSTRUCTIONS}_final")
        op.execute(f"CREATE TRIGGER trg_{INSTRUCTIONS}_final BEFORE UPDATE ON {INSTRUCTIONS} "
                   f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{final}'); END")
        return
    op.execute(f"""CREATE OR REPLACE FUNCTION bl_final_{INSTRUCTIONS}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {condition} THEN
                RAISE EXCEPTION '{final}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$""")
    op.execute(f"DROP TRIGGER IF EXISTS trg_{INSTRUCTIONS}_final ON {INSTRUCTIONS}")
    op.execute(f"CREATE TRIGGER trg_{INSTRUCTIONS}_final BEFORE UPDATE ON {INSTRUCTIONS} "
               f"FOR EACH ROW EXECUTE FUNCTION bl_final_{INSTRUCTIONS}()")


def _executed_may_be_returned(dialect: str) -> None:
    # On PostgreSQL 0010 checks "final" inside bl_guard_payment_instructions; that check stays (it fires
    # first), so it is relaxed by rewriting the function without it and adding the trigger above.
    if dialect == "postgresql":
        _rewrite_pg_guard(final_check=False)
    _final_rule(dialect, "'rejected', 'executed'", executed_only_to_rejected=True)


def _rewrite_pg_guard(*, final_check: bool) -> None:
    from importlib import import_module

    guards = import_module("budget_ledger.migrations.versions.0010_payment_guards")
    columns = guards.FROZEN[INSTRUCTIONS]
    no_delete = f"{INSTRUCTIONS} are the record of payments: reject, never delete"
    frozen = f"{INSTRUCTIONS}: only the status and who/when may change"
    final = f"{INSTRUCTIONS}: a rejected or executed instruction is final"
    check = (f"IF OLD.status IN ('rejected', 'executed') THEN RAISE EXCEPTION '{final}' "
             f"USING ERRCODE = 'integrity_constraint_violation'; END IF;") if final_check else ""
    op.execute(f"""CREATE OR REPLACE FUNCTION bl_guard_{INSTRUCTIONS}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' THEN
                RAISE EXCEPTION '{no_delete}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            {check}
            IF {guards._changed(columns, "postgresql")} THEN
                RAISE EXCEPTION '{frozen}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$""")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS trg_{INSTRUCTIONS}_final ON {INSTRUCTIONS}")
        op.execute(f"DROP FUNCTION IF EXISTS bl_final_{INSTRUCTIONS}()")
        _rewrite_pg_guard(final_check=True)
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS bl_append_only_{table}()")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{LINES}_no_truncate ON {LINES}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{LINES}_guard ON {LINES}")
        op.execute(f"DROP FUNCTION IF EXISTS bl_guard_{LINES}()")
    else:
        _final_rule(dialect, "'rejected', 'executed'", executed_only_to_rejected=False)
        for table in APPEND_ONLY:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_{event}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{LINES}_no_delete")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{LINES}_frozen")
    op.drop_table(ASSIGNMENTS)
    op.drop_table(LINES)
    op.drop_table(IMPORTS)
