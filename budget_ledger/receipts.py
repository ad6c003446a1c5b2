"""Money received at the bank for a household: income on its basisrekening, or the inrichtingskrediet the
gemeente pays out.

A bank line that is known to be for a household is booked as one entry with both sides of the chart
(budget_ledger/chart.py): the bank side `Dr org:bank:derdengelden / Cr org:clientgelden`, and the
household's side
    income:  Dr huishouden:N:basis                  / Cr huishouden:N:inkomen:<bron>
    krediet: Dr huishouden:N:reservering:inrichting / Cr huishouden:N:krediet:inrichting
so the client money on the household's accounts always equals what the organisation owes its clients.
Income booked this way is what planning counts as received (`planning.income_receipts`): it is split over
the months it covers when the rules engine plans the next payment run.

The idempotency key is `bank:<bank reference>`, the bank's own reference for the line (AcctSvcrRef in a
CAMT.053 statement), so a statement read twice books nothing twice. The CAMT import
(`budget_ledger.statement_import`) builds each matched income line's entry with `income_request`, so a
line booked from a statement and a receipt booked here are the same entry. Every entry goes through the
one posting path (`budget_ledger.posting`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from budget_ledger.chart import BANK, CLIENT_MONEY, GEMEENTE_RECEIVABLE, household_code
from budget_ledger.errors import ConflictError, InvalidInputError
from budget_ledger.expected_income import IncomeSource
from budget_ledger.households import require_household
from budget_ledger.inputs import Command, MoneyInput, validated
from budget_ledger.ledger.entries import EntryRequest, EntrySource, PostedEntry, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.ports import UnitOfWork
from budget_ledger.posting import BulkResult, post_in, post_one_in
from budget_ledger.transactions import Transactions

KEY_PREFIX = "bank"
KREDIET = "inrichtingskrediet"


class ReceiptPurpose(StrEnum):
    INKOMEN = "inkomen"
    """Income for the basisrekening: bijstand, a toeslag, kinderbijslag, wages…"""
    INRICHTINGSKREDIET = KREDIET
    """The inrichtingskrediet (leenbijstand) the gemeente pays out: held apart, earmarked for the home."""
    INLEG_GEMEENTE = "inleg-gemeente"
    """The gemeente's transfer of what it put in by the rules (a gift, a toeslag voorschot): the household
    had it when the payment run booked it; the transfer brings it to the bank (org:gemeente:te-ontvangen)."""


class Receipt(Command):
    """One bank line for one household."""

    household_id: int = Field(ge=1)
    purpose: ReceiptPurpose = ReceiptPurpose.INKOMEN
    source: IncomeSource | None = Field(default=None, description="for income: where it comes from")
    amount: MoneyInput
    booked_on: date = Field(description="the statement's booking date")
    value_date: date | None = None
    bank_reference: str = Field(min_length=1, max_length=120, pattern=r"^\S+$",
                                description="the bank's unique reference of the line (AcctSvcrRef)")
    description: str = Field(default="", max_length=140, description="the remittance text, as the statement gives it")

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.cents <= 0:
            raise ValueError("money received is above zero")
        return value

    @model_validator(mode="after")
    def _source(self) -> Receipt:
        if self.purpose is ReceiptPurpose.INKOMEN and self.source is None:
            raise ValueError("income needs its source (bijstand, zorgtoeslag, …)")
        if self.purpose is ReceiptPurpose.INRICHTINGSKREDIET and self.source is not None:
            raise ValueError("an inrichtingskrediet is not income of a source")
        if self.purpose is ReceiptPurpose.INLEG_GEMEENTE and self.source is not None:
            raise ValueError("the gemeente's inleg was booked as the household's when it was put in: it has no source")
        return self

    @property
    def idempotency_key(self) -> str:
        return f"{KEY_PREFIX}:{self.bank_reference}"


_LABELS = {
    "bijstand": "Bijstand", "bijstand-voorschot": "Voorschot bijstand", "zorgtoeslag": "Zorgtoeslag",
    "huurtoeslag": "Huurtoeslag", "kindgebonden-budget": "Kindgebonden budget", "kinderbijslag": "Kinderbijslag",
    "loon": "Loon", "vakantiegeld": "Vakantiegeld", "gift": "Gift", "overig": "Overige inkomsten",
}


def receipt_request(receipt: Receipt, actor: str) -> EntryRequest:
    """The journal entry for a receipt (pure: the service checks the household before posting it)."""
    h, money = receipt.household_id, receipt.amount
    metadata = {"bank_reference": receipt.bank_reference, "purpose": receipt.purpose.value}
    if receipt.purpose is ReceiptPurpose.INRICHTINGSKREDIET:
        return krediet_request(h, money, receipt.booked_on, receipt.value_date, receipt.idempotency_key,
                               receipt.description, actor, metadata)
    if receipt.purpose is ReceiptPurpose.INLEG_GEMEENTE:
        return inleg_request(h, money, receipt.booked_on, receipt.value_date, receipt.idempotency_key,
                             receipt.description, actor, metadata)
    assert receipt.source is not None
    return income_request(h, receipt.source, money, receipt.booked_on, receipt.value_date,
                          receipt.idempotency_key, receipt.description, actor, metadata)


def krediet_request(household_id: int, amount: Money, booked_on: date, value_date: date | None, key: str,
                    description: str, actor: str, metadata: Mapping[str, str], *, from_account: str = BANK
                    ) -> EntryRequest:
    """The inrichtingskrediet the gemeente pays out: held apart on the household's reservering for the home
    against the loan (`Dr reservering:inrichting / Cr krediet:inrichting`), with the bank side
    `Dr <from_account> / Cr org:clientgelden`. Never income: it is leenbijstand, to be repaid."""
    label = "Inrichtingskrediet verstrekt (leenbijstand)"
    return EntryRequest(
        idempotency_key=key, booking_date=booked_on, value_date=value_date,
        postings=(Posting(household_code(household_id, "reservering", "inrichting"), amount),
                  Posting(household_code(household_id, "krediet", "inrichting"), -amount),
                  Posting(from_account, amount), Posting(CLIENT_MONEY, -amount)),
        reason=f"{label}: {description}" if description else label, actor=actor,
        source=EntrySource.BANK_IMPORT, household_id=household_id, metadata={**metadata, "purpose": KREDIET})


def inleg_request(household_id: int, amount: Money, booked_on: date, value_date: date | None, key: str,
                  description: str, actor: str, metadata: Mapping[str, str], *, from_account: str = BANK
                  ) -> EntryRequest:
    """The gemeente's transfer of money it put in by the rules: the bank side only (`Dr <from_account> / Cr
    org:gemeente:te-ontvangen`), because the household's side was booked when the payment run put it in."""
    label = "Inleg van de gemeente ontvangen"
    return EntryRequest(
        idempotency_key=key, booking_date=booked_on, value_date=value_date,
        postings=(Posting(from_account, amount), Posting(GEMEENTE_RECEIVABLE, -amount)),
        reason=f"{label}: {description}" if description else label, actor=actor,
        source=EntrySource.BANK_IMPORT, household_id=household_id,
        metadata={**metadata, "purpose": ReceiptPurpose.INLEG_GEMEENTE.value})


def still_to_receive(uow: UnitOfWork, household_id: int) -> Money:
    """What the household's gemeente put in by the rules and has not transferred yet."""
    return Money.sum(uow.ledger.amounts_by_household(GEMEENTE_RECEIVABLE, household_id).get(household_id, ()))


def require_inleg(uow: UnitOfWork, household_id: int, amount: Money, field: str) -> None:
    """Refuse to take more as the gemeente's inleg than the household still has to receive of it."""
    open_ = still_to_receive(uow, household_id)
    if amount > open_:
        raise InvalidInputError(field, f"household {household_id} has {open_.format_nl()} still to receive from its "
                                f"gemeente, less than {amount.format_nl()}")


def income_request(household_id: int, source: IncomeSource, amount: Money, booked_on: date, value_date: date | None,
                   key: str, description: str, actor: str, metadata: Mapping[str, str],
                   *, from_account: str = BANK) -> EntryRequest:
    """Income for a household's basisrekening: `Dr basis / Cr inkomen:<source>` with the bank side
    `Dr <from_account> / Cr org:clientgelden` (the bank account, or org:bank:ongematcht when a line from the
    work queue is assigned). The one shape of income, for receipts and for the bank statement import."""
    label = f"{_LABELS[source.value]} ontvangen"
    return EntryRequest(
        idempotency_key=key,
        booking_date=booked_on,
        value_date=value_date,
        postings=(Posting(household_code(household_id, "basis"), amount),
                  Posting(household_code(household_id, "inkomen", source.value), -amount),
                  Posting(from_account, amount), Posting(CLIENT_MONEY, -amount)),
        reason=f"{label}: {description}" if description else label,
        actor=actor,
        source=EntrySource.BANK_IMPORT,
        household_id=household_id,
        metadata={**metadata, "income_source": source.value},
    )


def _checked(uow: UnitOfWork, receipts: Sequence[Receipt], actor: str) -> list[EntryRequest]:
    for household_id in sorted({r.household_id for r in receipts}):
        household = require_household(uow, household_id)
        if not household.eligibility.needs_ledger:
            raise ConflictError(f"household {household_id} has no basisrekening (not ontzorgd technically): money "
                                "for it is not booked here", field="household_id")
    inleg: dict[int, Money] = defaultdict(Money.zero)
    for receipt in receipts:
        if receipt.purpose is ReceiptPurpose.INLEG_GEMEENTE:
            inleg[receipt.household_id] += receipt.amount
    for household_id, amount in sorted(inleg.items()):
        require_inleg(uow, household_id, amount, "amount")
    return [receipt_request(r, actor) for r in receipts]


class ReceiptService:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def receive(self, data: Receipt | Mapping[str, Any], actor: str) -> PostedEntry:
        """Book one bank line; the same bank reference again is a replay and books nothing."""
        receipt = validated(Receipt, data)
        return self._tx.run(lambda uow: post_one_in(uow.ledger, _checked(uow, [receipt], actor)[0]))

    def still_to_receive(self) -> dict[int, Money]:
        """Per household, what its gemeente put in by the rules (a gift, a toeslag voorschot) and has not
        transferred yet: the open part of org:gemeente:te-ontvangen."""
        def work(uow: UnitOfWork) -> dict[int, Money]:
            amounts = uow.ledger.amounts_by_household(GEMEENTE_RECEIVABLE)
            return {h: total for h, total in ((h, Money.sum(a)) for h, a in sorted(amounts.items())) if total}

        return self._tx.run(work, write=False)

    def receive_many(self, data: Sequence[Receipt | Mapping[str, Any]], actor: str) -> BulkResult:
        """Book the lines of one statement in one transaction: all of them, or none when one is refused."""
        receipts = [validated(Receipt, item) for item in data]
        if not receipts:
            return BulkResult()
        return self._tx.run(lambda uow: post_in(uow.ledger, _checked(uow, receipts, actor)))
