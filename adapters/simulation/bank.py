"""The bank's side of the simulated world: what arrives on the derdengeldenrekening, on which day.

Income arrives as its payer pays it, computed with the same payment calendar and rhythm the expectations
use (budget_ledger.expected_income.expected_payments): bijstand in arrears on the gemeente's day (the first
business day of the next month), wages on the 25th, kinderbijslag after the quarter, toeslagen on the 20th
for the next month. Only the toeslagen differ from what the budgetbeheerder expects: Dienst Toeslagen pays
the first one `actual_lag_weeks` (8–13) after the conditions were met instead of the estimated 8, as one sum
with the back-payment for every month missed (domain.md B1). The inrichtingskrediet arrives from the
gemeente on the first business day from the housing date.

Money stops arriving here when a trajectory has ended: from then on the payers pay the client's own account.
Every line is booked through `budget_ledger.receipts.ReceiptService` (the path the CAMT import will take),
with a bank reference that makes a replayed day book nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from budget_ledger.adapters.simulation.intake import Registered
from budget_ledger.expected_income import TOESLAGEN, estimate_first_toeslag, expected_payments
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import DEFAULT_CALENDAR, PaymentCalendar
from budget_ledger.receipts import Receipt, ReceiptPurpose
from budget_ledger.rules.texts import MONTHS, month_name

BANK_ACTOR = "sim.bank"
_NAMES = {"bijstand": "Uitkering Participatiewet", "zorgtoeslag": "Zorgtoeslag", "huurtoeslag": "Huurtoeslag",
          "kindgebonden-budget": "Kindgebonden budget", "kinderbijslag": "Kinderbijslag", "loon": "Salaris"}


@dataclass(frozen=True)
class BankLine:
    day: date
    household_id: int
    source: str | None
    """The income source; None for the inrichtingskrediet."""
    amount: Money
    covers: tuple[date, ...]
    """First days of the months the money is for."""
    description: str
    reference: str
    expected_on: date | None = None
    """For a first toeslag payment: the day the budgetbeheerder expected it (the gemeente's estimate)."""

    @property
    def is_back_payment(self) -> bool:
        """A toeslag paid late as one sum for months already begun (B1), not one month's voorschot."""
        return self.source in TOESLAGEN and len(self.covers) > 1

    def receipt(self) -> Receipt:
        if self.source is None:
            return Receipt(household_id=self.household_id, purpose=ReceiptPurpose.INRICHTINGSKREDIET,
                           amount=self.amount, booked_on=self.day, bank_reference=self.reference,
                           description=self.description)
        return Receipt(household_id=self.household_id, source=self.source, amount=self.amount, booked_on=self.day,
                       bank_reference=self.reference, description=self.description)


def _describe(source: str, covers: tuple[date, ...]) -> str:
    name = _NAMES.get(source, source)
    if source == "kinderbijslag":
        first = covers[0]
        return f"{name} {(first.month - 1) // 3 + 1}e kwartaal {first.year}"
    if len(covers) == 1:
        return f"{name} {month_name(covers[0])}"
    first, last = covers[0], covers[-1]
    span = f"{MONTHS[first.month - 1]} t/m {month_name(last)}" if first.year == last.year \
        else f"{month_name(first)} t/m {month_name(last)}"
    return f"{name} {span} (eerste betaling met nabetaling)"


def income_lines(seed: int, registered: Registered, until: date,
                 calendar: PaymentCalendar = DEFAULT_CALENDAR) -> list[BankLine]:
    """Every income payment for the household up to `until`, as the payers really make them."""
    lines = []
    for case_income, expected in registered.incomes:
        actual, expected_first = expected, None
        if case_income.actual_lag_weeks is not None:
            anchor = expected.conditions_met_on or expected.entitlement_from
            first = estimate_first_toeslag(anchor, case_income.actual_lag_weeks, calendar)
            actual, expected_first = replace(expected, first_expected_on=first, first_expected_latest=first), \
                expected.first_expected_on
        for n, payment in enumerate(expected_payments(actual, until, calendar)):
            covers = tuple(month for month, _ in payment.covers)
            source = expected.source.value
            lines.append(BankLine(
                day=payment.due_on, household_id=registered.household_id, source=source, amount=payment.amount,
                covers=covers, description=_describe(source, covers),
                reference=f"SIM{seed}-H{registered.household_id}-I{expected.id}-{n + 1}-{payment.due_on:%Y%m%d}",
                expected_on=expected_first if n == 0 else None,
            ))
    return lines


def krediet_line(seed: int, registered: Registered, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> BankLine | None:
    case = registered.case
    if case.krediet is None:
        return None
    day = calendar.next_business_day(case.housing_date)
    return BankLine(day, registered.household_id, None, case.krediet, (case.housing_date.replace(day=1),),
                    f"Inrichtingskrediet gemeente {case.gemeente}", f"SIM{seed}-H{registered.household_id}-KREDIET")


class Bank:
    """The lines still to arrive, by day; what arrived is kept for the summary."""

    def __init__(self, seed: int, until: date) -> None:
        self._seed = seed
        self._until = until
        self._pending: dict[date, list[BankLine]] = defaultdict(list)
        self.arrived: list[BankLine] = []
        self.not_booked: list[BankLine] = []
        """Lines for a household whose trajectory had ended: paid to the client's own account instead."""

    def open_account_for(self, registered: Registered, today: date) -> None:
        """Start expecting the household's money, from its intake (`today`) on."""
        if registered.trajectory_id is None:
            return  # an opt-out: the payers pay the client's own account
        krediet = krediet_line(self._seed, registered)
        for line in ([krediet] if krediet else []) + income_lines(self._seed, registered, self._until):
            if line.day >= today:
                self._pending[line.day].append(line)

    def lines_on(self, day: date, *, stopped: Callable[[int, date], bool] = lambda household, day: False
                 ) -> list[BankLine]:
        """Today's statement, oldest registration first: the lines for households still ontzorgd. A line for a
        household whose trajectory is over (`stopped`) goes to the client's own account and is not booked."""
        today = sorted(self._pending.pop(day, []), key=lambda line: (line.household_id, line.reference))
        booked = [line for line in today if not stopped(line.household_id, day)]
        self.not_booked += [line for line in today if stopped(line.household_id, day)]
        self.arrived += booked
        return booked

    def overdue(self, day: date) -> list[BankLine]:
        """Lines dated before `day` that were never delivered (a bank line on a non-business day)."""
        return [line for d, lines in self._pending.items() if d < day for line in lines]
