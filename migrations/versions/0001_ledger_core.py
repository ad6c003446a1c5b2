"""Ledger core: accounts, journal entries, postings, and the triggers that guard them.

Revision ID: 0001_ledger_core
Revises:
Create Date: 2026-11-23

The database refuses, on SQLite and PostgreSQL alike:
- inserting an entry that is not a draft (entries are sealed as posted by an UPDATE, never born posted);
- sealing an entry whose postings do not add up to zero, or that has fewer than two postings;
- any UPDATE or DELETE of a posted entry, and any UPDATE of a posting;
- adding a posting to, or deleting one from, a posted entry;
- TRUNCATE of entries or postings (PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger_core"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

MSG_NOT_DRAFT = "journal entries are inserted as draft and sealed as posted by an update"
MSG_IMMUTABLE = "posted journal entries are immutable: post a reversal instead"
MSG_UNBALANCED = "unbalanced journal entry: postings must add up to zero"
MSG_TOO_FEW = "a journal entry needs at least two postings"
MSG_POSTING_IMMUTABLE = "postings are immutable: post a reversal instead"
MSG_POSTING_OF_POSTED = "postings of a posted journal entry cannot be added or removed"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER trg_journal_entries_insert_draft BEFORE INSERT ON journal_entries
    WHEN NEW.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MSG_NOT_DRAFT}'); END""",
    f"""CREATE TRIGGER trg_journal_entries_immutable BEFORE UPDATE ON journal_entries
    WHEN OLD.status = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MSG_IMMUTABLE}'); END""",
    f"""CREATE TRIGGER trg_journal_entries_seal BEFORE UPDATE OF status ON journal_entries
    WHEN OLD.status = 'draft' AND NEW.status = 'posted'
    BEGIN
        SELECT RAISE(ABORT, '{MSG_UNBALANCED}')
        WHERE (SELECT COALESCE(SUM(amount_cents), 0) FROM postings WHERE entry_id = NEW.id) <> 0;
        SELECT RAISE(ABORT, '{MSG_TOO_FEW}')
        WHERE (SELECT COUNT(*) FROM postings WHERE entry_id = NEW.id) < 2;
    END""",
    f"""CREATE TRIGGER trg_journal_entries_no_delete BEFORE DELETE ON journal_entries
    WHEN OLD.status = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MSG_IMMUTABLE}'); END""",
    f"""CREATE TRIGGER trg_postings_no_update BEFORE UPDATE ON postings
    BEGIN SELECT RAISE(ABORT, '{MSG_POSTING_IMMUTABLE}'); END""",
    f"""CREATE TRIGGER trg_postings_insert_draft_only BEFORE INSERT ON postings
    WHEN (SELECT status FROM journal_entries WHERE id = NEW.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MSG_POSTING_OF_POSTED}'); END""",
    f"""CREATE TRIGGER trg_postings_no_delete BEFORE DELETE ON postings
    WHEN (SELECT status FROM journal_entries WHERE id = OLD.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, '{MSG_POSTING_OF_POSTED}'); END""",
]

POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION bl_guard_journal_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        total bigint;
        lines integer;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.status <> 'draft' THEN
                RAISE EXCEPTION '{MSG_NOT_DRAFT}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        ELSIF TG_OP = 'UPDATE' THEN
            IF OLD.status = 'posted' THEN
                RAISE EXCEPTION '{MSG_IMMUTABLE}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF NEW.status = 'posted' THEN
                SELECT COALESCE(SUM(amount_cents), 0), COUNT(*) INTO total, lines
                FROM postings WHERE entry_id = NEW.id;
                IF total <> 0 THEN
                    RAISE EXCEPTION '{MSG_UNBALANCED}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                IF lines < 2 THEN
                    RAISE EXCEPTION '{MSG_TOO_FEW}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
            END IF;
            RETURN NEW;
        ELSE
            IF OLD.status = 'posted' THEN
                RAISE EXCEPTION '{MSG_IMMUTABLE}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN OLD;
        END IF;
    END $$""",
    """CREATE TRIGGER trg_journal_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION bl_guard_journal_entries()""",
    f"""CREATE FUNCTION bl_guard_postings() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        entry_status text;
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION '{MSG_POSTING_IMMUTABLE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'INSERT' THEN
            SELECT status INTO entry_status FROM journal_entries WHERE id = NEW.entry_id;
        ELSE
            SELECT status INTO entry_status FROM journal_entries WHERE id = OLD.entry_id;
        END IF;
        IF entry_status = 'posted' THEN
            RAISE EXCEPTION '{MSG_POSTING_OF_POSTED}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'INSERT' THEN RETURN NEW; END IF;
        RETURN OLD;
    END $$""",
    """CREATE TRIGGER trg_postings_guard BEFORE INSERT OR UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION bl_guard_postings()""",
    f"""CREATE FUNCTION bl_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MSG_IMMUTABLE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER trg_journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION bl_refuse_truncate()""",
    """CREATE TRIGGER trg_postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION bl_refuse_truncate()""",
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=True),
        sa.Column("no_overdraft", sa.Boolean(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("code", name="uq_accounts_code"),
        sa.CheckConstraint(
            "type IN ('asset', 'liability', 'equity', 'income', 'expense')", name=op.f("ck_accounts_account_type")
        ),
        sa.CheckConstraint(
            "NOT no_overdraft OR "
            "(CASE WHEN type IN ('asset', 'expense') THEN balance_cents ELSE -balance_cents END) >= 0",
            name=op.f("ck_accounts_no_overdraft"),
        ),
    )
    op.create_index("ix_accounts_household_id", "accounts", ["household_id"])

    op.create_table(
        "journal_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(100), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=True),
        sa.Column("reverses_entry_id", BigId, nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journal_entries"),
        sa.UniqueConstraint("idempotency_key", name="uq_journal_entries_idempotency_key"),
        sa.UniqueConstraint("reverses_entry_id", name="uq_journal_entries_reverses_entry_id"),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"], ["journal_entries.id"], name="fk_journal_entries_reverses_entry_id_journal_entries"
        ),
        sa.CheckConstraint("status IN ('draft', 'posted')", name=op.f("ck_journal_entries_entry_status")),
    )
    op.create_index("ix_journal_entries_booking_date", "journal_entries", ["booking_date"])
    op.create_index("ix_journal_entries_household_id", "journal_entries", ["household_id"])

    op.create_table(
        "postings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_postings"),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"], name="fk_postings_entry_id_journal_entries"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_postings_account_id_accounts"),
        sa.CheckConstraint("amount_cents <> 0", name=op.f("ck_postings_nonzero_amount")),
    )
    op.create_index("ix_postings_account_id", "postings", ["account_id"])
    op.create_index("ix_postings_entry_id", "postings", ["entry_id"])

    triggers = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for trigger, table in (
            ("trg_postings_no_truncate", "postings"),
            ("trg_journal_entries_no_truncate", "journal_entries"),
            ("trg_postings_guard", "postings"),
            ("trg_journal_entries_guard", "journal_entries"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in ("bl_refuse_truncate", "bl_guard_postings", "bl_guard_journal_entries"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("postings")
    op.drop_table("journal_entries")
    op.drop_table("accounts")
