"""The month budget: the household's income for a month against what the profile takes from it.

One definition serves the remainder leefgeld, the tekort check, the suspension of krediet aflossing and
the budgetplan, so the figure a client signs is the figure the engine pays from. Income is counted for
the month it is *for* (April's bijstand, although it arrives on 1 May), as a budgetplan shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from budget_ledger.ledger.money import Money
from budget_ledger.rules.profiles import CostCategory, LeefgeldFrequency, LeefgeldMode, ProfileVersion
from budget_ledger.rules.snapshot import HouseholdSnapshot, Payer, month_start


@dataclass(frozen=True, slots=True)
class MonthBudget:
    month: date
    income: dict[str, Money]
    withheld: dict[CostCategory, Money]
    client_paid: dict[CostCategory, Money]
    reserveringen: dict[str, Money]
    aflossing: Money
    buffer: Money

    @property
    def total_income(self) -> Money:
        return Money.sum(self.income.values())

    @property
    def total_withheld(self) -> Money:
        return Money.sum(self.withheld.values())

    @property
    def room(self) -> Money:
        """What is left for leefgeld after fixed costs, reserveringen, aflossing and the buffer."""
        return (self.total_income - self.total_withheld - Money.sum(self.reserveringen.values())
                - self.aflossing - self.buffer)


def regular_instalment(loan: Money, months: int) -> Money:
    """The monthly krediet instalment, rounded down to the cent; the last one absorbs the rest (S14)."""
    return Money(loan.cents // months)


def last_instalment(loan: Money, months: int) -> Money:
    return loan - regular_instalment(loan, months) * (months - 1)


def next_instalment(loan: Money, months: int, outstanding: Money) -> Money:
    """The next instalment with `outstanding` still owed: the regular one, the last one (which absorbs the
    rounding), or nothing once the loan is repaid."""
    if outstanding.cents <= 0:
        return Money(0)
    if not last_instalment(loan, months) < outstanding:
        return outstanding
    regular = regular_instalment(loan, months)
    return regular if regular < outstanding else outstanding


def trajectory_month(snapshot: HouseholdSnapshot, month: date) -> int:
    return snapshot.trajectory.month_number(month_start(month))


def month_budget(snapshot: HouseholdSnapshot, version: ProfileVersion, month: date,
                 withheld: Callable[[CostCategory, date], bool] | None = None, aflossing: Money | None = None) -> MonthBudget:
    """The budget of `month` under `version`. `withheld(category, month)` says whether the ledger pays a
    category that month (the engine passes its own, which knows the afbouw hand-over dates). `aflossing`
    is the krediet instalment really withheld that month when it is known (suspended: 0, the last one:
    what is left of the loan); without it the budget counts the regular instalment."""
    month = month_start(month)
    is_withheld = withheld or (lambda category, _m: category in version.withheld_categories())
    number = trajectory_month(snapshot, month)
    ledger: dict[CostCategory, Money] = {}
    client: dict[CostCategory, Money] = {}
    for bill in snapshot.bills:
        if bill.period != month or bill.one_off:
            continue
        target = ledger if bill.payer is not Payer.CLIENT and is_withheld(bill.category, month) else client
        target[bill.category] = target.get(bill.category, Money(0)) + bill.amount
    reserveringen = {r.name: r.amount_per_month for r in version.reserveringen if number >= r.from_month}
    policy = version.krediet_aflossing
    if aflossing is None:
        aflossing = Money(0)
        if policy.enabled and snapshot.krediet is not None and number >= policy.from_month:
            aflossing = next_instalment(snapshot.krediet.amount, policy.months, snapshot.balances.krediet_outstanding)
    return MonthBudget(
        month=month,
        income=dict(snapshot.monthly_income.get(month, {})),
        withheld=ledger,
        client_paid=client,
        reserveringen=reserveringen,
        aflossing=aflossing,
        buffer=version.leefgeld.buffer_per_month,
    )


def monthly_leefgeld(version: ProfileVersion, budget: MonthBudget) -> Money:
    """The leefgeld of a full month in the budget's terms: a fixed amount (weekly × 52 / 12), or the room."""
    policy = version.leefgeld
    if policy.mode is LeefgeldMode.REMAINDER:
        return max(budget.room, Money(0))
    assert policy.amount is not None
    if policy.frequency is LeefgeldFrequency.WEEKLY:
        return Money(policy.amount.cents * 52 // 12)
    return policy.amount
