"""Balances and the trial balance, computed from postings in memory.

The database keeps current balances for speed; these pure functions are the definition they must agree
with, and what the invariant checks and property tests compare against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from budget_ledger.ledger.money import Money


@dataclass(frozen=True, slots=True)
class DatedPosting:
    account: str
    amount: Money
    booking_date: date


def balances_as_of(postings: Iterable[DatedPosting], as_of: date | None = None) -> dict[str, Money]:
    """Debit-positive balance per account of every posting booked on or before `as_of` (all when None)."""
    totals: dict[str, int] = defaultdict(int)
    for p in postings:
        if as_of is None or p.booking_date <= as_of:
            totals[p.account] += p.amount.cents
    return {account: Money(cents) for account, cents in sorted(totals.items())}


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """Balance per account. In a sound book the debit-positive balances add up to exactly zero."""

    balances: dict[str, Money]

    @property
    def total(self) -> Money:
        return Money.sum(self.balances.values())

    @property
    def is_balanced(self) -> bool:
        return self.total.cents == 0

    @property
    def debits(self) -> Money:
        return Money.sum(b for b in self.balances.values() if b.cents > 0)

    @property
    def credits(self) -> Money:
        return Money.sum(-b for b in self.balances.values() if b.cents < 0)
