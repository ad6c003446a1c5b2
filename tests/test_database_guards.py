"""The database's own guards on the book, tried with raw SQL that bypasses the posting service.

A buggy caller, a hand-written fix in a database console or a future adapter that forgets the rules must
all meet the same refusals: posted entries and their postings never change or disappear, entries are born
as drafts and only become posted when they balance, idempotency keys are unique, and a no-overdraft
account cannot be left below zero. Each attempt runs in its own transaction, and afterwards the book must
be exactly as it was.

Both engines report every one of these refusals as `sqlalchemy.exc.IntegrityError`: SQLite's
`RAISE(ABORT, ...)` in a trigger surfaces as `sqlite3.IntegrityError`, and the PostgreSQL triggers raise
SQLSTATE 23000 (integrity_constraint_violation), which psycopg maps to an IntegrityError subclass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from book import BANK, income, open_book, pay
from budget_ledger.adapters.db.models import (
    IDEMPOTENCY_CONSTRAINT,
    OVERDRAFT_CONSTRAINT,
    accounts,
    journal_entries,
    postings,
)
from budget_ledger.ledger import AccountSpec, AccountType, Money
from budget_ledger.ledger.errors import EntryNotFoundError

APRIL_1 = date(2025, 4, 1)
APRIL_2 = date(2025, 4, 2)

IMMUTABLE = "posted journal entries are immutable: post a reversal instead"
POSTING_IMMUTABLE = "postings are immutable: post a reversal instead"
POSTING_OF_POSTED = "postings of a posted journal entry cannot be added or removed"
NOT_DRAFT = "journal entries are inserted as draft and sealed as posted by an update"
UNBALANCED = "unbalanced journal entry: postings must add up to zero"
TOO_FEW = "a journal entry needs at least two postings"

PG_TRIGGER_SQLSTATE = "23000"  # integrity_constraint_violation, raised by the plpgsql guards
PG_UNIQUE_VIOLATION = "23505"
PG_CHECK_VIOLATION = "23514"


# -- helpers ------------------------------------------------------------------------------------


def snapshot(database) -> dict[str, list[tuple]]:
    """Every row of the book, in id order: what must not move when the database refuses a statement."""
    with database.engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(table.c.id))]
            for table in (accounts, journal_entries, postings)
        }


def attempt(database, sql: str, **params) -> IntegrityError:
    """Run one statement in a fresh transaction; it must be refused with an IntegrityError."""
    with pytest.raises(IntegrityError) as refused:
        with database.engine.begin() as conn:
            conn.execute(text(sql), params)
    return refused.value


def assert_trigger_refused(database, error: IntegrityError, message: str) -> None:
    assert message in str(error.orig)
    if database.engine.dialect.name == "postgresql":
        assert error.orig.sqlstate == PG_TRIGGER_SQLSTATE


def account_id(database, code: str) -> int:
    with database.engine.connect() as conn:
        return conn.execute(select(accounts.c.id).where(accounts.c.code == code)).scalar_one()


def draft_row(key: str, **overrides) -> dict:
    row = {
        "idempotency_key": key,
        "request_hash": "0" * 64,
        "status": "draft",
        "booking_date": APRIL_2,
        "value_date": APRIL_2,
        "source": "manual",
        "actor": "psql-console",
        "reason": "handmatig in de database",
        "created_at": datetime(2025, 4, 2, 9, 0, tzinfo=UTC),
    }
    row.update(overrides)
    return row


def write_draft(database, key: str, lines: list[tuple[str, int]]) -> int:
    """Commit a draft entry with the given (account code, cents) lines; drafts may be unbalanced."""
    ids = {code: account_id(database, code) for code, _ in lines}
    with database.engine.begin() as conn:
        entry_id = conn.execute(insert(journal_entries).returning(journal_entries.c.id), draft_row(key)).scalar_one()
        if lines:
            conn.execute(
                insert(postings),
                [{"entry_id": entry_id, "account_id": ids[code], "amount_cents": cents} for code, cents in lines],
            )
    return entry_id


def status_of(database, entry_id: int) -> str:
    with database.engine.connect() as conn:
        return conn.execute(select(journal_entries.c.status).where(journal_entries.c.id == entry_id)).scalar_one()


@pytest.fixture
def april(ledger):
    """A household that received bijstand (1254.15) and paid its rent (725.00): 529.15 left on basis."""
    h = open_book(ledger)[1]
    bijstand = ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    rent = ledger.post(pay("huur-2025-04", APRIL_2, h, "725.00"))
    assert ledger.balance(h["basis"]) == Money.parse("529.15")
    return h, bijstand, rent


# -- posted entries never change ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE journal_entries SET reason = 'Huur mei' WHERE id = :id",
        "UPDATE journal_entries SET booking_date = value_date WHERE id = :id",
        "UPDATE journal_entries SET status = 'draft' WHERE id = :id",
    ],
    ids=["reworded", "touched-without-change", "unsealed"],
)
def test_a_posted_rent_payment_cannot_be_edited_in_the_database(database, april, sql):
    _, _, rent = april
    before = snapshot(database)

    error = attempt(database, sql, id=rent.id)

    assert_trigger_refused(database, error, IMMUTABLE)
    assert snapshot(database) == before


def test_a_posted_rent_payment_cannot_be_deleted_in_the_database(database, april):
    _, _, rent = april
    before = snapshot(database)

    error = attempt(database, "DELETE FROM journal_entries WHERE id = :id", id=rent.id)

    assert_trigger_refused(database, error, IMMUTABLE)
    assert snapshot(database) == before


def test_the_amount_of_a_posted_rent_payment_cannot_be_changed(database, april):
    _, _, rent = april
    before = snapshot(database)

    error = attempt(database, "UPDATE postings SET amount_cents = amount_cents * 2 WHERE entry_id = :id", id=rent.id)

    assert_trigger_refused(database, error, POSTING_IMMUTABLE)
    assert snapshot(database) == before


def test_a_posted_rent_payment_cannot_be_moved_to_the_leefgeldrekening(database, april):
    h, _, rent = april
    before = snapshot(database)

    error = attempt(
        database,
        "UPDATE postings SET account_id = :leefgeld WHERE entry_id = :id AND account_id = :basis",
        id=rent.id,
        leefgeld=account_id(database, h["leefgeld"]),
        basis=account_id(database, h["basis"]),
    )

    assert_trigger_refused(database, error, POSTING_IMMUTABLE)
    assert snapshot(database) == before


def test_the_postings_of_a_posted_rent_payment_cannot_be_deleted(database, april):
    _, _, rent = april
    before = snapshot(database)

    error = attempt(database, "DELETE FROM postings WHERE entry_id = :id", id=rent.id)

    assert_trigger_refused(database, error, POSTING_OF_POSTED)
    assert snapshot(database) == before


def test_not_even_a_balanced_pair_of_postings_can_be_added_to_a_posted_entry(database, april):
    """Slipping 50.00 more rent into April's entry, balanced against basis, is still refused."""
    h, _, rent = april
    before = snapshot(database)
    huur, basis = account_id(database, h["huur"]), account_id(database, h["basis"])

    with pytest.raises(IntegrityError) as refused:
        with database.engine.begin() as conn:
            conn.execute(
                insert(postings),
                [
                    {"entry_id": rent.id, "account_id": huur, "amount_cents": 5000},
                    {"entry_id": rent.id, "account_id": basis, "amount_cents": -5000},
                ],
            )

    assert_trigger_refused(database, refused.value, POSTING_OF_POSTED)
    assert snapshot(database) == before


def test_the_book_cannot_be_wiped(database, april):
    """Unqualified DELETE on both engines (SQLite's truncate), and TRUNCATE in every form on PostgreSQL."""
    before = snapshot(database)
    attempts = [("DELETE FROM postings", POSTING_OF_POSTED), ("DELETE FROM journal_entries", IMMUTABLE)]
    if database.engine.dialect.name == "postgresql":
        attempts += [
            ("TRUNCATE postings", IMMUTABLE),
            # payment_instructions and the bank tables refer to journal_entries: without them PostgreSQL
            # refuses the TRUNCATE for the foreign key before the trigger is reached.
            ("TRUNCATE journal_entries, postings, payment_instructions, bank_lines, bank_line_assignments",
             IMMUTABLE),
            ("TRUNCATE journal_entries CASCADE", IMMUTABLE),
            ("TRUNCATE accounts CASCADE", IMMUTABLE),
        ]

    for sql, message in attempts:
        error = attempt(database, sql)
        assert_trigger_refused(database, error, message)
        assert snapshot(database) == before, sql


# -- entries are born as drafts and sealed only when they balance --------------------------------


def test_an_entry_cannot_be_inserted_as_already_posted(database, april):
    before = snapshot(database)

    with pytest.raises(IntegrityError) as refused:
        with database.engine.begin() as conn:
            conn.execute(insert(journal_entries), draft_row("huur-2025-05", status="posted"))

    assert_trigger_refused(database, refused.value, NOT_DRAFT)
    assert snapshot(database) == before


def test_sealing_a_draft_whose_postings_do_not_balance_is_refused(database, ledger, april):
    """100.00 onto basis against 99.99 bijstand: a cent out, so it stays a draft and moves no balance."""
    h, _, _ = april
    draft = write_draft(database, "bijstand-correctie", [(h["basis"], 10000), (h["bijstand"], -9999)])
    before = snapshot(database)

    error = attempt(database, "UPDATE journal_entries SET status = 'posted' WHERE id = :id", id=draft)

    assert_trigger_refused(database, error, UNBALANCED)
    assert snapshot(database) == before
    assert status_of(database, draft) == "draft"
    with pytest.raises(EntryNotFoundError):
        ledger.get_entry(draft)
    assert ledger.balance(h["basis"], as_of=APRIL_2) == Money.parse("529.15")
    assert ledger.trial_balance(as_of=APRIL_2).is_balanced


def test_sealing_a_draft_with_a_single_posting_is_refused(database, april):
    """A lone posting can never balance (amounts are never zero), so the balance check refuses it first."""
    h, _, _ = april
    draft = write_draft(database, "halve-boeking", [(h["basis"], 2500)])
    before = snapshot(database)

    error = attempt(database, "UPDATE journal_entries SET status = 'posted' WHERE id = :id", id=draft)

    assert_trigger_refused(database, error, UNBALANCED)
    assert snapshot(database) == before
    assert status_of(database, draft) == "draft"


def test_sealing_an_empty_draft_is_refused(database, april):
    """No postings add up to zero, but an entry without two postings explains nothing."""
    draft = write_draft(database, "lege-boeking", [])
    before = snapshot(database)

    error = attempt(database, "UPDATE journal_entries SET status = 'posted' WHERE id = :id", id=draft)

    assert_trigger_refused(database, error, TOO_FEW)
    assert snapshot(database) == before
    assert status_of(database, draft) == "draft"


def test_a_balanced_draft_seals_and_is_then_immutable(database, ledger, april):
    """The zorgverzekering paid by hand in SQL, written the way the service writes: draft, postings, seal."""
    h, _, _ = april
    zorg, basis = account_id(database, h["zorgverzekering"]), account_id(database, h["basis"])
    with database.engine.begin() as conn:
        entry_id = conn.execute(
            insert(journal_entries).returning(journal_entries.c.id), draft_row("zorgverzekering-2025-04")
        ).scalar_one()
        conn.execute(
            insert(postings),
            [
                {"entry_id": entry_id, "account_id": zorg, "amount_cents": 14250},
                {"entry_id": entry_id, "account_id": basis, "amount_cents": -14250},
            ],
        )
        conn.execute(
            text("UPDATE accounts SET balance_cents = balance_cents + :delta WHERE id = :id"),
            [{"id": zorg, "delta": 14250}, {"id": basis, "delta": -14250}],
        )
        conn.execute(text("UPDATE journal_entries SET status = 'posted' WHERE id = :id"), {"id": entry_id})

    sealed = ledger.get_entry(entry_id)
    assert sorted((p.account, p.amount) for p in sealed.postings) == sorted(
        [(h["zorgverzekering"], Money.parse("142.50")), (h["basis"], Money.parse("-142.50"))]
    )
    assert ledger.balance(h["basis"]) == Money.parse("386.65")
    assert ledger.balance_mismatches() == []
    assert ledger.trial_balance().is_balanced

    before = snapshot(database)
    error = attempt(database, "UPDATE journal_entries SET reason = 'toch niet' WHERE id = :id", id=entry_id)
    assert_trigger_refused(database, error, IMMUTABLE)
    assert snapshot(database) == before


# -- keys and balances --------------------------------------------------------------------------


def test_an_idempotency_key_cannot_be_used_twice(database, april):
    """A second 'huur-2025-04' would let a retried payment run pay the rent twice."""
    before = snapshot(database)

    with pytest.raises(IntegrityError) as refused:
        with database.engine.begin() as conn:
            conn.execute(insert(journal_entries), draft_row("huur-2025-04"))

    orig = refused.value.orig
    if database.engine.dialect.name == "postgresql":
        assert orig.sqlstate == PG_UNIQUE_VIOLATION
        assert orig.diag.constraint_name == IDEMPOTENCY_CONSTRAINT
    else:
        assert "UNIQUE constraint failed: journal_entries.idempotency_key" in str(orig)
    assert snapshot(database) == before


def test_an_entry_cannot_be_reversed_twice_in_the_database(database, ledger, april):
    _, _, rent = april
    ledger.reverse(rent.id, actor="budgetbeheerder", reason="Huur dubbel", booking_date=APRIL_2)
    before = snapshot(database)

    with pytest.raises(IntegrityError) as refused:
        with database.engine.begin() as conn:
            conn.execute(insert(journal_entries), draft_row("tweede-storno", reverses_entry_id=rent.id))

    orig = refused.value.orig
    if database.engine.dialect.name == "postgresql":
        assert orig.sqlstate == PG_UNIQUE_VIOLATION
        assert orig.diag.constraint_name == "uq_journal_entries_reverses_entry_id"
    else:
        assert "UNIQUE constraint failed: journal_entries.reverses_entry_id" in str(orig)
    assert snapshot(database) == before


def assert_overdraft_refused(database, error: IntegrityError) -> None:
    orig = error.orig
    if database.engine.dialect.name == "postgresql":
        assert orig.sqlstate == PG_CHECK_VIOLATION
        assert orig.diag.constraint_name == OVERDRAFT_CONSTRAINT
    else:
        assert str(orig) == f"CHECK constraint failed: {OVERDRAFT_CONSTRAINT}"


def test_the_basisrekening_cannot_be_pushed_below_zero_by_hand(database, april):
    """529.15 on basis; taking 529.16 off the stored balance is refused by the database itself."""
    h, _, _ = april
    before = snapshot(database)

    error = attempt(
        database, "UPDATE accounts SET balance_cents = balance_cents - 52916 WHERE id = :id", id=account_id(database, h["basis"])
    )

    assert_overdraft_refused(database, error)
    assert snapshot(database) == before


def test_a_no_overdraft_liability_cannot_cross_to_the_debit_side_by_hand(database, ledger, april):
    """For a credit-normal account "below zero" means a positive (debit) stored balance."""
    voorschot = "huishouden:1:voorschot:toeslag"
    ledger.open_account(AccountSpec(voorschot, "Voorschot toeslag", AccountType.LIABILITY, 1, no_overdraft=True))
    before = snapshot(database)

    error = attempt(database, "UPDATE accounts SET balance_cents = 1 WHERE id = :id", id=account_id(database, voorschot))

    assert_overdraft_refused(database, error)
    assert snapshot(database) == before


def test_the_guard_is_only_on_no_overdraft_accounts(database, april):
    """The organisation's bank clearing account may go negative: the CHECK is not a blanket sign rule."""
    before = snapshot(database)
    with database.engine.connect() as conn:
        conn.execute(text("UPDATE accounts SET balance_cents = -1 WHERE code = :code"), {"code": BANK})
        assert conn.execute(text("SELECT balance_cents FROM accounts WHERE code = :code"), {"code": BANK}).scalar_one() == -1
        conn.rollback()
    assert snapshot(database) == before
