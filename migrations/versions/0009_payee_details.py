"""Payee details for the bank file: the client's own leefgeld account, creditors' postal addresses, and the
payee's address on each payment instruction as it was when the run made it.

Revision ID: 0009_payee_details
Revises: 0008_warnings
Create Date: 2026-11-24

- household_leefgeld_accounts: the IBAN and account-holder name leefgeld is paid to. Append-only, like
  household_profile_assignments (0003): the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL);
  a change is a new row with who recorded it when, and a household's latest row holds.
- creditors: an optional structured postal address (street name, building number, postcode, town,
  country), with who recorded it when. Nullable columns: existing creditors have no address.
- payment_instructions: the payee's address, copied when the instruction is made, so a file exported later
  carries the address the run used, whatever happened to the creditor since.

Adding nullable columns needs no table copy on SQLite (batch mode adds them in place). Dropping them, in the
downgrade, uses SQLite's own ALTER TABLE DROP COLUMN (3.35+) rather than batch mode: batch mode would copy
and drop creditors and payment_instructions, which other tables refer to (a DROP of a referenced table fails
with foreign keys on) and which carry partial indexes and CHECK constraints a copy could lose.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_payee_details"
down_revision = "0008_warnings"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACCOUNTS = "household_leefgeld_accounts"
APPEND_ONLY = (ACCOUNTS,)
ADDRESS = (
    ("street_name", 70),
    ("building_number", 16),
    ("postcode", 16),
    ("town", 35),
    ("country", 2),
)


def upgrade() -> None:
    op.create_table(
        ACCOUNTS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        # Named by the metadata's naming convention: fk_<table>_<column>_<target>.
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("account_holder_name", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{ACCOUNTS}"),
    )
    op.create_index(op.f(f"ix_{ACCOUNTS}_household_id"), ACCOUNTS, ["household_id"])

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        message = f"{table} is append-only: record a new row instead"
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

    with op.batch_alter_table("creditors") as batch:
        for name, length in ADDRESS:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))
        batch.add_column(sa.Column("address_recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("address_recorded_by", sa.String(200), nullable=True))

    with op.batch_alter_table("payment_instructions") as batch:
        for name, length in ADDRESS:
            batch.add_column(sa.Column(f"payee_{name}", sa.String(length), nullable=True))


def downgrade() -> None:
    for name, _ in reversed(ADDRESS):
        op.drop_column("payment_instructions", f"payee_{name}")
    for name in ("address_recorded_by", "address_recorded_at", *(name for name, _ in reversed(ADDRESS))):
        op.drop_column("creditors", name)

    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS bl_append_only_{table}()")
    op.drop_index(op.f(f"ix_{ACCOUNTS}_household_id"), table_name=ACCOUNTS)
    op.drop_table(ACCOUNTS)
