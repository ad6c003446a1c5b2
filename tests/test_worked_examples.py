"""Worked examples of every ledger invariant, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from book import entry, income, open_book, pay
from budget_ledger.ledger import (
    AlreadyReversedError,
    EntryRequest,
    IdempotencyConflictError,
    InsufficientFundsError,
    Money,
    MoneyError,
    Posting,
    UnbalancedEntryError,
    UnknownAccountError,
)

APRIL_1 = date(2025, 4, 1)


def test_a_household_receives_bijstand_and_pays_rent(ledger):
    h = open_book(ledger)[1]
    ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    ledger.post(pay("huur-2025-04", date(2025, 4, 2), h, "725.00"))

    assert ledger.balance(h["basis"]) == Money.parse("529.15")
    assert ledger.balance(h["huur"]) == Money.parse("725.00")
    assert ledger.trial_balance().is_balanced
    assert ledger.balance_mismatches() == []


def test_an_unbalanced_entry_is_refused_before_it_reaches_the_book(ledger):
    h = open_book(ledger)[1]
    with pytest.raises(UnbalancedEntryError) as refused:
        entry("scheef", APRIL_1, (h["basis"], "100.00"), (h["bijstand"], "-99.99"))
    assert refused.value.field == "postings"
    assert set(ledger.trial_balance().balances.values()) == {Money(0)}


def test_a_float_amount_is_refused(ledger):
    with pytest.raises(MoneyError, match="float"):
        Money.of(12.34)
    assert Money.of(Decimal("12.34")) == Money.of("12.34") == Money.of(1234)


def test_a_replayed_request_returns_the_original_entry_and_posts_nothing(ledger):
    h = open_book(ledger)[1]
    first = ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    again = ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))

    assert again.replayed and not first.replayed
    assert again.id == first.id
    assert ledger.balance(h["basis"]) == Money.parse("1254.15")


def test_the_same_key_with_a_different_amount_is_a_conflict_not_a_replay(ledger):
    h = open_book(ledger)[1]
    first = ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    with pytest.raises(IdempotencyConflictError) as conflict:
        ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.16"))
    assert conflict.value.existing_entry_id == first.id
    assert ledger.balance(h["basis"]) == Money.parse("1254.15")


def test_a_reversal_restores_every_balance_and_points_at_the_original(ledger):
    h = open_book(ledger)[1]
    ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    rent = ledger.post(pay("huur-2025-04", date(2025, 4, 2), h, "725.00"))
    before = {a.code: b for a, b in ledger.balances()}

    reversal = ledger.reverse(rent.id, actor="budgetbeheerder", reason="Huur dubbel betaald", booking_date=date(2025, 4, 3))

    assert reversal.reverses_entry_id == rent.id
    assert ledger.balance(h["basis"]) == Money.parse("1254.15")
    assert ledger.balance(h["huur"]) == Money(0)
    assert before[h["basis"]] == Money.parse("529.15")
    with pytest.raises(AlreadyReversedError):
        ledger.reverse(rent.id, actor="budgetbeheerder", reason="nog eens", booking_date=date(2025, 4, 3),
                       idempotency_key="second-try")


def test_replaying_a_reversal_is_a_noop(ledger):
    h = open_book(ledger)[1]
    ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    rent = ledger.post(pay("huur-2025-04", date(2025, 4, 2), h, "725.00"))
    first = ledger.reverse(rent.id, actor="a", reason="fout", booking_date=date(2025, 4, 3))
    again = ledger.reverse(rent.id, actor="a", reason="fout", booking_date=date(2025, 4, 3))
    assert again.replayed and again.id == first.id


def test_an_overdraft_of_the_basisrekening_is_refused_and_changes_nothing(ledger):
    h = open_book(ledger)[1]
    ledger.post(income("bijstand-2025-04", APRIL_1, h, "700.00"))
    with pytest.raises(InsufficientFundsError) as refused:
        ledger.post(pay("huur-2025-04", date(2025, 4, 2), h, "725.00"))

    assert refused.value.account_code == h["basis"]
    assert refused.value.available == Money.parse("700.00")
    assert refused.value.requested == Money.parse("725.00")
    assert ledger.balance(h["basis"]) == Money.parse("700.00")
    assert ledger.balance(h["huur"]) == Money(0)


def test_a_reversal_that_would_overdraw_is_refused(ledger):
    """Bijstand booked in error but already spent on rent cannot be reversed silently into the red."""
    h = open_book(ledger)[1]
    wrong = ledger.post(income("bijstand-2025-04", APRIL_1, h, "800.00"))
    ledger.post(pay("huur-2025-04", date(2025, 4, 2), h, "725.00"))
    with pytest.raises(InsufficientFundsError):
        ledger.reverse(wrong.id, actor="a", reason="fout geboekt", booking_date=date(2025, 4, 3))


def test_an_unknown_account_is_refused(ledger):
    h = open_book(ledger)[1]
    with pytest.raises(UnknownAccountError, match="huishouden:9:basis"):
        ledger.post(entry("x", APRIL_1, ("huishouden:9:basis", "1.00"), (h["bijstand"], "-1.00")))


def test_balances_as_of_a_date(ledger):
    h = open_book(ledger)[1]
    ledger.post(income("bijstand-2025-04", APRIL_1, h, "1254.15"))
    ledger.post(pay("huur-2025-04", date(2025, 4, 2), h, "725.00"))
    ledger.post(income("bijstand-2025-05", date(2025, 5, 1), h, "1254.15"))

    assert ledger.balance(h["basis"], as_of=date(2025, 3, 31)) == Money(0)
    assert ledger.balance(h["basis"], as_of=APRIL_1) == Money.parse("1254.15")
    assert ledger.balance(h["basis"], as_of=date(2025, 4, 30)) == Money.parse("529.15")
    assert ledger.balance(h["basis"]) == Money.parse("1783.30")
    assert ledger.trial_balance(as_of=date(2025, 4, 30)).is_balanced


def test_a_bulk_batch_is_all_or_nothing_when_one_entry_would_overdraw(ledger):
    charts = open_book(ledger, households=2)
    ledger.post(income("b1", APRIL_1, charts[1], "900.00"))
    ledger.post(income("b2", APRIL_1, charts[2], "500.00"))
    batch = [pay("h1", APRIL_1, charts[1], "725.00"), pay("h2", APRIL_1, charts[2], "725.00")]

    with pytest.raises(InsufficientFundsError):
        ledger.post_many(batch)
    assert ledger.balance(charts[1]["basis"]) == Money.parse("900.00")

    result = ledger.post_many(batch, on_insufficient="skip")
    assert list(result.posted) == ["h1"]
    assert [s.idempotency_key for s in result.skipped] == ["h2"]
    assert ledger.balance(charts[1]["basis"]) == Money.parse("175.00")
    assert ledger.balance(charts[2]["basis"]) == Money.parse("500.00")


def test_a_bulk_batch_replayed_posts_nothing(ledger):
    h = open_book(ledger)[1]
    batch = [income(f"b{i}", APRIL_1, h, "10.00") for i in range(50)]
    first = ledger.post_many(batch)
    second = ledger.post_many(batch)
    assert len(first.posted) == 50 and not first.replayed
    assert second.posted == {} and second.replayed == first.posted
    assert ledger.balance(h["basis"]) == Money.parse("500.00")


def test_money_splits_without_losing_a_cent():
    parts = Money.parse("100.00").split(3)
    assert parts == [Money(3334), Money(3333), Money(3333)]
    assert Money.sum(parts) == Money.parse("100.00")
    assert Money.parse("-0.05").allocate([1, 1]) == [Money(-3), Money(-2)]


def test_an_entry_needs_two_postings():
    from budget_ledger.ledger import InvalidEntryError

    with pytest.raises(InvalidEntryError):
        EntryRequest("k", APRIL_1, (Posting("a:b", Money(0)),), "r", "a")
    with pytest.raises(InvalidEntryError):
        EntryRequest("k", APRIL_1, (), "r", "a")


def test_the_request_fingerprint_is_stable_so_stored_keys_keep_replaying():
    """Changing how the fingerprint is computed would turn every later replay into a conflict."""
    from budget_ledger.ledger.entries import request_fingerprint

    postings = [Posting("huishouden:1:inkomen:bijstand", Money(-120000)), Posting("huishouden:1:basis", Money(120000))]
    assert request_fingerprint(date(2025, 4, 1), date(2025, 4, 2), postings, 17) == (
        "476a3c031c292be1d1b7d01460f68fb7bc4bdf859ea909d1d2548b7e5470b2c4"
    )
