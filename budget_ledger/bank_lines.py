"""Bank lines as stored: what the bank said, how the line was matched, and to whom the money went.

A line is one payment from a statement: an entry, or one transaction of a batch entry. Its `line_key`
identifies it across files (the bank's reference, else a digest of what the bank said), so importing a
statement twice, or an overlapping one, stores and books each line once. A line is matched when it is
imported (with the kind of match and the reason in words, for the auditor), or waits as `unmatched` in the
work queue until a budgetbeheerder assigns it, possibly split over several households or payments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from budget_ledger.ledger.money import Money


class LineStatus(StrEnum):
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    """In the work queue: booked on org:bank:ongematcht until a budgetbeheerder assigns it."""
    ASSIGNED = "assigned"
    SKIPPED = "skipped"
    """Not money that moved: a pending or informational entry. Stored so the report can say so."""


class MatchKind(StrEnum):
    OWN_PAYMENT = "eigen-betaling"
    """(a) one of our payment instructions, by its EndToEndId: the bank executed it."""
    OWN_BATCH = "eigen-batch"
    """(a) a batch of ours reported as one amount without details, by its PmtInfId."""
    RETURN = "terugboeking"
    """(b) a payment of ours returned or rejected by the bank (a return reason code)."""
    EXPECTED_INCOME = "verwacht-inkomen"
    """(c) income by payer IBAN, amount within the tolerance and date within the window."""
    REFERENCE = "betalingskenmerk"
    """(d) the household's own betalingskenmerk as structured reference."""
    CREDITOR_REFUND = "terugbetaling-crediteur"
    """(c) money back from a creditor of the household (S7: a double payment refunded)."""
    CLIENT_TRANSFER = "overboeking-klant"
    """(c) money from the client's own account (S8: a toeslag that landed there, passed on)."""
    GEMEENTE_INLEG = "inleg-gemeente"
    """(c) the gemeente's transfer of what it put in by the rules (a gift, a toeslag voorschot): from the IBAN
    the household's bijstand comes from, with its kenmerk, for what is still to be received of it."""
    ASSIGNED = "toegewezen"
    """(e) assigned by a budgetbeheerder from the work queue."""


@dataclass(frozen=True, slots=True)
class NewBankLine:
    line_key: str
    entry_index: int
    transaction_index: int
    booking_date: date
    value_date: date | None
    amount: Money
    """Signed, as the organisation sees it: money in is positive."""
    bank_reference: str | None
    end_to_end_id: str | None
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    structured_reference: str | None
    return_reason: str | None
    bank_transaction_code: str | None
    status: LineStatus
    match_kind: MatchKind | None
    match_reason: str
    household_id: int | None = None
    instruction_id: int | None = None
    expected_income_id: int | None = None
    entry_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BankLine(NewBankLine):
    id: int = 0
    import_id: int = 0
    account_iban: str = ""
    assigned_by: str | None = None
    assigned_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "import_id": self.import_id, "account_iban": self.account_iban,
            "booking_date": self.booking_date.isoformat(),
            "value_date": self.value_date.isoformat() if self.value_date else None,
            "amount": str(self.amount), "bank_reference": self.bank_reference, "end_to_end_id": self.end_to_end_id,
            "counterparty_name": self.counterparty_name, "counterparty_iban": self.counterparty_iban,
            "remittance": self.remittance, "structured_reference": self.structured_reference,
            "return_reason": self.return_reason, "status": self.status.value,
            "match_kind": self.match_kind.value if self.match_kind else None, "match_reason": self.match_reason,
            "household_id": self.household_id, "instruction_id": self.instruction_id,
            "expected_income_id": self.expected_income_id, "entry_id": self.entry_id, "details": dict(self.details),
            "assigned_by": self.assigned_by,
            "assigned_at": self.assigned_at.isoformat() if self.assigned_at else None,
        }


@dataclass(frozen=True, slots=True)
class StatementImport:
    """One statement as imported (a file with two statements is two imports), with its reconciliation."""

    id: int
    file_sha256: str
    message_id: str
    version: str
    statement_id: str
    account_iban: str
    electronic_sequence: int | None
    from_date: date | None
    to_date: date | None
    opening: Money | None
    opening_date: date | None
    closing: Money | None
    closing_date: date | None
    ledger_opening: Money | None
    ledger_closing: Money | None
    lines_total: int
    lines_new: int
    lines_known: int
    report: Mapping[str, Any]
    imported_by: str
    imported_at: datetime

    @property
    def opening_difference(self) -> Money | None:
        """Statement minus ledger; None when the statement gave no opening balance."""
        if self.opening is None or self.ledger_opening is None:
            return None
        return self.opening - self.ledger_opening

    @property
    def closing_difference(self) -> Money | None:
        if self.closing is None or self.ledger_closing is None:
            return None
        return self.closing - self.ledger_closing


@dataclass(frozen=True, slots=True)
class LineAssignment:
    id: int
    line_id: int
    household_id: int | None
    instruction_id: int | None
    income_source: str | None
    amount: Money
    entry_id: int
    note: str
    assigned_by: str
    assigned_at: datetime
