"""Property tests: many random histories of a household's book, checked against a model kept in memory.

A history is a sequence of single entries, batch runs (all-or-nothing or skipping what would overdraw)
and reversals of earlier entries, on a small chart in which the client-money accounts (basis, leefgeld,
a reservering) have no overdraft. Beside the database, the test keeps the balances it expects, so it
knows before each call whether the ledger must accept or refuse it and with which numbers.

After each history: the book is balanced (by stored balances and by summing postings), every stored
balance equals the sum of its postings, no no-overdraft account is below zero, every refused request
left the book exactly as it was, and replaying every accepted request (same keys, same requests) returns
the original entries and posts nothing.

One database serves a whole test function (a database per example is too slow on PostgreSQL); each
example opens a household of its own, so its accounts start at zero and its keys carry a unique prefix.
Money.split/allocate and Money.parse/str are tested without a database.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from budget_ledger.adapters.db.models import journal_entries, postings
from budget_ledger.ledger import (
    AccountSpec,
    AccountType,
    AlreadyReversedError,
    EntryRequest,
    InsufficientFundsError,
    Money,
    MoneyError,
    Posting,
)

APRIL_1 = date(2025, 4, 1)
FAR_FUTURE = date(2999, 12, 31)

# The chart of one household: (name, type, no_overdraft).
CHART = {
    "basis": (AccountType.ASSET, True),
    "leefgeld": (AccountType.ASSET, True),
    "reservering:energie": (AccountType.ASSET, True),
    "inkomen:bijstand": (AccountType.INCOME, False),
    "vaste-last:huur": (AccountType.EXPENSE, False),
    "krediet:inrichting": (AccountType.LIABILITY, False),
}
NAMES = sorted(CHART)

_households = itertools.count(1)

DB_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- histories ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """An entry's lines as (account name within the household, cents); always balanced, never zero."""

    lines: tuple[tuple[str, int], ...]
    day: int


@dataclass(frozen=True)
class Post:
    entry: Lines


@dataclass(frozen=True)
class Batch:
    entries: tuple[Lines, ...]
    on_insufficient: str


@dataclass(frozen=True)
class Reverse:
    pick: int  # which earlier accepted entry, modulo how many there are
    day: int


@st.composite
def entry_lines(draw) -> Lines:
    legs = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    cut = draw(st.integers(1, len(legs) - 1))
    debits, credits = legs[:cut], legs[cut:]
    debit_ratios = draw(st.lists(st.integers(1, 5), min_size=len(debits), max_size=len(debits)))
    credit_ratios = draw(st.lists(st.integers(1, 5), min_size=len(credits), max_size=len(credits)))
    # Mostly amounts of the size of a household's income and bills, sometimes a few cents.
    amount = draw(st.one_of(st.integers(1, 500), st.integers(1, 200_000)))
    amount = max(amount, sum(debit_ratios), sum(credit_ratios))  # so that no part is zero
    total = Money(amount)
    lines = [(name, part.cents) for name, part in zip(debits, total.allocate(debit_ratios), strict=True)]
    lines += [(name, -part.cents) for name, part in zip(credits, total.allocate(credit_ratios), strict=True)]
    return Lines(tuple(lines), draw(st.integers(0, 90)))


operations = st.one_of(
    st.builds(Post, entry_lines()),  # single entries twice as often as batches or reversals
    st.builds(Post, entry_lines()),
    st.builds(Batch, st.lists(entry_lines(), min_size=1, max_size=5).map(tuple), st.sampled_from(["raise", "skip"])),
    st.builds(Reverse, st.integers(0, 1000), st.integers(0, 90)),
)
histories = st.lists(operations, min_size=1, max_size=14)


# -- the model ----------------------------------------------------------------------------------


class Model:
    """What the book of one household must look like, computed without the database."""

    def __init__(self, household: int) -> None:
        self.household = household
        self.prefix = f"prop{household}"
        self.codes = {name: f"huishouden:{household}:{name}" for name in NAMES}
        self.names = {code: name for name, code in self.codes.items()}
        self.balances = {code: 0 for code in self.codes.values()}
        self.dated: list[tuple[date, str, int]] = []
        self.accepted: list[tuple[int, tuple[tuple[str, int], ...]]] = []  # (entry id, code lines)
        self.reversed: set[int] = set()
        self.keys: set[str] = set()
        self.posting_count = 0

    def specs(self) -> list[AccountSpec]:
        return [
            AccountSpec(self.codes[name], name, account_type, self.household, no_overdraft=no_overdraft)
            for name, (account_type, no_overdraft) in CHART.items()
        ]

    def request(self, key: str, lines: Lines) -> EntryRequest:
        return EntryRequest(
            idempotency_key=key,
            booking_date=APRIL_1 + timedelta(days=lines.day),
            postings=tuple(Posting(self.codes[name], Money(cents)) for name, cents in lines.lines),
            reason="willekeurige boeking",
            actor="hypothesis",
            household_id=self.household,
        )

    def shortfall(self, code_lines, running: dict[str, int]) -> tuple[str, int, int] | None:
        """(account, available, requested) of the first no-overdraft account this entry would overdraw."""
        for code, cents in code_lines:
            account_type, no_overdraft = CHART[self.names[code]]
            sign = account_type.normal_sign
            if no_overdraft and (running[code] + cents) * sign < 0:
                return code, running[code] * sign, -cents * sign
        return None

    def apply(self, entry_id: int, key: str, code_lines, on: date) -> None:
        for code, cents in code_lines:
            self.balances[code] += cents
            self.dated.append((on, code, cents))
        self.accepted.append((entry_id, tuple(code_lines)))
        self.keys.add(key)
        self.posting_count += len(code_lines)

    def as_of(self, day: date) -> dict[str, int]:
        totals = dict.fromkeys(self.codes.values(), 0)
        for on, code, cents in self.dated:
            if on <= day:
                totals[code] += cents
        return totals


def lines_of(request: EntryRequest) -> tuple[tuple[str, int], ...]:
    return tuple((p.account, p.amount.cents) for p in request.postings)


def stored_balances(ledger, model: Model) -> dict[str, int]:
    return {account.code: balance.cents for account, balance in ledger.balances(household_id=model.household)}


def assert_unchanged(ledger, model: Model, what: str) -> None:
    assert stored_balances(ledger, model) == model.balances, f"a refused {what} changed the book"


# -- running a history --------------------------------------------------------------------------


@dataclass
class Replay:
    """What to send again after the history, and what answer to expect."""

    posts: list[tuple[EntryRequest, int]]
    reversals: list[tuple[int, date, str, int]]  # (target id, booking date, key, reversal entry id)
    refused_reversals: list[tuple[int, date, str]]


def run_history(ledger, model: Model, history) -> Replay:
    replay = Replay([], [], [])
    for step, op in enumerate(history):
        key = f"{model.prefix}:{step}"
        if isinstance(op, Post):
            request = model.request(key, op.entry)
            expected_refusal = model.shortfall(lines_of(request), model.balances)
            if expected_refusal is not None:
                with pytest.raises(InsufficientFundsError) as refused:
                    ledger.post(request)
                err = refused.value
                assert (err.account_code, err.available.cents, err.requested.cents) == expected_refusal
                assert_unchanged(ledger, model, "entry")
                event("entry refused: insufficient funds")
                continue
            posted = ledger.post(request)
            assert not posted.replayed
            model.apply(posted.id, key, lines_of(request), request.booking_date)
            replay.posts.append((request, posted.id))

        elif isinstance(op, Batch):
            requests = [model.request(f"{key}:{i}", lines) for i, lines in enumerate(op.entries)]
            running = dict(model.balances)
            fits, skipped, first_refusal = [], [], None
            for request in requests:
                shortfall = model.shortfall(lines_of(request), running)
                if shortfall is None:
                    for code, cents in lines_of(request):
                        running[code] += cents
                    fits.append(request)
                else:
                    skipped.append(request.idempotency_key)
                    first_refusal = first_refusal or shortfall
            if skipped and op.on_insufficient == "raise":
                with pytest.raises(InsufficientFundsError) as refused:
                    ledger.post_many(requests, on_insufficient="raise")
                err = refused.value
                assert (err.account_code, err.available.cents, err.requested.cents) == first_refusal
                assert_unchanged(ledger, model, "batch")
                event("batch refused as a whole")
                continue
            result = ledger.post_many(requests, on_insufficient=op.on_insufficient)
            assert [s.idempotency_key for s in result.skipped] == skipped
            assert list(result.posted) == [r.idempotency_key for r in fits]
            assert result.replayed == {}
            if skipped:
                event("batch posted with entries skipped")
            for request in fits:
                entry_id = result.posted[request.idempotency_key]
                model.apply(entry_id, request.idempotency_key, lines_of(request), request.booking_date)
                replay.posts.append((request, entry_id))

        else:
            if not model.accepted:
                continue
            target, target_lines = model.accepted[op.pick % len(model.accepted)]
            on = APRIL_1 + timedelta(days=op.day)
            undo = tuple((code, -cents) for code, cents in target_lines)
            if target in model.reversed:
                with pytest.raises(AlreadyReversedError):
                    ledger.reverse(target, actor="hypothesis", reason="storno", booking_date=on, idempotency_key=key)
                assert_unchanged(ledger, model, "second reversal")
                event("second reversal refused")
                replay.refused_reversals.append((target, on, key))
                continue
            expected_refusal = model.shortfall(undo, model.balances)
            if expected_refusal is not None:
                with pytest.raises(InsufficientFundsError) as refused:
                    ledger.reverse(target, actor="hypothesis", reason="storno", booking_date=on, idempotency_key=key)
                err = refused.value
                assert (err.account_code, err.available.cents, err.requested.cents) == expected_refusal
                assert_unchanged(ledger, model, "reversal")
                event("reversal refused: insufficient funds")
                continue
            reversal = ledger.reverse(target, actor="hypothesis", reason="storno", booking_date=on, idempotency_key=key)
            assert reversal.reverses_entry_id == target and not reversal.replayed
            assert sorted(lines_of(reversal)) == sorted(undo)
            model.apply(reversal.id, key, undo, on)
            model.reversed.add(target)
            event("reversal of a reversal posted" if target in {r for _, _, _, r in replay.reversals} else "reversal posted")
            replay.reversals.append((target, on, key, reversal.id))
    return replay


def book_rows(database, prefix: str) -> tuple[set[str], int]:
    """Idempotency keys of this household's entries in the database, and how many postings they have."""
    pattern = f"{prefix}:%"
    with database.engine.connect() as conn:
        keys = set(conn.scalars(select(journal_entries.c.idempotency_key).where(journal_entries.c.idempotency_key.like(pattern))))
        count = conn.execute(
            select(func.count())
            .select_from(postings.join(journal_entries, journal_entries.c.id == postings.c.entry_id))
            .where(journal_entries.c.idempotency_key.like(pattern), journal_entries.c.status == "posted")
        ).scalar_one()
    return keys, count


def assert_book_sound(ledger, database, model: Model, as_of: date) -> None:
    assert ledger.trial_balance().is_balanced, "stored balances do not add up to zero"
    assert ledger.trial_balance(as_of=FAR_FUTURE).is_balanced, "postings do not add up to zero"
    assert ledger.balance_mismatches() == []
    overdrawn = [a.code for a in ledger.accounts() if a.no_overdraft and a.normal_balance().is_negative]
    assert overdrawn == []
    assert stored_balances(ledger, model) == model.balances
    as_of_balances = {a.code: b.cents for a, b in ledger.balances(as_of=as_of, household_id=model.household)}
    assert as_of_balances == model.as_of(as_of)
    keys, posting_count = book_rows(database, model.prefix)
    assert keys == model.keys, "the book holds exactly the accepted entries, nothing that was refused"
    assert posting_count == model.posting_count


@DB_SETTINGS
@given(history=histories, as_of_day=st.integers(-1, 91), bulk_replay=st.booleans())
def test_random_histories_keep_the_book_sound_and_replays_post_nothing(ledger, database, history, as_of_day, bulk_replay):
    """Post, batch and reverse at random; then send every accepted request again.

    Requests refused for insufficient funds are not sent again: by the end of the history the money may
    be there, and then posting them is right, not a replay. Refused second reversals are sent again and
    must still be refused.
    """
    model = Model(next(_households))
    ledger.open_accounts(model.specs())

    replay = run_history(ledger, model, history)
    assert_book_sound(ledger, database, model, APRIL_1 + timedelta(days=as_of_day))

    before = stored_balances(ledger, model)
    if bulk_replay and replay.posts:
        again = ledger.post_many([request for request, _ in replay.posts])
        assert again.posted == {} and again.skipped == []
        assert again.replayed == {request.idempotency_key: entry_id for request, entry_id in replay.posts}
    else:
        for request, entry_id in replay.posts:
            answer = ledger.post(request)
            assert answer.replayed and answer.id == entry_id
    for target, on, key, reversal_id in replay.reversals:
        answer = ledger.reverse(target, actor="hypothesis", reason="storno", booking_date=on, idempotency_key=key)
        assert answer.replayed and answer.id == reversal_id
    for target, on, key in replay.refused_reversals:
        with pytest.raises(AlreadyReversedError):
            ledger.reverse(target, actor="hypothesis", reason="storno", booking_date=on, idempotency_key=key)

    assert stored_balances(ledger, model) == before
    assert_book_sound(ledger, database, model, APRIL_1 + timedelta(days=as_of_day))


# -- Money, without a database ------------------------------------------------------------------

cents = st.integers(-(10**13), 10**13)


@given(amount=cents, parts=st.integers(1, 60))
def test_splitting_an_amount_over_months_loses_no_cent(amount, parts):
    split = Money(amount).split(parts)
    assert len(split) == parts
    assert Money.sum(split) == Money(amount)
    magnitudes = [abs(p.cents) for p in split]
    assert max(magnitudes) - min(magnitudes) <= 1
    assert magnitudes == sorted(magnitudes, reverse=True), "the larger parts come first"
    assert all(p.cents * amount >= 0 for p in split), "no part has the opposite sign"


@given(amount=cents, ratios=st.tuples(st.lists(st.integers(0, 1000), max_size=11), st.integers(1, 1000), st.integers(0, 11)).map(
        lambda t: t[0][: t[2]] + [t[1]] + t[0][t[2] :]  # at least one ratio above zero
    ),
)
def test_allocating_an_amount_by_ratios_loses_no_cent(amount, ratios):
    parts = Money(amount).allocate(ratios)
    total = sum(ratios)
    assert len(parts) == len(ratios)
    assert Money.sum(parts) == Money(amount)
    for part, ratio in zip(parts, ratios, strict=True):
        # Each part is within one cent of its exact share amount * ratio / total.
        assert abs(part.cents * total - amount * ratio) < total
        if ratio == 0:
            assert part == Money(0)


@given(amount=cents)
def test_an_amount_survives_printing_and_parsing(amount):
    money = Money(amount)
    text = str(money)
    assert Money.parse(text) == money
    assert Money.of(money.to_decimal()) == money
    assert Decimal(text) == money.to_decimal()
    whole, _, fraction = text.lstrip("-").partition(".")
    assert len(fraction) == 2 and whole.isdigit()


decimal_strings = st.builds(
    lambda sign, whole, fraction: f"{sign}{whole}{fraction}",
    st.sampled_from(["", "+", "-"]),
    st.from_regex(r"\A[0-9]{1,13}\Z"),
    st.sampled_from(["", ".0", ".00", ".5", ".05", ".50", ".99"]) | st.from_regex(r"\A\.[0-9]{1,2}\Z"),
)


@given(text=decimal_strings)
def test_a_decimal_string_parses_exactly_and_prints_canonically(text):
    money = Money.parse(text)
    value = Decimal(text)
    assert money.to_decimal() == value
    canonical = format(value.quantize(Decimal("0.01")), "f")
    if value == 0:
        canonical = "0.00"  # "-0.00" is not an amount of its own
    assert str(money) == canonical.lstrip("+")


@given(text=st.from_regex(r"\A[+-]?[0-9]{1,6}\.[0-9]{3,6}\Z"))
def test_an_amount_with_more_than_two_decimals_is_refused_not_rounded(text):
    with pytest.raises(MoneyError):
        Money.parse(text)
