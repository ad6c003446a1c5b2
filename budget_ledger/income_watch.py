"""Expected income that has not arrived: the daily check behind "toeslag niet ontvangen" (S8, A10).

Roermond's pain point is the gap between a toeslag arriving and anyone noticing it did not (001:L1891).
Every expected payment due before today is compared with what the book received from that source: the
payments are filled in due-date order by the money received, and the first one not filled is late from
the first business day after its due date (S8: a zorgtoeslag due on 20-05 is reported on 21-05).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from budget_ledger.expected_income import ExpectedIncome, ExpectedPayment, expected_payments
from budget_ledger.ledger.entries import PostedEntry
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import DEFAULT_CALENDAR, PaymentCalendar
from budget_ledger.planning import current_trajectory, income_receipts
from budget_ledger.ports import UnitOfWork
from budget_ledger.transactions import Transactions


@dataclass(frozen=True, slots=True)
class LateIncome:
    household_id: int
    source: str
    due_on: date
    expected: Money
    missing: Money
    business_days_late: int

    @property
    def message(self) -> str:
        return (f"{self.source.capitalize()} van {self.expected.format_nl()}, verwacht op {self.due_on:%d-%m-%Y}, "
                f"is niet ontvangen ({self.missing.format_nl()} ontbreekt).")


def received_by_source(uow: UnitOfWork, household_id: int, as_of: date) -> dict[str, Money]:
    return received_in(uow.ledger.iter_entries(household_id=household_id, date_to=as_of), household_id)


def received_in(entries: Iterable[PostedEntry], household_id: int) -> dict[str, Money]:
    """The income the household received in `entries`, per source (a caller that read the book already)."""
    received: dict[str, Money] = defaultdict(lambda: Money(0))
    for entry in entries:
        for receipt in income_receipts(entry, household_id):
            received[receipt.source] = received[receipt.source] + receipt.amount
    return dict(received)


class IncomeWatchService:
    def __init__(self, transactions: Transactions, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> None:
        self._tx = transactions
        self._calendar = calendar

    def late(self, as_of: date, *, household_ids: list[int] | None = None) -> list[LateIncome]:
        """Every household's first late payment per source, as of `as_of` (households being ontzorgd)."""

        def work(uow: UnitOfWork) -> list[LateIncome]:
            found: list[LateIncome] = []
            for household in uow.registry.households(ids=household_ids):
                if current_trajectory(uow.registry.trajectories_of(household.id)) is None:
                    continue
                found += self._late_for(uow, household.id, as_of)
            return found

        return self._tx.run(work, write=False)

    def _late_for(self, uow: UnitOfWork, household_id: int, as_of: date) -> list[LateIncome]:
        late = []
        for _income, payment, missing in first_unfilled(uow, household_id, as_of, self._calendar):
            if self._calendar.next_business_day(date.fromordinal(payment.due_on.toordinal() + 1)) > as_of:
                continue  # not late yet: it may still arrive today
            days = self._calendar.business_days_between(payment.due_on, as_of)
            late.append(LateIncome(household_id, _income.source.value, payment.due_on, payment.amount, missing, days))
        return late


def first_unfilled(uow: UnitOfWork, household_id: int, as_of: date, calendar: PaymentCalendar = DEFAULT_CALENDAR
                   ) -> list[tuple[ExpectedIncome, ExpectedPayment, Money]]:
    """Per expectation, its first payment due by `as_of` that the money received has not filled, with what
    is missing of it. Payments are filled in due-date order; two expectations of one source (a changed
    bijstand) share its receipts, oldest first. The bank import asks this to tell which expected income a
    client's own transfer passes on (S8)."""
    received = received_by_source(uow, household_id, as_of)
    unfilled = []
    for income in uow.registry.expected_income_of(household_id):
        source = income.source.value
        left = received.get(source, Money(0))
        found = False
        for payment in expected_payments(income, as_of, calendar):
            if not left < payment.amount:
                left = left - payment.amount
                continue
            unfilled.append((income, payment, payment.amount - max(left, Money(0))))
            found = True
            break
        received[source] = Money(0) if found else left
    return unfilled
