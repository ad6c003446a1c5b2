"""Payment runs and instructions are the audit trail of money leaving the bank: the database keeps them.

Revision ID: 0010_payment_guards
Revises: 0009_payee_details
Create Date: 2026-11-23

- No DELETE of a payment run or instruction, and no TRUNCATE on PostgreSQL (SQLite has none; its
  unqualified DELETE is refused like any other). A wrong payment is rejected (its entry reversed), never
  removed.
- What an instruction says (payee, IBAN, amount, reference, end-to-end id, address, run, entry, due date)
  and what a run was started as (date, scope, who, when, four eyes) cannot be changed; only the status and
  its who/when columns move.
- A rejected or executed instruction is final: no update at all.

The service never does any of this; the triggers stop a script, a console session or a bug from rewriting
the record of what was paid to whom.
"""

from __future__ import annotations

from alembic import op

revision = "0010_payment_guards"
down_revision = "0009_payee_details"
branch_labels = None
depends_on = None

RUNS = "payment_runs"
INSTRUCTIONS = "payment_instructions"
FROZEN = {
    RUNS: ("id", "run_date", "scope", "started_by", "started_at", "four_eyes"),
    INSTRUCTIONS: (
        "id", "run_id", "household_id", "obligation", "due_date", "execution_date", "entry_key", "entry_id", "rule",
        "category", "amount_cents", "payee_kind", "creditor_id", "payee_name", "iban", "bic", "reference_kind",
        "reference", "end_to_end_id", "payee_street_name", "payee_building_number", "payee_postcode", "payee_town",
        "payee_country", "created_at",
    ),
}
FINAL_STATUSES = ("rejected", "executed")


def _changed(columns: tuple[str, ...], dialect: str) -> str:
    if dialect == "sqlite":
        return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    # json has no equality operator in PostgreSQL: compare its text.
    return " OR ".join(f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text" for c in columns)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    finals = ", ".join(f"'{s}'" for s in FINAL_STATUSES)
    for table, columns in FROZEN.items():
        no_delete = f"{table} are the record of payments: reject, never delete"
        frozen = f"{table}: only the status and who/when may change"
        final = f"{table}: a rejected or executed instruction is final"
        if dialect == "sqlite":
            op.execute(f"CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{no_delete}'); END")
            op.execute(f"CREATE TRIGGER trg_{table}_frozen BEFORE UPDATE ON {table} "
                       f"WHEN {_changed(columns, dialect)} BEGIN SELECT RAISE(ABORT, '{frozen}'); END")
            if table == INSTRUCTIONS:
                op.execute(f"CREATE TRIGGER trg_{table}_final BEFORE UPDATE ON {table} "
                           f"WHEN OLD.status IN ({finals}) BEGIN SELECT RAISE(ABORT, '{final}'); END")
            continue
        final_check = (f"IF OLD.status IN ({finals}) THEN RAISE EXCEPTION '{final}' "
                       f"USING ERRCODE = 'integrity_constraint_violation'; END IF;") if table == INSTRUCTIONS else ""
        op.execute(f"""CREATE FUNCTION bl_guard_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'UPDATE' THEN
                    RAISE EXCEPTION '{no_delete}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                {final_check}
                IF {_changed(columns, dialect)} THEN
                    RAISE EXCEPTION '{frozen}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NEW;
            END $$""")
        op.execute(f"CREATE TRIGGER trg_{table}_guard BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION bl_guard_{table}()")
        op.execute(f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION bl_guard_{table}()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in FROZEN:
        if dialect == "sqlite":
            for name in ("no_delete", "frozen", "final"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{name}")
            continue
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_guard ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS bl_guard_{table}()")
