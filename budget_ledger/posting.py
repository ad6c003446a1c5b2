"""The one way money is posted. The API, the CLI, the scheduler and batch runs all call this service.

Each call is one database transaction. Other services that must post in their own transaction (a
household is created with its accounts; a payment run posts with its instructions) call
`post_in(uow.ledger, …)` inside their unit of work. Inside the transaction the algorithm:
1. answers replays: a key seen before with the same request returns the original entry and posts
   nothing; the same key with a different request is refused as a conflict;
2. locks the accounts the new entries touch (row locks in id order on PostgreSQL; the database write
   lock of BEGIN IMMEDIATE on SQLite) and reads their balances;
3. walks the entries in order, refusing (or skipping, for batch runs that ask so) any entry that would
   take a no-overdraft account below zero;
4. writes drafts, postings and the seal in executemany-style statements and moves the stored balances
   by the same amounts, so stored balances always equal the sum of postings.
A deadlock, serialization failure or busy database is retried by `Transactions` a bounded number of
times with back-off; it is never reported as insufficient funds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal, TypeVar

from budget_ledger.ledger.accounts import Account, AccountSpec, would_overdraw
from budget_ledger.ledger.balances import TrialBalance
from budget_ledger.ledger.entries import EntryRequest, PostedEntry, reversal_request
from budget_ledger.ledger.errors import (
    AlreadyReversedError,
    EntryNotFoundError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidEntryError,
    UnknownAccountError,
)
from budget_ledger.ledger.money import Money
from budget_ledger.ports import BalanceMismatch, LedgerStore, LockedAccount
from budget_ledger.transactions import Transactions

T = TypeVar("T")
OnInsufficient = Literal["raise", "skip"]


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    idempotency_key: str
    reason: InsufficientFundsError


@dataclass(frozen=True, slots=True)
class BookExtract:
    """A consistent read of (part of) the book, for exports: one snapshot, streamed."""

    accounts: dict[str, Account]
    """Every account, by code (entries of one household may touch organisation accounts)."""
    scope: list[str]
    """Codes of the accounts the extract is about: all, or one household's."""
    opening_balances: dict[str, Money]
    """Balances of the scope accounts at the end of the day before `date_from` (empty without it)."""
    entries: Iterator[PostedEntry]
    date_from: date | None
    date_to: date | None


@dataclass(slots=True)
class BulkResult:
    """What a bulk post did, by idempotency key."""

    posted: dict[str, int] = field(default_factory=dict)
    replayed: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedEntry] = field(default_factory=list)

    @property
    def entry_ids(self) -> dict[str, int]:
        return {**self.replayed, **self.posted}


class LedgerService:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def _in_transaction(self, work: Callable[[LedgerStore], T], *, write: bool = True) -> T:
        return self._tx.run(lambda uow: work(uow.ledger), write=write)

    # -- accounts -----------------------------------------------------------------------------

    def open_accounts(self, specs: Sequence[AccountSpec]) -> list[Account]:
        """Open accounts; opening one that exists with the same settings returns it (idempotent)."""
        return self._in_transaction(lambda store: open_accounts_in(store, specs))

    def open_account(self, spec: AccountSpec) -> Account:
        return self.open_accounts([spec])[0]

    # -- posting ------------------------------------------------------------------------------

    def post(self, request: EntryRequest) -> PostedEntry:
        """Post one entry in one transaction. A replay returns the original entry, marked `replayed`."""

        return self._in_transaction(lambda store: post_one_in(store, request))

    def post_many(self, requests: Sequence[EntryRequest], *, on_insufficient: OnInsufficient = "raise") -> BulkResult:
        """Post many entries in one transaction: the bulk path for batch runs.

        All or nothing for conflicts, unknown accounts and invalid reversals. For entries that would
        overdraw a no-overdraft account, `on_insufficient="raise"` refuses the whole batch and "skip"
        leaves those entries out and reports them.
        """
        return self._in_transaction(lambda store: post_in(store, requests, on_insufficient=on_insufficient))

    def reverse(
        self, entry_id: int, *, actor: str, reason: str, booking_date: date, idempotency_key: str | None = None
    ) -> PostedEntry:
        """Post the entry that undoes `entry_id`. Reversing the same entry twice is refused."""

        def work(store: LedgerStore) -> PostedEntry:
            original = store.load_entries([entry_id]).get(entry_id)
            if original is None:
                raise EntryNotFoundError(f"there is no posted entry {entry_id}", field="entry_id")
            request = reversal_request(
                original, actor=actor, reason=reason, booking_date=booking_date, idempotency_key=idempotency_key
            )
            return post_one_in(store, request)

        return self._in_transaction(work)

    # -- reading ------------------------------------------------------------------------------

    def get_entry(self, entry_id: int) -> PostedEntry:
        entry = self._in_transaction(lambda store: store.load_entries([entry_id]).get(entry_id), write=False)
        if entry is None:
            raise EntryNotFoundError(f"there is no posted entry {entry_id}", field="entry_id")
        return entry

    def accounts(self, *, household_id: int | None = None) -> list[Account]:
        return self._in_transaction(lambda store: store.accounts(household_id=household_id), write=False)

    def balance(self, code: str, *, as_of: date | None = None) -> Money:
        """Debit-positive balance of one account, now or at the end of `as_of` (by booking date)."""

        def work(store: LedgerStore) -> Money:
            account = store.account(code)
            if account is None:
                raise UnknownAccountError(f"there is no account {code}", field="account")
            if as_of is None:
                return account.balance
            return Money(store.balances_as_of(as_of).get(code, 0))

        return self._in_transaction(work, write=False)

    def balances(self, *, as_of: date | None = None, household_id: int | None = None) -> list[tuple[Account, Money]]:
        """Every account (of one household, if given) with its balance now or as of a date."""

        def work(store: LedgerStore) -> list[tuple[Account, Money]]:
            accounts = store.accounts(household_id=household_id)
            if as_of is None:
                return [(a, a.balance) for a in accounts]
            sums = store.balances_as_of(as_of, household_id=household_id)
            return [(a, Money(sums.get(a.code, 0))) for a in accounts]

        return self._in_transaction(work, write=False)

    def trial_balance(self, *, as_of: date | None = None) -> TrialBalance:
        return TrialBalance({a.full_name: b for a, b in self.balances(as_of=as_of)})

    @contextmanager
    def extract(
        self, *, household_id: int | None = None, date_from: date | None = None, date_to: date | None = None
    ) -> Iterator[BookExtract]:
        """Open one read-only snapshot of the book for an export; entries are streamed from it."""
        with self._tx.open(write=False) as uow:
            store = uow.ledger
            accounts = {a.code: a for a in store.accounts()}
            scope = [a.code for a in accounts.values() if household_id is None or a.household_id == household_id]
            opening: dict[str, Money] = {}
            if date_from is not None:
                before = store.balances_as_of(date_from - timedelta(days=1), household_id=household_id)
                opening = {code: Money(cents) for code, cents in before.items() if cents and code in scope}
            yield BookExtract(
                accounts=accounts,
                scope=scope,
                opening_balances=opening,
                entries=store.iter_entries(household_id=household_id, date_from=date_from, date_to=date_to),
                date_from=date_from,
                date_to=date_to,
            )

    def balance_mismatches(self) -> list[BalanceMismatch]:
        """Accounts whose stored balance differs from the sum of their postings (should be none)."""
        return self._in_transaction(lambda store: store.balance_mismatches(), write=False)


def open_accounts_in(store: LedgerStore, specs: Sequence[AccountSpec]) -> list[Account]:
    """Open accounts inside an open transaction; an existing one with the same settings is returned."""
    return store.open_accounts(specs)


def post_one_in(store: LedgerStore, request: EntryRequest) -> PostedEntry:
    """Post one entry inside an open transaction; a replay returns the original, marked `replayed`."""
    result = post_in(store, [request], on_insufficient="raise")
    key = request.idempotency_key
    if key in result.replayed:
        entry_id = result.replayed[key]
        return replace(store.load_entries([entry_id])[entry_id], replayed=True)
    # Just written from this very request: no need to read it back.
    return PostedEntry(
        id=result.posted[key],
        idempotency_key=key,
        booking_date=request.booking_date,
        value_date=request.effective_value_date,
        postings=request.postings,
        reason=request.reason,
        actor=request.actor,
        source=request.source,
        rule=request.rule,
        household_id=request.household_id,
        reverses_entry_id=request.reverses_entry_id,
    )


def post_in(store: LedgerStore, requests: Sequence[EntryRequest], *, on_insufficient: OnInsufficient = "raise") -> BulkResult:
    """The posting algorithm inside one open transaction (see the module docstring)."""
    result = BulkResult()
    hashes = [r.request_hash() for r in requests]

    # 1. Replays and conflicts, within the batch and against the book.
    first_in_batch: dict[str, int] = {}
    fresh: list[int] = []
    for i, request in enumerate(requests):
        key = request.idempotency_key
        if key in first_in_batch:
            if hashes[first_in_batch[key]] != hashes[i]:
                raise InvalidEntryError(
                    f"idempotency key {key!r} appears twice in this batch with different postings",
                    field=f"entries[{i}].idempotency_key",
                )
            continue
        first_in_batch[key] = i
        fresh.append(i)
    known = store.known_keys(first_in_batch)
    new_indexes: list[int] = []
    for i in fresh:
        key = requests[i].idempotency_key
        seen = known.get(key)
        if seen is None:
            new_indexes.append(i)
        elif seen.request_hash == hashes[i]:
            result.replayed[key] = seen.entry_id
        else:
            raise IdempotencyConflictError(key, seen.entry_id)
    if not new_indexes:
        return result

    # 2. Reversals must point at a posted entry, undo it exactly, and be the only reversal of it.
    _check_reversals(store, [requests[i] for i in new_indexes])

    # 3. Lock the accounts and walk the entries in order against running balances.
    codes = {p.account for i in new_indexes for p in requests[i].postings}
    locked = store.lock_accounts(codes)
    missing = sorted(codes - locked.keys())
    if missing:
        raise UnknownAccountError(f"unknown account(s): {', '.join(missing)}", field="postings")
    running = {code: account.balance_cents for code, account in locked.items()}
    accepted: list[int] = []
    for i in new_indexes:
        request = requests[i]
        deltas: dict[str, int] = defaultdict(int)
        for p in request.postings:
            deltas[p.account] += p.amount.cents
        shortfall = _first_overdraft(deltas, running, locked)
        if shortfall is not None:
            if on_insufficient == "raise":
                raise shortfall
            result.skipped.append(SkippedEntry(request.idempotency_key, shortfall))
            continue
        for code, delta in deltas.items():
            running[code] += delta
        accepted.append(i)

    # 4. Write and move the stored balances by exactly what was written.
    chosen = [requests[i] for i in accepted]
    ids = store.write_entries(chosen, [hashes[i] for i in accepted], locked)
    store.add_to_balances(
        {account.id: running[code] - account.balance_cents for code, account in locked.items()}
    )
    for request, entry_id in zip(chosen, ids, strict=True):
        result.posted[request.idempotency_key] = entry_id
    return result


def _first_overdraft(
    deltas: dict[str, int], running: dict[str, int], locked: dict[str, LockedAccount]
) -> InsufficientFundsError | None:
    for code, delta in deltas.items():
        account = locked[code]
        after = running[code] + delta
        if would_overdraw(account.type, account.no_overdraft, after):
            sign = account.type.normal_sign
            return InsufficientFundsError(code, running[code] * sign, -delta * sign, field="postings")
    return None


def _check_reversals(store: LedgerStore, requests: Sequence[EntryRequest]) -> None:
    targets = Counter(r.reverses_entry_id for r in requests if r.reverses_entry_id is not None)
    if not targets:
        return
    twice = sorted(t for t, n in targets.items() if n > 1)
    if twice:
        raise AlreadyReversedError(f"entry {twice[0]} is reversed twice in one batch", field="reverses_entry_id")
    already = store.reversed_entry_ids(targets)
    if already:
        raise AlreadyReversedError(f"entry {min(already)} has already been reversed", field="reverses_entry_id")
    originals = store.load_entries(targets)
    for request in requests:
        if request.reverses_entry_id is None:
            continue
        original = originals.get(request.reverses_entry_id)
        if original is None:
            raise EntryNotFoundError(f"there is no posted entry {request.reverses_entry_id} to reverse", field="reverses_entry_id")
        undone = Counter((p.account, -p.amount.cents) for p in original.postings)
        if Counter((p.account, p.amount.cents) for p in request.postings) != undone:
            raise InvalidEntryError(
                f"a reversal of entry {original.id} must carry exactly its postings with opposite signs",
                field="postings",
            )
