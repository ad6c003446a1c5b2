"""The bank side of the daily warnings scan (budget_ledger/warnings.py's extension point).

Two conditions about the organisation as a whole, found again each day so the scan resolves them when
they are gone:

- `bankregel-niet-toegewezen`: a bank line still in the work queue `unmatched_warning_days` after its
  booking date (one warning per line, resolved when it is assigned);
- `bank-verschil`: the latest statement of the derdengeldenrekening does not reconcile with the ledger
  (raised at the import already; resolved when a later statement reconciles).

Returns, payments executed after rejection and creditor refunds are raised by the import itself and stay
until a budgetbeheerder resolves them: no scan can tell when they have been dealt with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from budget_ledger.bank_lines import LineStatus
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.plan import Severity
from budget_ledger.transactions import Transactions
from budget_ledger.warnings import Found, NewWarning, WarningRole, WarningType


class BankWarnings:
    types = (WarningType.BANKREGEL_NIET_TOEGEWEZEN, WarningType.BANK_VERSCHIL)
    organisation_wide = True

    def __init__(self, transactions: Transactions, organisation_iban: str, unmatched_after_days: int = 3) -> None:
        self._tx = transactions
        self._iban = organisation_iban
        self._days = unmatched_after_days

    def find(self, day: date, household_ids: Sequence[int] | None) -> Found:
        def work(uow: UnitOfWork) -> Found:
            found = Found(judged={None})
            cutoff = day - timedelta(days=self._days)
            for line in uow.bank.lines(status=LineStatus.UNMATCHED.value, booked_before=cutoff + timedelta(days=1)):
                direction = "ontvangen" if not line.amount.is_negative else "afgeschreven"
                found.warnings.append(NewWarning(
                    WarningType.BANKREGEL_NIET_TOEGEWEZEN, None, f"bankregel-{line.id}",
                    line.booking_date + timedelta(days=self._days),
                    Severity.CRITICAL if (day - line.booking_date).days > 3 * max(self._days, 1) else Severity.WARNING,
                    WarningRole.BUDGETBEHEERDER,
                    f"{abs(line.amount).format_nl()} {direction} op {line.booking_date:%d-%m-%Y} van "
                    f"{line.counterparty_name or line.counterparty_iban or 'onbekend'} ({line.remittance or 'geen omschrijving'}) "
                    f"staat nog in de werkvoorraad: {line.match_reason}.",
                    {"line_id": line.id, "amount": str(line.amount), "booking_date": line.booking_date.isoformat()}))
            latest = uow.bank.latest_import(self._iban)
            if latest is not None and latest.closing_difference:
                assert latest.closing is not None and latest.ledger_closing is not None
                on = latest.closing_date or latest.imported_at.date()
                found.warnings.append(NewWarning(
                    WarningType.BANK_VERSCHIL, None, f"{latest.account_iban}:{latest.statement_id}", on,
                    Severity.CRITICAL, WarningRole.BUDGETBEHEERDER,
                    f"Het laatste afschrift ({latest.statement_id}) sluit op {latest.closing.format_nl()}, het grootboek "
                    f"op {latest.ledger_closing.format_nl()} (verschil {latest.closing_difference.format_nl()}).",
                    {"statement_id": latest.statement_id, "import_id": latest.id,
                     "bank": str(latest.closing), "ledger": str(latest.ledger_closing)}))
            return found

        return self._tx.run(work, write=False)
