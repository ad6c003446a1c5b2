"""Helpers for the rules-engine tests: shipped profiles and their variants, bills and income by the month,
and a replay of a plan's movements with the money arriving, the way the bank would see them.

Pure: no database. The tests build a `HouseholdSnapshot` by hand and ask the engine for a plan; the
replay here is an independent check of what the plan does to the household's accounts day by day.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from budget_ledger.adapters.profiles import load_profile
from budget_ledger.ledger import Money
from budget_ledger.rules.plan import Plan
from budget_ledger.rules.profiles import CostCategory, Profile
from budget_ledger.rules.snapshot import (
    BASIS,
    KREDIET_LOAN,
    KREDIET_UNSPENT,
    VOORSCHOT,
    Balances,
    Bill,
    HouseholdSnapshot,
    Inflow,
    PastMovement,
    WeekdaysOnly,
)

PROFILES_DIR = Path(__file__).resolve().parent.parent / "config" / "profiles"
SHIPPED = ("aalten", "deventer", "doetinchem", "roermond", "tilburg", "westfriesland", "wet-standaard")
CALENDAR = WeekdaysOnly()


def eur(text: str) -> Money:
    return Money.parse(text)


@cache
def shipped(name: str) -> Profile:
    return load_profile(PROFILES_DIR / f"{name}.toml")


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def variant(base: Profile | str, name: str, changes: Mapping[str, Any]) -> Profile:
    """`base` with `changes` merged into every version (nested tables merge, other values replace).

    Versions are strict about dates, so they are dumped in Python mode (dates stay dates) and validated
    again: a variant that is not a valid profile fails here, as a profile file would.
    """
    profile = shipped(base) if isinstance(base, str) else base
    versions = []
    for version in profile.versions:
        data = version.model_dump()
        _merge(data, copy.deepcopy(dict(changes)))
        versions.append(data)
    return Profile.model_validate({"name": name, "title": f"{profile.title} (variant {name})", "versions": versions})


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(first: date, last: date) -> list[date]:
    """First days of the months from `first`'s month through `last`'s month."""
    result, month = [], first.replace(day=1)
    while month <= last:
        result.append(month)
        month = next_month(month)
    return result


def run_day(month: date) -> date:
    return CALENDAR.next_business_day(month.replace(day=1))


def monthly_bills(creditor_id: int, creditor: str, category: CostCategory, amount: str | Money,
                  first: date, last: date) -> list[Bill]:
    """One bill per month, due on the first business day of the month it is for (rent is paid in advance)."""
    money = amount if isinstance(amount, Money) else eur(amount)
    return [Bill(creditor_id, creditor, category, run_day(month), money, month) for month in months(first, last)]


def bijstand_in_arrears(amount: str | Money, first: date, last: date, *, first_amount: str | Money | None = None
                        ) -> list[Inflow]:
    """Bijstand for each month from `first` to `last`, paid on the first business day of the month after."""
    money = amount if isinstance(amount, Money) else eur(amount)
    inflows = []
    for i, month in enumerate(months(first, last)):
        paid = money
        if i == 0 and first_amount is not None:
            paid = first_amount if isinstance(first_amount, Money) else eur(first_amount)
        inflows.append(Inflow("bijstand", run_day(next_month(month)), paid, ((month, paid),)))
    return inflows


def toeslag_payment(source: str, on: date, per_month: str | Money, covered: Iterable[date]) -> Inflow:
    money = per_month if isinstance(per_month, Money) else eur(per_month)
    covers = tuple((month, money) for month in covered)
    return Inflow(source, on, money * len(covers), covers)


# -- replaying a plan ------------------------------------------------------------------------------


@dataclass
class Replay:
    """The household's accounts as the plan moves them, day by day, with the money arriving in between.

    `low` is the lowest balance each client-money account reached at any moment (after every single
    inflow and movement); `at_end_of[day]` the balances at the end of each day that had an event.
    """

    balances: dict[str, Money]
    low: dict[str, Money] = field(default_factory=dict)
    at_end_of: dict[date, dict[str, Money]] = field(default_factory=dict)

    def on(self, day: date) -> dict[str, Money]:
        """Balances at the end of `day` (the last day with an event on or before it)."""
        known = [d for d in self.at_end_of if d <= day]
        return self.at_end_of[max(known)] if known else {}

    def balance(self, account: str, day: date) -> Money:
        return self.on(day).get(account, Money(0))


def client_money(account: str) -> bool:
    """The accounts that hold the client's money and have no overdraft (design.md §3.5)."""
    return account == BASIS or account.startswith("reservering:")


def opening_balances(balances: Balances) -> dict[str, Money]:
    opening = {BASIS: balances.basis, KREDIET_UNSPENT: balances.krediet_unspent,
               KREDIET_LOAN: -balances.krediet_outstanding, VOORSCHOT: -balances.voorschot_outstanding}
    for name, amount in balances.reserveringen.items():
        opening[f"reservering:{name}"] = amount
    return opening


def replay(snapshot: HouseholdSnapshot, plan: Plan) -> Replay:
    """Replay `plan` in order: on each day, the money arriving that day first, then the movements booked that
    day in plan order (a movement caught up after its due date is booked on the run's day).

    Balances are signed as postings are (debit positive): an asset's balance is what it holds, a
    liability's is minus what is owed.
    """
    state = Replay(dict(opening_balances(snapshot.balances)))
    state.low = {a: m for a, m in state.balances.items() if client_money(a)}

    def touch(account: str, amount: Money) -> None:
        state.balances[account] = state.balances.get(account, Money(0)) + amount
        if client_money(account):
            low = state.low.get(account, Money(0))
            if state.balances[account] < low:
                state.low[account] = state.balances[account]

    arriving = [i for i in snapshot.inflows if plan.start <= i.on <= plan.end and not i.booked]
    days = sorted({i.on for i in arriving} | {m.booking_date for m in plan.movements})
    for day in days:
        for inflow in sorted((i for i in arriving if i.on == day), key=lambda i: i.source):
            touch(BASIS, inflow.amount)
        for movement in (m for m in plan.movements if m.booking_date == day):
            for account, amount in movement.postings:
                touch(account, amount)
        state.at_end_of[day] = dict(state.balances)
    return state


def replanned(snapshot: HouseholdSnapshot, plan: Plan) -> HouseholdSnapshot:
    """The snapshot a second run would get after the first plan was booked: the movements as history,
    the balances moved by them and by the money that arrived, and that money marked as booked."""
    after = replay(snapshot, plan).balances
    reserveringen = {a.removeprefix("reservering:"): m for a, m in after.items()
                     if a.startswith("reservering:") and a != KREDIET_UNSPENT}
    balances = Balances(basis=after[BASIS], krediet_unspent=after.get(KREDIET_UNSPENT, Money(0)),
                        krediet_outstanding=-after.get(KREDIET_LOAN, Money(0)),
                        voorschot_outstanding=-after.get(VOORSCHOT, Money(0)), reserveringen=reserveringen)
    history = tuple(PastMovement(m.key, m.rule, m.obligation, m.due_on, m.amount, m.period) for m in plan.movements)
    inflows = tuple(replace(i, booked=True) if plan.start <= i.on <= plan.end else i for i in snapshot.inflows)
    return replace(snapshot, as_of=plan.end, balances=balances, history=snapshot.history + history, inflows=inflows)
