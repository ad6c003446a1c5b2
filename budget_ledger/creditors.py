"""Creditors (schuldeisers) of a household: who is paid, to which IBAN, with which reference, how often,
and — dated — by whom: the ledger, or the client by automatische incasso.

The payer is a dated series so an afbouw moves one creditor at a time (S10 outcome A): on any day
exactly one payer holds, so no month can be paid twice or left unpaid by the hand-over itself.
Schedules of one creditor never overlap. The account-holder name is kept exactly as the bank knows it,
for Verification of Payee. The postal address is optional and structured (budget_ledger.addresses), for
the bank file; a change replaces it and records who changed it when, while every payment instruction keeps
the address it was made with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from dateutil.rrule import MONTHLY, WEEKLY, rrule
from pydantic import Field, field_validator, model_validator

from budget_ledger.addresses import PostalAddress, PostalAddressInput
from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.expected_income import reschedule_dependents
from budget_ledger.households import read_for_household, require_household
from budget_ledger.identifiers import PaymentReference, PaymentReferenceKind, parse_iban
from budget_ledger.inputs import Command, MoneyInput, validated
from budget_ledger.ledger.money import Money
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.profiles import CostCategory
from budget_ledger.transactions import Transactions

# One list of fixed-cost categories for creditors and rule profiles; it lives in the rules package
# because rules/ may not import the service layer, while the service layer may import rules/.
CreditorCategory = CostCategory


class Frequency(StrEnum):
    MONTHLY = "monthly"
    """On day N of every month (the last day when the month is shorter)."""
    WEEKLY = "weekly"
    """On ISO weekday N (1 = Monday)."""
    QUARTERLY = "quarterly"
    """On day N of every third month, counted from the month of valid_from."""
    ONCE = "once"
    """Once, on valid_from."""


class Payer(StrEnum):
    LEDGER = "ledger"
    CLIENT_INCASSO = "client_incasso"


class ScheduleInput(Command):
    amount: MoneyInput
    frequency: Frequency
    day: int | None = Field(default=None, description="day of month (1-31) or ISO weekday (1-7); not for 'once'")
    valid_from: date
    valid_to: date | None = None

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.cents <= 0:
            raise ValueError("the amount must be above zero")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleInput:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to lies before valid_from")
        if self.frequency is Frequency.ONCE:
            if self.day is not None:
                raise ValueError("a one-off payment has no day: it falls on valid_from")
        elif self.day is None:
            raise ValueError(f"a {self.frequency.value} schedule needs a day")
        elif self.frequency is Frequency.WEEKLY and not 1 <= self.day <= 7:
            raise ValueError("a weekly schedule's day is an ISO weekday from 1 (Monday) to 7 (Sunday)")
        elif self.frequency is not Frequency.WEEKLY and not 1 <= self.day <= 31:
            raise ValueError("the day of the month runs from 1 to 31")
        return self


class NewCreditor(Command):
    organisation: str = Field(min_length=1, max_length=200)
    account_holder_name: str = Field(min_length=1, max_length=200, description="exactly as the bank knows it (VoP)")
    iban: str
    category: CreditorCategory
    reference_kind: PaymentReferenceKind
    reference: str = Field(max_length=140)
    schedule: ScheduleInput
    payer: Payer = Payer.LEDGER
    address: PostalAddressInput | None = Field(default=None, description="for the bank file (pain.001 PstlAdr)")

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        try:
            return parse_iban(value).iban
        except InvalidInputError as exc:
            raise ValueError(exc.problems[0].reason) from None

    @model_validator(mode="after")
    def _reference(self) -> NewCreditor:
        try:
            parsed = PaymentReference.parse(self.reference_kind, self.reference)
        except InvalidInputError as exc:
            raise ValueError(f"reference: {exc.problems[0].reason}") from None
        object.__setattr__(self, "reference", parsed.value)
        return self


class AssignPayer(Command):
    payer: Payer
    valid_from: date
    reason: str = Field(min_length=5, max_length=2000)


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    amount: Money
    frequency: Frequency
    day: int | None
    valid_from: date
    valid_to: date | None

    def due_dates(self, start: date, end: date) -> list[date]:
        """The calendar days the payment falls due between `start` and `end`, inclusive.

        Calendar days, not business days: the payment run moves them onto the bank's calendar.
        """
        return list(_due_dates(self.frequency, self.day, self.valid_from, self.valid_to, start, end))

    def overlaps(self, valid_from: date, valid_to: date | None) -> bool:
        ends_before = valid_to is not None and valid_to < self.valid_from
        starts_after = self.valid_to is not None and valid_from > self.valid_to
        return not (ends_before or starts_after)


@dataclass(frozen=True, slots=True)
class PayerPeriod:
    payer: Payer
    valid_from: date
    recorded_at: datetime
    recorded_by: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Creditor:
    id: int
    household_id: int
    organisation: str
    account_holder_name: str
    iban: str
    bic: str | None
    category: CreditorCategory
    reference: PaymentReference
    schedules: tuple[Schedule, ...]
    payers: tuple[PayerPeriod, ...]
    address: PostalAddress | None = None
    address_recorded_at: datetime | None = None
    address_recorded_by: str | None = None

    def payer_on(self, day: date) -> Payer | None:
        """Who pays on `day`: the latest assignment from that day or before (None before the first)."""
        current = None
        for period in sorted(self.payers, key=lambda p: p.valid_from):
            if period.valid_from <= day:
                current = period.payer
        return current

    def schedule_on(self, day: date) -> Schedule | None:
        return next((s for s in self.schedules if s.valid_from <= day and (s.valid_to is None or day <= s.valid_to)), None)

    @property
    def starts_on(self) -> date:
        return min(s.valid_from for s in self.schedules)

    def due_dates(self, start: date, end: date) -> list[tuple[date, Money, Payer | None]]:
        """Every due date between `start` and `end` with its amount and who pays it then."""
        return sorted(
            (day, schedule.amount, self.payer_on(day))
            for schedule in self.schedules
            for day in schedule.due_dates(start, end)
        )


@lru_cache(maxsize=8192)
def _due_dates(frequency: Frequency, day: int | None, valid_from: date, valid_to: date | None, start: date, end: date
               ) -> tuple[date, ...]:
    """Cached: a payment run asks this for every creditor of every household, and most schedules share
    their rhythm and dates."""
    first = max(start, valid_from)
    last = min(end, valid_to) if valid_to else end
    if first > last:
        return ()
    if frequency is Frequency.ONCE:
        return (valid_from,) if first <= valid_from <= last else ()
    assert day is not None
    if frequency is Frequency.WEEKLY:
        rule = rrule(WEEKLY, byweekday=day - 1, dtstart=first, until=last)
    else:
        # Day 31 in a 30-day month is the 30th: ask for the last of days min(N,28)..N in each month.
        days = list(range(min(day, 28), day + 1))
        interval = 3 if frequency is Frequency.QUARTERLY else 1
        rule = rrule(MONTHLY, interval=interval, bymonthday=days, bysetpos=-1, dtstart=valid_from.replace(day=1),
                     until=last)
    return tuple(d.date() for d in rule if d.date() >= first)


def first_overlap(existing: Iterable[Schedule], valid_from: date, valid_to: date | None) -> Schedule | None:
    return next((s for s in existing if s.overlaps(valid_from, valid_to)), None)


def refuse_overlap(existing: Sequence[Schedule], schedule: ScheduleInput, *, ignore_id: int | None = None) -> None:
    clash = first_overlap((s for s in existing if s.id != ignore_id), schedule.valid_from, schedule.valid_to)
    if clash is not None:
        until = clash.valid_to.isoformat() if clash.valid_to else "open-ended"
        raise InvalidInputError(
            "schedule.valid_from",
            f"overlaps schedule {clash.id} of this creditor ({clash.valid_from.isoformat()} to {until}): "
            "end that one first",
        )


class CreditorService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def add(self, household_id: int, data: NewCreditor | Mapping[str, Any], actor: str) -> Creditor:
        new = validated(NewCreditor, data)

        def work(uow: UnitOfWork) -> Creditor:
            household = require_household(uow, household_id)
            if new.payer is Payer.LEDGER and not household.eligibility.needs_ledger:
                raise InvalidInputError(
                    "payer", "this household is not ontzorgd technically: its creditors are paid by the client"
                )
            now = self._clock()
            creditor_id = uow.registry.insert_creditor(household_id, new, parse_iban(new.iban).bic, actor, now)
            uow.registry.insert_schedule(creditor_id, new.schedule, now)
            uow.registry.insert_payer(creditor_id, new.payer, new.schedule.valid_from, None, actor, now)
            return uow.registry.creditor(creditor_id)

        return self._tx.run(work)

    def add_schedule(self, creditor_id: int, data: ScheduleInput | Mapping[str, Any], actor: str) -> Creditor:
        """A further period (a new amount from a date): it may not overlap the creditor's other schedules."""
        schedule = validated(ScheduleInput, data)

        def work(uow: UnitOfWork) -> Creditor:
            creditor = require_creditor(uow, creditor_id)
            refuse_overlap(creditor.schedules, schedule)
            uow.registry.insert_schedule(creditor_id, schedule, self._clock())
            return uow.registry.creditor(creditor_id)

        return self._tx.run(work)

    def change_schedule(self, creditor_id: int, schedule_id: int, data: ScheduleInput | Mapping[str, Any],
                        actor: str) -> Creditor:
        """Correct a schedule (a polis that starts later, S9). Toeslagen waiting on this creditor move along."""
        schedule = validated(ScheduleInput, data)

        def work(uow: UnitOfWork) -> Creditor:
            creditor = require_creditor(uow, creditor_id)
            if all(s.id != schedule_id for s in creditor.schedules):
                raise NotFoundError(f"creditor {creditor_id} has no schedule {schedule_id}", field="schedule_id")
            refuse_overlap(creditor.schedules, schedule, ignore_id=schedule_id)
            uow.registry.update_schedule(schedule_id, schedule)
            changed = uow.registry.creditor(creditor_id)
            household = uow.registry.household(changed.household_id)
            settings = uow.registry.gemeente(household.gemeente_id).settings
            reschedule_dependents(uow, creditor_id, changed.starts_on, settings, self._clock())
            return changed

        return self._tx.run(work)

    def assign_payer(self, creditor_id: int, data: AssignPayer | Mapping[str, Any], actor: str) -> Creditor:
        """From `valid_from` on, this payer pays (an afbouw moves a creditor to the client's incasso)."""
        command = validated(AssignPayer, data)

        def work(uow: UnitOfWork) -> Creditor:
            creditor = require_creditor(uow, creditor_id)
            if any(p.valid_from == command.valid_from for p in creditor.payers):
                raise InvalidInputError("valid_from", "another payer is already recorded from that day")
            if command.valid_from < min(p.valid_from for p in creditor.payers):
                raise InvalidInputError("valid_from", "lies before the creditor's first payer")
            uow.registry.insert_payer(creditor_id, command.payer, command.valid_from, command.reason, actor, self._clock())
            return uow.registry.creditor(creditor_id)

        return self._tx.run(work)

    def set_address(self, creditor_id: int, data: PostalAddressInput | Mapping[str, Any] | None,
                    actor: str) -> Creditor:
        """Record the creditor's postal address from now on (None: none known). Instructions already made keep
        the address they were made with."""
        address = None if data is None else validated(PostalAddressInput, data).to_address()

        def work(uow: UnitOfWork) -> Creditor:
            require_creditor(uow, creditor_id)
            uow.registry.update_creditor_address(creditor_id, address, actor, self._clock())
            return uow.registry.creditor(creditor_id)

        return self._tx.run(work)

    def get(self, creditor_id: int) -> Creditor:
        return self._tx.run(lambda uow: require_creditor(uow, creditor_id), write=False)

    def of_household(self, household_id: int) -> list[Creditor]:
        return read_for_household(self._tx, household_id, lambda uow: uow.registry.creditors_of(household_id))


def require_creditor(uow: UnitOfWork, creditor_id: int) -> Creditor:
    creditor = uow.registry.creditor(creditor_id)
    if creditor is None:
        raise NotFoundError(f"there is no creditor {creditor_id}", field="creditor_id")
    return creditor
