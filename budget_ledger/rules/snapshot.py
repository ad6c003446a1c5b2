"""What the rules engine knows about a household: the snapshot it plans from.

The engine is pure (design.md §2), so everything it needs is handed to it in this one value: the
balances on the day the plan starts, the bills of the household's creditors, the income expected and
received, the trajectory's dates, and what earlier plans already did. The service layer builds the
snapshot from the database (`budget_ledger.planning`); tests build it by hand, which is why every type
here is a plain frozen dataclass with no behaviour beyond small derived facts.

Accounts are named relative to the household ("basis", "vaste-last:huur"); the service prefixes the
household and adds the bank side when it turns a movement into a journal entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value
from budget_ledger.rules.profiles import CostCategory, Toeslag

BASIS = "basis"
LEEFGELD_PAID = "leefgeld-uitkering"
KREDIET_UNSPENT = "reservering:inrichting"
KREDIET_LOAN = "krediet:inrichting"
VOORSCHOT = "voorschot:toeslag"
GIFT_INCOME = "inkomen:gift"


def cost_account(category: CostCategory) -> str:
    return f"vaste-last:{CostCategory(category).value}"


def reservering_account(name: str) -> str:
    return f"reservering:{name}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def pro_rata_from(amount: Money, first: date) -> Money:
    """A month's amount for the days from `first` to the month's end (S1: 17/31 × 650.00 = 356.45)."""
    days_in_month = month_end(first).day
    days = days_in_month - first.day + 1
    return amount if days == days_in_month else amount.allocate([days, days_in_month - days])[0]


class BusinessDays(Protocol):
    """The payment calendar the engine moves dates with (budget_ledger.payment_calendar.PaymentCalendar)."""

    def is_business_day(self, d: date) -> bool: ...

    def next_business_day(self, d: date) -> date: ...


class WeekdaysOnly:
    """A calendar with only weekends closed: for tests and what-ifs that need no bank holidays."""

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5

    def next_business_day(self, d: date) -> date:
        while not self.is_business_day(d):
            d += timedelta(days=1)
        return d


class Payer(StrEnum):
    LEDGER = "ledger"
    CLIENT = "client"


@quick_value
@dataclass(frozen=True, slots=True)
class Bill:
    """One instalment a creditor expects: for which period, on which day, how much.

    `payer` is what the registry says on the due date (None: nobody decided, so the profile decides).
    A one-off bill (a jaarafrekening, the eigen risico) is paid from the reservering for its category first.
    """

    creditor_id: int
    creditor: str
    category: CostCategory
    due_on: date
    amount: Money
    period: date
    payer: Payer | None = None
    one_off: bool = False

    @property
    def obligation(self) -> str:
        """`crediteur-<id>` for the creditor's regular termijn. A one-off bill is an obligation of its own: a
        jaarafrekening often comes on the day of a termijn, and one key for both would skip the second bill."""
        if self.one_off:
            return f"crediteur-{self.creditor_id}:eenmalig:{self.period:%Y-%m}"
        return f"crediteur-{self.creditor_id}"


class InflowKind(StrEnum):
    INCOME = "income"
    REFUND = "refund"
    """Money a creditor pays back; credited to the reservering for its category when there is one (S13)."""


@quick_value
@dataclass(frozen=True, slots=True)
class Inflow:
    """Money arriving on the basisrekening, with the months it is for (a toeslag back-payment covers several).

    `booked` inflows are already in the opening balances (received before or on the snapshot day): the
    engine does not add them again, but policies still see them, because a back-payment that arrived
    triggers the repayment of an advance.
    """

    source: str
    on: date
    amount: Money
    covers: tuple[tuple[date, Money], ...] = ()
    booked: bool = False
    kind: InflowKind = InflowKind.INCOME
    category: CostCategory | None = None

    def covered(self, month: date) -> Money:
        return Money.sum(amount for m, amount in self.covers if m == month)


@dataclass(frozen=True, slots=True)
class ToeslagExpectation:
    """A toeslag applied for: its monthly amount from its first month, and when the first payment is due.

    `rejected_on`: the beschikking came back at €0 (S2 negative test), so any advance on it can no longer
    be repaid from the toeslag.
    """

    toeslag: Toeslag
    monthly: Money
    entitlement_from: date
    first_payment_on: date
    rejected_on: date | None = None


@dataclass(frozen=True, slots=True)
class Trajectory:
    """The ontzorging period as the registry holds it; `last_day` moves when the period is extended."""

    start: date
    last_day: date
    status: str = "actief"

    def month_number(self, day: date) -> int:
        """1 for the start month, 2 for the next, and so on."""
        return (day.year - self.start.year) * 12 + day.month - self.start.month + 1

    @property
    def end_exclusive(self) -> date:
        return self.last_day + timedelta(days=1)


@quick_value
@dataclass(frozen=True, slots=True)
class PastMovement:
    """A movement an earlier plan already booked (its idempotency key, money and the obligation it was for)."""

    key: str
    rule: str
    obligation: str
    due_on: date
    amount: Money
    period: date | None = None


@dataclass(frozen=True, slots=True)
class Balances:
    """Balances at the start of the plan, in the household's own terms (positive = what the name says)."""

    basis: Money = Money(0)
    krediet_unspent: Money = Money(0)
    krediet_outstanding: Money = Money(0)
    voorschot_outstanding: Money = Money(0)
    reserveringen: Mapping[str, Money] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Krediet:
    """The inrichtingskrediet granted: the loan repaid by krediet_aflossing (S14) and the pot bridging draws on."""

    amount: Money
    granted_on: date


@dataclass(frozen=True, slots=True)
class HouseholdSnapshot:
    household_id: int
    members: int
    as_of: date
    trajectory: Trajectory
    balances: Balances
    bills: tuple[Bill, ...] = ()
    inflows: tuple[Inflow, ...] = ()
    toeslagen: tuple[ToeslagExpectation, ...] = ()
    monthly_income: Mapping[date, Mapping[str, Money]] = field(default_factory=dict)
    """The budget view of income: per month (its first day) the amount each source is for (S1: April's
    bijstand 1,281.38 even though it arrives on 1 May). Used for remainder leefgeld and the budgetplan."""
    krediet: Krediet | None = None
    history: tuple[PastMovement, ...] = ()
    calendar: BusinessDays = field(default_factory=WeekdaysOnly)

    def done(self) -> frozenset[str]:
        return frozenset(m.key for m in self.history)

    def income_for(self, month: date) -> Money:
        return Money.sum(self.monthly_income.get(month_start(month), {}).values())

    def run_day(self, month: date) -> date:
        """The monthly payment day: the first business day of the month (S1: 1 April, 1 May, 2 June)."""
        return self.calendar.next_business_day(month_start(month))
