"""What the service layer needs from storage, as protocols; the database adapter implements them.

Keeping these here lets the posting service hold the ledger's rules (idempotency, overdraft, reversal)
while the adapter holds the SQL (locking, executemany, RETURNING), and lets the service layer import no
database code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from budget_ledger.ledger.accounts import Account, AccountSpec, AccountType
from budget_ledger.ledger.entries import EntryRequest, PostedEntry


@dataclass(frozen=True, slots=True)
class LockedAccount:
    """An account row read under the write lock of the current transaction."""

    id: int
    code: str
    type: AccountType
    no_overdraft: bool
    balance_cents: int


@dataclass(frozen=True, slots=True)
class KnownKey:
    entry_id: int
    request_hash: str


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    account_code: str
    stored_cents: int
    computed_cents: int


class LedgerStore(Protocol):
    """Storage for one transaction. Every method runs inside it; nothing commits on its own."""

    def open_account(self, spec: AccountSpec) -> Account: ...

    def lock_accounts(self, codes: Collection[str]) -> dict[str, LockedAccount]: ...

    def known_keys(self, keys: Collection[str]) -> dict[str, KnownKey]: ...

    def reversed_entry_ids(self, entry_ids: Collection[int]) -> set[int]: ...

    def write_entries(
        self, requests: Sequence[EntryRequest], hashes: Sequence[str], accounts: Mapping[str, LockedAccount]
    ) -> list[int]: ...

    def add_to_balances(self, deltas: Mapping[int, int]) -> None: ...

    def load_entries(self, entry_ids: Collection[int]) -> dict[int, PostedEntry]: ...

    def accounts(self, *, household_id: int | None = None) -> list[Account]: ...

    def account(self, code: str) -> Account | None: ...

    def balances_as_of(self, as_of: date, *, household_id: int | None = None) -> dict[str, int]: ...

    def iter_entries(
        self, *, household_id: int | None, date_from: date | None, date_to: date | None
    ) -> Iterator[PostedEntry]: ...

    def balance_mismatches(self) -> list[BalanceMismatch]: ...


class UnitOfWork(Protocol):
    """The repositories of one open transaction. Whatever a command touches, it touches through one of these."""

    ledger: LedgerStore


class UnitOfWorkFactory(Protocol):
    """Opens a transaction and yields its unit of work; commits when the block ends normally."""

    def __call__(self, *, write: bool) -> AbstractContextManager[UnitOfWork]: ...
