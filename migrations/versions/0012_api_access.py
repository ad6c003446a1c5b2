"""API access: bearer tokens (hashed) and the audit trail.

Revision ID: 0012_api_access
Revises: 0011_bank_statements
Create Date: 2026-11-23

The database guarantees:

- a token is stored only as the SHA-256 digest of its secret, unique; the secret itself is shown once
  when the token is issued and exists nowhere else;
- a token's role is one of budgetbeheerder, begeleider, batch, auditor;
- the audit trail (actor, action, entity, time, request id) is append-only: UPDATE and DELETE are refused,
  and TRUNCATE on PostgreSQL, so no one can remove the trace of what they did or read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_api_access"
down_revision = "0011_bank_statements"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TOKENS = "api_tokens"
AUDIT = "audit_log"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        TOKENS,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("created_at", nullable=False),
        _ts("expires_at"),
        _ts("revoked_at"),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TOKENS}"),
        sa.UniqueConstraint("token_hash", name=f"uq_{TOKENS}_token_hash"),
        sa.CheckConstraint("role IN ('budgetbeheerder', 'begeleider', 'batch', 'auditor')",
                           name=op.f(f"ck_{TOKENS}_token_role")),
    )
    op.create_table(
        AUDIT,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _ts("at", nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("action", sa.String(300), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=True),
        sa.Column("household_id", BigId, nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{AUDIT}"),
        sa.CheckConstraint("kind IN ('read', 'write')", name=op.f(f"ck_{AUDIT}_audit_kind")),
    )
    for column in ("at", "actor", "household_id"):
        op.create_index(op.f(f"ix_{AUDIT}_{column}"), AUDIT, [column])

    message = f"{AUDIT} is append-only: the trace of what was done and read stays"
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER trg_{AUDIT}_no_{event.lower()} BEFORE {event} ON {AUDIT} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    op.execute(f"""CREATE FUNCTION bl_append_only_{AUDIT}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; END $$""")
    op.execute(f"CREATE TRIGGER trg_{AUDIT}_append_only BEFORE UPDATE OR DELETE ON {AUDIT} "
               f"FOR EACH ROW EXECUTE FUNCTION bl_append_only_{AUDIT}()")
    op.execute(f"CREATE TRIGGER trg_{AUDIT}_no_truncate BEFORE TRUNCATE ON {AUDIT} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION bl_append_only_{AUDIT}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS trg_{AUDIT}_no_truncate ON {AUDIT}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{AUDIT}_append_only ON {AUDIT}")
        op.execute(f"DROP FUNCTION IF EXISTS bl_append_only_{AUDIT}()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{AUDIT}_no_{event}")
    op.drop_table(AUDIT)
    op.drop_table(TOKENS)
