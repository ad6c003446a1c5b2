"""Budgetplans: the recorded versions of a household's budgetplan per month.

Revision ID: 0004_budgetplans
Revises: 0003_household_profiles
Create Date: 2026-11-23

A budgetplan is versioned when its inputs change (domain.md A10): each row is one version of the plan for
one household and month, with the fingerprint of its terms and the plan itself as JSON (amounts as
decimal strings). The rows are append-only: the database refuses UPDATE and DELETE (and TRUNCATE on
PostgreSQL), on SQLite and PostgreSQL alike, as for household_profile_assignments in 0003. A changed plan
is a new version; (household, month, version) is unique, so two recorders cannot both write version 2.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_budgetplans"
down_revision = "0003_household_profiles"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "budgetplans"
APPEND_ONLY = (TABLE,)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=False),
        # The first day of the month the plan is for.
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        # sha256 (hex) of the canonical JSON of the plan's terms.
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        sa.UniqueConstraint("household_id", "month", "version", name=f"uq_{TABLE}_household_id_month_version"),
        sa.CheckConstraint("version >= 1", name=op.f(f"ck_{TABLE}_version_positive")),
    )

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        message = f"{table} is append-only: record a new version instead"
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
    op.drop_table(TABLE)
