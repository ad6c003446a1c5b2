"""Expected income: what should arrive on the basisrekening, when, and for which period.

Each source has its own rhythm (domain.md B1–B3): bijstand is paid after the month (in arrears) on the
gemeente's day; toeslagen are paid around the 20th for the next month (in advance), but the first payment
comes weeks late and carries the back-payment as one sum; kinderbijslag is paid after each quarter.
`expected_payments` turns an expectation into dated payments, each listing the months it covers, so a
late or lump payment can be recognised and split per month when it arrives.

A zorgtoeslag expectation can depend on the zorgverzekering creditor (S9): entitlement starts on the
first of the month after the polis starts, and moves when the polis start moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import Field, field_validator, model_validator

from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.gemeenten import GemeenteSettings
from budget_ledger.households import read_for_household, require_household
from budget_ledger.identifiers import parse_iban
from budget_ledger.inputs import Command, MoneyInput, validated
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import (
    DEFAULT_CALENDAR,
    PaymentCalendar,
    PaymentDayRule,
    kinderbijslag_payment_date,
    toeslag_payment_date,
    toeslag_payment_date_for,
)
from budget_ledger.ports import UnitOfWork
from budget_ledger.transactions import Transactions


class IncomeSource(StrEnum):
    BIJSTAND = "bijstand"
    BIJSTAND_VOORSCHOT = "bijstand-voorschot"
    ZORGTOESLAG = "zorgtoeslag"
    HUURTOESLAG = "huurtoeslag"
    KINDGEBONDEN_BUDGET = "kindgebonden-budget"
    KINDERBIJSLAG = "kinderbijslag"
    LOON = "loon"
    VAKANTIEGELD = "vakantiegeld"
    GIFT = "gift"
    """Bijzondere bijstand or another gift."""
    OVERIG = "overig"


class Coverage(StrEnum):
    ARREARS = "arrears"
    """Paid after the month it is for (bijstand)."""
    ADVANCE = "advance"
    """Paid in the month before the month it is for (toeslagen)."""
    CURRENT = "current"
    """Paid in the month it is for (wages)."""
    QUARTER_ARREARS = "quarter_arrears"
    """Paid after the quarter it is for (kinderbijslag)."""
    ONE_OFF = "one_off"


class IncomeFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ONCE = "once"


TOESLAGEN = frozenset({IncomeSource.ZORGTOESLAG, IncomeSource.HUURTOESLAG, IncomeSource.KINDGEBONDEN_BUDGET})

DEFAULT_RHYTHM: dict[IncomeSource, tuple[IncomeFrequency, Coverage]] = {
    IncomeSource.BIJSTAND: (IncomeFrequency.MONTHLY, Coverage.ARREARS),
    IncomeSource.BIJSTAND_VOORSCHOT: (IncomeFrequency.ONCE, Coverage.ONE_OFF),
    IncomeSource.ZORGTOESLAG: (IncomeFrequency.MONTHLY, Coverage.ADVANCE),
    IncomeSource.HUURTOESLAG: (IncomeFrequency.MONTHLY, Coverage.ADVANCE),
    IncomeSource.KINDGEBONDEN_BUDGET: (IncomeFrequency.MONTHLY, Coverage.ADVANCE),
    IncomeSource.KINDERBIJSLAG: (IncomeFrequency.QUARTERLY, Coverage.QUARTER_ARREARS),
    IncomeSource.LOON: (IncomeFrequency.MONTHLY, Coverage.CURRENT),
    IncomeSource.VAKANTIEGELD: (IncomeFrequency.ONCE, Coverage.ONE_OFF),
    IncomeSource.GIFT: (IncomeFrequency.ONCE, Coverage.ONE_OFF),
    IncomeSource.OVERIG: (IncomeFrequency.MONTHLY, Coverage.CURRENT),
}


def toeslag_entitlement_from(conditions_met_on: date) -> date:
    """Toeslagen start on the first of the month after the conditions are met (B1: registered from 15 May →
    from 1 June). Conditions met on the 1st hold for that whole month, so entitlement starts that day."""
    if conditions_met_on.day == 1:
        return conditions_met_on
    return conditions_met_on.replace(day=1) + relativedelta(months=1)


def first_toeslag_payment_on_or_after(day: date, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> date:
    this_month = toeslag_payment_date(day.year, day.month, calendar=calendar)
    if this_month >= day:
        return this_month
    following = day.replace(day=1) + relativedelta(months=1)
    return toeslag_payment_date(following.year, following.month, calendar=calendar)


def estimate_first_toeslag(conditions_met_on: date, lag_weeks: int, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> date:
    """The first toeslag payment day at least `lag_weeks` after the conditions were met (about 8 weeks in
    practice, up to 13: domain.md B1). S1: housed 15-03-2025, 8 weeks → 20-05-2025."""
    return first_toeslag_payment_on_or_after(conditions_met_on + timedelta(weeks=lag_weeks), calendar)


class NewExpectedIncome(Command):
    source: IncomeSource
    amount: MoneyInput = Field(description="per period (month or quarter), or the one-off sum")
    entitlement_from: date | None = Field(default=None, description="first day the income is for")
    conditions_met_on: date | None = Field(
        default=None, description="toeslagen: the day the conditions were met (housing, polis start)"
    )
    depends_on_creditor_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="zorgtoeslag: the zorgverzekering creditor whose polis start sets the conditions"
    )
    first_expected_on: date | None = Field(default=None, description="known first payment day, else estimated")
    valid_to: date | None = None
    payment_day: str | None = Field(default=None, description="PaymentDayRule; bijstand defaults to the gemeente's")
    payer_ibans: tuple[str, ...] = ()
    references: tuple[str, ...] = Field(default=(), description="texts that identify this income on a statement")

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.cents <= 0:
            raise ValueError("the amount must be above zero")
        return value

    @field_validator("payer_ibans")
    @classmethod
    def _ibans(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(parse_iban(v).iban for v in values)
        except InvalidInputError as exc:
            raise ValueError(exc.problems[0].reason) from None

    @field_validator("payment_day")
    @classmethod
    def _payment_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return PaymentDayRule.parse(value).to_text()
        except InvalidInputError as exc:
            raise ValueError(exc.problems[0].reason) from None

    @model_validator(mode="after")
    def _dates(self) -> NewExpectedIncome:
        given = [self.entitlement_from, self.conditions_met_on, self.depends_on_creditor_id]
        if all(v is None for v in given):
            raise ValueError("give entitlement_from, conditions_met_on or depends_on_creditor_id")
        if self.depends_on_creditor_id is not None and self.source not in TOESLAGEN:
            raise ValueError("only a toeslag can depend on a creditor (the zorgverzekering's polis start)")
        if self.valid_to and self.entitlement_from and self.valid_to < self.entitlement_from:
            raise ValueError("valid_to lies before entitlement_from")
        frequency, _ = DEFAULT_RHYTHM[self.source]
        if frequency is IncomeFrequency.ONCE and self.first_expected_on is None:
            raise ValueError(f"a one-off {self.source.value} needs first_expected_on")
        return self


@dataclass(frozen=True, slots=True)
class ExpectedIncome:
    id: int
    household_id: int
    source: IncomeSource
    amount: Money
    frequency: IncomeFrequency
    coverage: Coverage
    payment_day: PaymentDayRule | None
    entitlement_from: date
    valid_to: date | None
    conditions_met_on: date | None
    first_expected_on: date
    first_expected_latest: date
    depends_on_creditor_id: int | None
    payer_ibans: tuple[str, ...]
    references: tuple[str, ...]
    updated_at: datetime
    rejected_on: date | None = None
    """A toeslag whose beschikking came back at €0: nothing more is expected from it (S2, negative case)."""
    rejection_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExpectedPayment:
    """One payment to wait for: when, how much, and which periods it pays (month starts, with amounts)."""

    due_on: date
    amount: Money
    covers: tuple[tuple[date, Money], ...]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months(first: date, last: date) -> list[date]:
    months, month = [], _month_start(first)
    while month <= last:
        months.append(month)
        month += relativedelta(months=1)
    return months


def _month_share(amount: Money, month: date, entitled_from: date, valid_to: date | None) -> Money:
    """The month's amount, pro rata by calendar days when entitlement starts or stops inside it.
    S1: bijstand from 15-03 is 17/31 of 1,281.38 = 702.69 for March."""
    last_of_month = month + relativedelta(months=1) - timedelta(days=1)
    first = max(month, entitled_from)
    last = min(last_of_month, valid_to) if valid_to else last_of_month
    days, in_month = (last - first).days + 1, last_of_month.day
    if days >= in_month:
        return amount
    return amount.allocate([days, in_month - days])[0]


def expected_payments(income: ExpectedIncome, until: date, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> list[ExpectedPayment]:
    """The payments of `income` due on or before `until`, oldest first; none for a rejected toeslag."""
    # Only the fields that decide the payments make the cache key: a payment run asks this for every
    # household, and most share their rhythm, amounts and dates.
    return list(_expected_payments(
        (income.rejected_on, income.frequency, income.coverage, income.amount, income.payment_day,
         income.entitlement_from, income.valid_to, income.first_expected_on), until, calendar))


@lru_cache(maxsize=8192)
def _expected_payments(key: tuple[Any, ...], until: date, calendar: PaymentCalendar) -> tuple[ExpectedPayment, ...]:
    rejected_on, frequency, coverage, amount, payment_day, entitlement_from, valid_to, first_expected_on = key
    return tuple(_payments(_Rhythm(rejected_on, frequency, coverage, amount, payment_day, entitlement_from, valid_to,
                                   first_expected_on), until, calendar))


@dataclass(frozen=True, slots=True)
class _Rhythm:
    """What of an expectation decides its payments."""

    rejected_on: date | None
    frequency: IncomeFrequency
    coverage: Coverage
    amount: Money
    payment_day: PaymentDayRule | None
    entitlement_from: date
    valid_to: date | None
    first_expected_on: date


def _payments(income: _Rhythm, until: date, calendar: PaymentCalendar) -> list[ExpectedPayment]:
    if income.rejected_on is not None:
        return []
    if income.frequency is IncomeFrequency.ONCE:
        if income.first_expected_on > until:
            return []
        return [ExpectedPayment(income.first_expected_on, income.amount, ((_month_start(income.entitlement_from), income.amount),))]
    if income.coverage is Coverage.QUARTER_ARREARS:
        return _quarterly(income, until, calendar)
    last_month = _month_start(income.valid_to) if income.valid_to else _month_start(until) + relativedelta(months=1)
    months = _months(income.entitlement_from, last_month)
    shares = [(m, _month_share(income.amount, m, income.entitlement_from, income.valid_to)) for m in months]
    if income.coverage is Coverage.ADVANCE:
        return _advance(income, shares, until, calendar)
    payments = []
    rule = income.payment_day or PaymentDayRule.day_of_month(1, month_offset=0 if income.coverage is Coverage.CURRENT else 1)
    for index, (month, share) in enumerate(shares):
        due = income.first_expected_on if index == 0 else rule.payment_date(month.year, month.month, calendar=calendar)
        if due <= until:
            payments.append(ExpectedPayment(due, share, ((month, share),)))
    return payments


def _advance(income: _Rhythm, shares: list[tuple[date, Money]], until: date,
             calendar: PaymentCalendar) -> list[ExpectedPayment]:
    """The first payment covers every month up to the one after it (back-payment plus the voorschot);
    after that one month at a time, paid in the month before. S1: zorgtoeslag from April, first paid
    20-05-2025: April, May and June in one sum."""
    first_day = income.first_expected_on
    first_covers_through = _month_start(first_day) + relativedelta(months=1)
    lump = tuple((m, s) for m, s in shares if m <= first_covers_through)
    payments = []
    if lump and first_day <= until:
        payments.append(ExpectedPayment(first_day, Money.sum(s for _, s in lump), lump))
    for month, share in shares:
        if month <= first_covers_through:
            continue
        due = toeslag_payment_date_for(month.year, month.month, calendar=calendar)
        if due <= until:
            payments.append(ExpectedPayment(due, share, ((month, share),)))
    return payments


def _quarterly(income: _Rhythm, until: date, calendar: PaymentCalendar) -> list[ExpectedPayment]:
    payments = []
    quarter = date(income.entitlement_from.year, 3 * ((income.entitlement_from.month - 1) // 3) + 1, 1)
    while True:
        if income.valid_to and quarter > income.valid_to:
            break
        q = (quarter.month - 1) // 3 + 1
        due = kinderbijslag_payment_date(quarter.year, q, calendar=calendar)
        if due > until:
            break
        payments.append(ExpectedPayment(due, income.amount, ((quarter, income.amount),)))
        quarter += relativedelta(months=3)
    return payments


def _resolve(new: NewExpectedIncome, conditions_met_on: date | None, settings: GemeenteSettings,
             calendar: PaymentCalendar) -> dict[str, Any]:
    """The stored fields of an expectation: its rhythm, entitlement and first payment (given or estimated)."""
    frequency, coverage = DEFAULT_RHYTHM[new.source]
    rule_text = new.payment_day
    if new.source is IncomeSource.BIJSTAND and rule_text is None:
        rule_text = settings.bijstand_rule.to_text()
    rule = PaymentDayRule.parse(rule_text) if rule_text else None
    conditions = conditions_met_on or new.conditions_met_on
    if new.source in TOESLAGEN:
        anchor = conditions or new.entitlement_from
        assert anchor is not None
        entitlement = new.entitlement_from or toeslag_entitlement_from(anchor)
        first = new.first_expected_on or estimate_first_toeslag(anchor, settings.toeslag_first_payment_lag_weeks, calendar)
        latest = max(first, estimate_first_toeslag(anchor, settings.toeslag_worst_case_lag_weeks, calendar))
    else:
        if new.entitlement_from is None:
            raise InvalidInputError("entitlement_from", f"{new.source.value} needs the first day it is for")
        entitlement = new.entitlement_from
        if new.first_expected_on is not None:
            first = new.first_expected_on
        elif coverage is Coverage.QUARTER_ARREARS:
            first = kinderbijslag_payment_date(entitlement.year, (entitlement.month - 1) // 3 + 1, calendar=calendar)
        elif rule is not None:
            first = rule.payment_date(entitlement.year, entitlement.month, calendar=calendar)
        else:
            raise InvalidInputError("payment_day", f"{new.source.value} needs payment_day or first_expected_on")
        latest = first
    if first < entitlement and coverage is not Coverage.ADVANCE:
        raise InvalidInputError("first_expected_on", "lies before the entitlement starts")
    return {
        "source": new.source.value,
        "amount_cents": new.amount.cents,
        "frequency": frequency.value,
        "coverage": coverage.value,
        "payment_day": rule.to_text() if rule else None,
        "entitlement_from": entitlement,
        "valid_to": new.valid_to,
        "conditions_met_on": conditions,
        "first_expected_on": first,
        "first_expected_latest": latest,
        "depends_on_creditor_id": new.depends_on_creditor_id,
        "payer_ibans": list(new.payer_ibans),
        "references": list(new.references),
    }


def reschedule_dependents(uow: UnitOfWork, creditor_id: int, polis_start: date, settings: GemeenteSettings,
                          now: datetime, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> list[int]:
    """Move the toeslagen that wait on a creditor's start (S9: the zorgpolis starts a month late, so the
    zorgtoeslag starts a month later and its first payment is estimated again). Returns their ids."""
    moved = []
    for income in uow.registry.dependents_of_creditor(creditor_id):
        uow.registry.update_expected_income(
            income.id,
            {
                "conditions_met_on": polis_start,
                "entitlement_from": toeslag_entitlement_from(polis_start),
                "first_expected_on": estimate_first_toeslag(polis_start, settings.toeslag_first_payment_lag_weeks, calendar),
                "first_expected_latest": estimate_first_toeslag(polis_start, settings.toeslag_worst_case_lag_weeks, calendar),
            },
            now,
        )
        moved.append(income.id)
    return moved


class RecordRejection(Command):
    decided_on: date = Field(description="the date of the beschikking")
    reason: str = Field(min_length=5, max_length=2000)


class IncomeService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock,
                 calendar: PaymentCalendar = DEFAULT_CALENDAR) -> None:
        self._tx = transactions
        self._clock = clock
        self._calendar = calendar

    def add(self, household_id: int, data: NewExpectedIncome | Mapping[str, Any], actor: str) -> ExpectedIncome:
        new = validated(NewExpectedIncome, data)

        def work(uow: UnitOfWork) -> ExpectedIncome:
            household = require_household(uow, household_id)
            settings = uow.registry.gemeente(household.gemeente_id).settings
            conditions = None
            if new.depends_on_creditor_id is not None:
                creditor = uow.registry.creditor(new.depends_on_creditor_id)
                if creditor is None or creditor.household_id != household_id:
                    raise InvalidInputError("depends_on_creditor_id", "is not a creditor of this household")
                conditions = creditor.starts_on
            values = _resolve(new, conditions, settings, self._calendar)
            income_id = uow.registry.insert_expected_income(household_id, values, self._clock())
            return uow.registry.expected_income(income_id)

        return self._tx.run(work)

    def record_rejection(self, income_id: int, data: RecordRejection | Mapping[str, Any], actor: str) -> ExpectedIncome:
        """Dienst Toeslagen rejected the toeslag: stop expecting it. Only toeslagen can be rejected here,
        and only once; a later positive decision is a new expectation."""
        decision = validated(RecordRejection, data)

        def work(uow: UnitOfWork) -> ExpectedIncome:
            income = uow.registry.expected_income(income_id)
            if income is None:
                raise NotFoundError(f"there is no expected income {income_id}", field="income_id")
            if income.source not in TOESLAGEN:
                raise InvalidInputError("income_id", f"{income.source.value} is not a toeslag; only a toeslag is rejected by beschikking")
            if income.rejected_on is not None:
                raise ConflictError(f"expected income {income_id} was already rejected on {income.rejected_on}", field="income_id")
            uow.registry.update_expected_income(
                income_id, {"rejected_on": decision.decided_on, "rejection_reason": f"{decision.reason} ({actor})"}, self._clock())
            return uow.registry.expected_income(income_id)

        return self._tx.run(work)

    def of_household(self, household_id: int) -> list[ExpectedIncome]:
        return read_for_household(self._tx, household_id, lambda uow: uow.registry.expected_income_of(household_id))

    def payments_until(self, household_id: int, until: date) -> list[tuple[ExpectedIncome, ExpectedPayment]]:
        """Every payment the household should have had or will have by `until`, by due date."""
        found = [
            (income, payment)
            for income in self.of_household(household_id)
            for payment in expected_payments(income, until, self._calendar)
        ]
        return sorted(found, key=lambda pair: (pair[1].due_on, pair[0].id))
