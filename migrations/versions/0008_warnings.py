"""Warnings: what the daily warnings scan found, per household, and what people did about it.

Revision ID: 0008_warnings
Revises: 0007_scheduler_jobs
Create Date: 2026-11-24

The database guarantees:

- one row per business key: `key` (household, type, subject, due date written out) is unique, so a scan
  that runs twice, or two scans at once, store a condition once;
- a warning can only be acknowledged by someone (who and when), and only resolved by someone with a
  note (a person, or the scan itself with "opgelost bij scan");
- status, severity and role take only their known values;
- the events of a warning (raised, acknowledged, resolved, reopened, escalated, deescalated) are
  append-only: the database refuses UPDATE and DELETE on them (and TRUNCATE on PostgreSQL), as for the
  trajectory history in 0002 and the profile assignments in 0003.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_warnings"
down_revision = "0007_scheduler_jobs"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WARNINGS = "warnings"
EVENTS = "warning_events"
APPEND_ONLY = (EVENTS,)


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        WARNINGS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        # "<household id or org>:<type>:<subject>:<due date>"
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        # NULL for a warning about the organisation as a whole (a reconciliation difference, issue 6).
        sa.Column("household_id", BigId, sa.ForeignKey("households.id"), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        _ts("acknowledged_at"),
        sa.Column("acknowledged_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        _ts("resolved_at"),
        sa.Column("resolved_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{WARNINGS}"),
        sa.UniqueConstraint("key", name=f"uq_{WARNINGS}_key"),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name=op.f(f"ck_{WARNINGS}_warning_status")),
        sa.CheckConstraint("severity IN ('info', 'warning', 'critical')", name=op.f(f"ck_{WARNINGS}_warning_severity")),
        sa.CheckConstraint("role IN ('budgetbeheerder', 'begeleider')", name=op.f(f"ck_{WARNINGS}_warning_role")),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_by IS NOT NULL AND acknowledged_at IS NOT NULL)",
            name=op.f(f"ck_{WARNINGS}_acknowledged_by_someone")),
        sa.CheckConstraint(
            "status <> 'resolved' OR (resolved_by IS NOT NULL AND resolved_at IS NOT NULL AND resolved_note IS NOT NULL)",
            name=op.f(f"ck_{WARNINGS}_resolved_with_note")),
    )
    op.create_index(op.f(f"ix_{WARNINGS}_type"), WARNINGS, ["type"])
    op.create_index(op.f(f"ix_{WARNINGS}_household_id"), WARNINGS, ["household_id"])
    op.create_index(op.f(f"ix_{WARNINGS}_due_on"), WARNINGS, ["due_on"])
    op.create_table(
        EVENTS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("warning_id", BigId, sa.ForeignKey(f"{WARNINGS}.id"), nullable=False),
        _ts("at", nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{EVENTS}"),
        sa.CheckConstraint(
            "action IN ('raised', 'acknowledged', 'resolved', 'reopened', 'escalated', 'deescalated')",
            name=op.f(f"ck_{EVENTS}_event_action")),
    )
    op.create_index(op.f(f"ix_{EVENTS}_warning_id"), EVENTS, ["warning_id"])

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
    op.drop_index(op.f(f"ix_{EVENTS}_warning_id"), table_name=EVENTS)
    op.drop_table(EVENTS)
    op.drop_index(op.f(f"ix_{WARNINGS}_due_on"), table_name=WARNINGS)
    op.drop_index(op.f(f"ix_{WARNINGS}_household_id"), table_name=WARNINGS)
    op.drop_index(op.f(f"ix_{WARNINGS}_type"), table_name=WARNINGS)
    op.drop_table(WARNINGS)
