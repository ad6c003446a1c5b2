"""The gemeente's inleg that has not arrived: a source of the daily warnings scan (budget_ledger/warnings.py).

When the rules have the gemeente put money in (an eerste huur gift, a toeslag voorschot), the payment run
books it on `org:gemeente:te-ontvangen`: the household may spend it as planned, and the bank account stays
what the bank says until the gemeente's transfer is on the statement (`inleg-gemeente`). Until then the
organisation has paid out client money it has not received. An auditor asks how long that lasts, and a
budgetbeheerder must chase the gemeente when it lasts too long, so the scan raises one warning per put-in
still open `inleg_warning_days` (a gemeente setting, 10 by default) after its booking day, critical after
three times that, and resolves it when the transfer has been matched.

Which put-in a transfer pays is decided oldest first: the gemeente transfers in the order it put in, and a
transfer matched to a household is not tied to one put-in (`bank_matching`, `require_inleg` only checks it
is not more than is open). A put-in that was reversed (its run cancelled) is left out with its reversal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from budget_ledger.chart import GEMEENTE_RECEIVABLE
from budget_ledger.identifiers import household_reference
from budget_ledger.ledger.money import Money
from budget_ledger.ports import AccountLine, UnitOfWork
from budget_ledger.rules.plan import Severity
from budget_ledger.rules.texts import day_text
from budget_ledger.transactions import Transactions
from budget_ledger.warnings import Found, NewWarning, WarningRole, WarningType

CRITICAL_AFTER = 3
"""Times the gemeente's `inleg_warning_days` after which a transfer still missing is critical."""


@dataclass(frozen=True, slots=True)
class OpenInleg:
    """A put-in with the part of it the gemeente has not transferred yet."""

    line: AccountLine
    open: Money


def open_inleg(lines: Sequence[AccountLine]) -> list[OpenInleg]:
    """The put-ins (debits on the receivable) not covered by the transfers (credits), oldest paid first."""
    reversed_ids = {line.reverses_entry_id for line in lines if line.reverses_entry_id is not None}
    standing = [line for line in lines if line.reverses_entry_id is None and line.entry_id not in reversed_ids]
    received = -Money.sum(line.amount for line in standing if line.amount.is_negative)
    found = []
    for line in standing:
        if line.amount.is_negative or not line.amount.cents:
            continue
        covered = min(received, line.amount)
        received = received - covered
        if covered < line.amount:
            found.append(OpenInleg(line, line.amount - covered))
    return found


class InlegWarnings:
    types = (WarningType.INLEG_NIET_ONTVANGEN,)
    organisation_wide = False

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def find(self, day: date, household_ids: Sequence[int] | None) -> Found:
        def work(uow: UnitOfWork) -> Found:
            households = uow.registry.households(ids=list(household_ids or []))
            gemeenten = {g.id: g for g in uow.registry.gemeenten()}
            lines = uow.ledger.lines_by_household(GEMEENTE_RECEIVABLE, [h.id for h in households])
            found = Found(judged={h.id for h in households})
            for household in households:
                gemeente = gemeenten[household.gemeente_id]
                days = gemeente.settings.inleg_warning_days
                for item in open_inleg(lines.get(household.id, ())):
                    line = item.line
                    due = line.booking_date + timedelta(days=days)
                    if day < due:
                        continue
                    part = "" if item.open == line.amount else f" (van {line.amount.format_nl()})"
                    found.warnings.append(NewWarning(
                        WarningType.INLEG_NIET_ONTVANGEN, household.id, f"inleg:{line.entry_id}", due,
                        Severity.CRITICAL if (day - line.booking_date).days > CRITICAL_AFTER * days
                        else Severity.WARNING,
                        WarningRole.BUDGETBEHEERDER,
                        f"Gemeente {gemeente.name} heeft {item.open.format_nl()}{part} nog niet overgemaakt van wat "
                        f"zij op {day_text(line.booking_date)} inlegde: {line.reason}. Het huishouden heeft het al "
                        f"kunnen besteden; vraag de overboeking na bij de gemeente, met kenmerk "
                        f"{household_reference(household.id)}.",
                        {"entry_id": line.entry_id, "booked_on": line.booking_date.isoformat(),
                         "amount": str(line.amount), "open": str(item.open), "days": days}))
            return found

        return self._tx.run(work, write=False)
