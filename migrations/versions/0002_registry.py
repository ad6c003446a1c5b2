"""Registry: gemeenten, households and members, begeleiders, eligibility decisions, ontzorgtrajecten with
milestones and an append-only history, creditors with dated schedules and payers, expected income.

Revision ID: 0002_registry
Revises: 0001_ledger_core
Create Date: 2026-11-23

Trajectory history and eligibility decisions are append-only: the database refuses UPDATE and DELETE
on them, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_registry"
down_revision = "0001_ledger_core"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("trajectory_history", "eligibility_decisions")


def _id() -> sa.Column:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    # Named by the metadata's naming convention: fk_<table>_<column>_<target>.
    return sa.Column(name, BigId, sa.ForeignKey(f"{target}.id"), nullable=nullable)


def _table(name: str, *columns) -> None:
    op.create_table(name, *columns, sa.PrimaryKeyConstraint("id", name=f"pk_{name}"))


def upgrade() -> None:
    _table(
        "gemeenten",
        _id(),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("code", name="uq_gemeenten_code"),
    )
    _table(
        "households",
        _id(),
        _fk("gemeente_id", "gemeenten"),
        sa.Column("permit_type", sa.String(40), nullable=False),
        sa.Column("bsn", sa.String(9), nullable=True),
        sa.Column("preferred_language", sa.String(20), nullable=False),
        sa.Column("housing_date", sa.Date(), nullable=True),
        sa.Column("bijstand_start", sa.Date(), nullable=True),
        sa.Column("has_bijstand", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.CheckConstraint("bsn IS NULL OR length(bsn) = 9", name=op.f("ck_households_bsn_length")),
    )
    op.create_index("ix_households_gemeente_id", "households", ["gemeente_id"])
    _table(
        "household_members",
        _id(),
        _fk("household_id", "households"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.CheckConstraint("role IN ('aanvrager', 'partner', 'kind')", name=op.f("ck_household_members_member_role")),
    )
    op.create_index("ix_household_members_household_id", "household_members", ["household_id"])
    op.create_index(
        "uq_household_members_one_aanvrager",
        "household_members",
        ["household_id"],
        unique=True,
        sqlite_where=sa.text("role = 'aanvrager'"),
        postgresql_where=sa.text("role = 'aanvrager'"),
    )
    _table(
        "household_begeleiders",
        _id(),
        _fk("household_id", "households"),
        sa.Column("begeleider", sa.String(200), nullable=False),
        _ts("assigned_at"),
        sa.Column("assigned_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("household_id", "begeleider", name="uq_household_begeleiders_household_id_begeleider"),
    )
    op.create_index("ix_household_begeleiders_household_id", "household_begeleiders", ["household_id"])
    op.create_index("ix_household_begeleiders_begeleider", "household_begeleiders", ["begeleider"])
    _table(
        "eligibility_decisions",
        _id(),
        _fk("household_id", "households"),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("form", sa.String(20), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("policy_reference", sa.String(200), nullable=True),
        _ts("decided_at"),
        sa.Column("decided_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_eligibility_decisions_household_id", "eligibility_decisions", ["household_id"])
    _table(
        "trajectories",
        _id(),
        _fk("household_id", "households"),
        sa.Column("anchor", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("minimum_last_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("last_day >= minimum_last_day OR ended_on IS NOT NULL",
                           name=op.f("ck_trajectories_last_day_after_minimum")),
        sa.CheckConstraint("minimum_last_day >= start_date", name=op.f("ck_trajectories_minimum_after_start")),
    )
    op.create_index("ix_trajectories_household_id", "trajectories", ["household_id"])
    _table(
        "trajectory_milestones",
        _id(),
        _fk("trajectory_id", "trajectories"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("due_from", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_trajectory_milestones_trajectory_id", "trajectory_milestones", ["trajectory_id"])
    _table(
        "trajectory_history",
        _id(),
        _fk("trajectory_id", "trajectories"),
        _ts("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_trajectory_history_trajectory_id", "trajectory_history", ["trajectory_id"])
    _table(
        "creditors",
        _id(),
        _fk("household_id", "households"),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("account_holder_name", sa.String(200), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("reference_kind", sa.String(20), nullable=False),
        sa.Column("reference_value", sa.String(140), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_creditors_household_id", "creditors", ["household_id"])
    _table(
        "creditor_schedules",
        _id(),
        _fk("creditor_id", "creditors"),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_creditor_schedules_positive_amount")),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_creditor_schedules_valid_range")),
    )
    op.create_index("ix_creditor_schedules_creditor_id", "creditor_schedules", ["creditor_id"])
    _table(
        "creditor_payers",
        _id(),
        _fk("creditor_id", "creditors"),
        sa.Column("payer", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        _ts("recorded_at"),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("payer IN ('ledger', 'client_incasso')", name=op.f("ck_creditor_payers_payer_kind")),
        sa.UniqueConstraint("creditor_id", "valid_from", name="uq_creditor_payers_creditor_id_valid_from"),
    )
    op.create_index("ix_creditor_payers_creditor_id", "creditor_payers", ["creditor_id"])
    _table(
        "expected_income",
        _id(),
        _fk("household_id", "households"),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("coverage", sa.String(20), nullable=False),
        sa.Column("payment_day", sa.String(40), nullable=True),
        sa.Column("entitlement_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("conditions_met_on", sa.Date(), nullable=True),
        sa.Column("first_expected_on", sa.Date(), nullable=False),
        sa.Column("first_expected_latest", sa.Date(), nullable=False),
        _fk("depends_on_creditor_id", "creditors", nullable=True),
        sa.Column("payer_ibans", sa.JSON(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_expected_income_positive_amount")),
        sa.CheckConstraint("first_expected_latest >= first_expected_on", name=op.f("ck_expected_income_latest_after_first")),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= entitlement_from", name=op.f("ck_expected_income_valid_range")),
    )
    op.create_index("ix_expected_income_household_id", "expected_income", ["household_id"])

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
    for table in ("expected_income", "creditor_payers", "creditor_schedules", "creditors", "trajectory_history",
                  "trajectory_milestones", "trajectories", "eligibility_decisions", "household_begeleiders",
                  "household_members", "households", "gemeenten"):
        op.drop_table(table)
