"""Household profile assignments: from a date, a household follows another rule profile than its
gemeente's, or overrides parts of it, with a documented reason.

Revision ID: 0003_household_profiles
Revises: 0002_registry
Create Date: 2026-11-24

The assignments are append-only: the database refuses UPDATE and DELETE on them (and TRUNCATE on
PostgreSQL), on SQLite and PostgreSQL alike, exactly as for trajectory_history in 0002. A correction is a
new row; for one valid_from the last one recorded wins.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_household_profiles"
down_revision = "0002_registry"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "household_profile_assignments"
APPEND_ONLY = (TABLE,)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        # Named by the metadata's naming convention: fk_<table>_<column>_<target>.
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        # NULL: the household follows its gemeente's own profile (GemeenteSettings.rule_profile).
        sa.Column("profile", sa.String(60), nullable=True),
        # A partial profile version merged onto the one in force; {} for none.
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
    )
    op.create_index(op.f(f"ix_{TABLE}_household_id"), TABLE, ["household_id"])

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


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS bl_append_only_{table}()")
    op.drop_index(op.f(f"ix_{TABLE}_household_id"), table_name=TABLE)
    op.drop_table(TABLE)
