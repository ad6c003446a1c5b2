"""The work queue of bank lines nobody could match, and a budgetbeheerder's assignment of them.

An unmatched line was booked on org:bank:ongematcht when it was imported. Assigning it moves the money
from there to where it belongs, in one transaction, and the line leaves the queue (status `assigned`,
by whom and when; the database refuses any later change):

- money in, for households: split over one or more households, each part with its income source,
  booked `Dr org:bank:ongematcht / Cr org:clientgelden` and `Dr basis / Cr inkomen:<bron>`; or, for the
  inrichtingskrediet the gemeente pays out, `Dr reservering:inrichting / Cr krediet:inrichting` (a loan held
  apart for the home, never income);
- money in, one of our payments coming back without a recognisable EndToEndId: the payment is returned
  (`return_payment`: its entry reversed, its obligation free again);
- money out, our payments the bank reported without details: each instruction is executed
  (`Dr org:bank:onderweg / Cr org:bank:ongematcht`).

The parts must add up to the line's amount exactly: a line is assigned whole, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator

from budget_ledger.bank_lines import BankLine, LineAssignment, LineStatus
from budget_ledger.chart import IN_TRANSIT, UNMATCHED
from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.expected_income import IncomeSource
from budget_ledger.households import require_household
from budget_ledger.inputs import Command, MoneyInput, validated
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.payment_runs import InstructionStatus
from budget_ledger.ports import UnitOfWork
from budget_ledger.posting import post_in
from budget_ledger.receipts import (
    ReceiptPurpose,
    income_request,
    inleg_request,
    krediet_request,
    require_inleg,
)
from budget_ledger.statement_import import return_payment
from budget_ledger.transactions import Transactions

_CONFIRMABLE = (InstructionStatus.EXPORTED, InstructionStatus.APPROVED)


class AssignmentPart(Command):
    household_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="money in: the household it is for")
    instruction_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                       description="one of our payments it belongs to")
    amount: MoneyInput
    source: IncomeSource = Field(default=IncomeSource.OVERIG, description="money in for a household: its source")
    purpose: ReceiptPurpose = Field(default=ReceiptPurpose.INKOMEN, description=(
        "money in for a household: income for the basisrekening (inkomen, with its source), the "
        "inrichtingskrediet the gemeente pays out (held apart against the loan, no source), or the gemeente's "
        "transfer of what it put in by the rules (inleg-gemeente: a gift or toeslag voorschot the household "
        "already had; no source)"))

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.cents <= 0:
            raise ValueError("each part is above zero")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> AssignmentPart:
        if (self.household_id is None) == (self.instruction_id is None):
            raise ValueError("give either household_id or instruction_id")
        if self.purpose is ReceiptPurpose.INRICHTINGSKREDIET:
            if self.household_id is None:
                raise ValueError("an inrichtingskrediet is for a household (household_id)")
            if "source" in self.model_fields_set:
                raise ValueError("an inrichtingskrediet is a loan, not income: it has no source")
        if self.purpose is ReceiptPurpose.INLEG_GEMEENTE:
            if self.household_id is None:
                raise ValueError("the gemeente's inleg is for a household (household_id)")
            if "source" in self.model_fields_set:
                raise ValueError("the gemeente's inleg was the household's when it was put in: it has no source")
        return self


class AssignLine(Command):
    parts: list[AssignmentPart] = Field(min_length=1, max_length=100)
    note: str = Field(min_length=3, max_length=500, description="why the money goes where it goes")


class BankQueueService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def unmatched(self, *, booked_before: date | None = None, limit: int | None = None) -> list[BankLine]:
        """The work queue, oldest first."""
        return self._tx.run(lambda uow: uow.bank.lines(status=LineStatus.UNMATCHED.value, booked_before=booked_before,
                                                       limit=limit), write=False)

    def line(self, line_id: int) -> BankLine:
        return self._tx.run(lambda uow: _require_line(uow, line_id), write=False)

    def assignments(self, line_id: int) -> list[LineAssignment]:
        def work(uow: UnitOfWork) -> list[LineAssignment]:
            _require_line(uow, line_id)
            return uow.bank.assignments(line_id)

        return self._tx.run(work, write=False)

    def assign(self, line_id: int, data: AssignLine | Mapping[str, Any], actor: str) -> BankLine:
        command = validated(AssignLine, data)

        def work(uow: UnitOfWork) -> BankLine:
            line = _require_line(uow, line_id, lock=True)
            if line.status is not LineStatus.UNMATCHED:
                raise ConflictError(f"bank line {line_id} is {line.status.value}, not in the work queue",
                                    field="line_id")
            total = Money.sum(p.amount for p in command.parts)
            if total != abs(line.amount):
                raise InvalidInputError("parts", f"the parts add up to {total.format_nl()}, the bank line is "
                                        f"{abs(line.amount).format_nl()}: assign all of it")
            now = self._clock()
            booked = [self._part(uow, line, number, part, command.note, actor, now)
                      for number, part in enumerate(command.parts, start=1)]
            households = {p.household_id for p in command.parts if p.household_id is not None}
            instructions = {p.instruction_id for p in command.parts if p.instruction_id is not None}
            for part, entry_id in zip(command.parts, booked, strict=True):
                uow.bank.insert_assignment(
                    line_id, household_id=part.household_id, instruction_id=part.instruction_id,
                    income_source=_booked_as(part), amount=part.amount,
                    entry_id=entry_id, note=command.note, actor=actor, now=now)
            changed = uow.bank.update_line(
                line_id, [LineStatus.UNMATCHED.value], status=LineStatus.ASSIGNED.value, assigned_by=actor,
                assigned_at=now, household_id=households.pop() if len(households) == 1 else None,
                instruction_id=instructions.pop() if len(instructions) == 1 and not households else None)
            if not changed:
                raise ConflictError(f"bank line {line_id} changed while it was being assigned", field="line_id")
            return _require_line(uow, line_id)

        return self._tx.run(work)

    def _part(self, uow: UnitOfWork, line: BankLine, number: int, part: AssignmentPart, note: str, actor: str,
              now: Any) -> int:
        key = f"assign:{line.id}:{number}"
        field_name = f"parts[{number - 1}]"
        day = now.astimezone(AMSTERDAM).date()
        if part.household_id is not None:
            if line.amount.is_negative:
                raise InvalidInputError(f"{field_name}.household_id", "money out of the bank is assigned to our "
                                        "payments (instruction_id), not to a household")
            household = require_household(uow, part.household_id, field=f"{field_name}.household_id")
            if not household.eligibility.needs_ledger:
                raise InvalidInputError(f"{field_name}.household_id",
                                        f"household {part.household_id} has no basisrekening here")
            text = f"{line.counterparty_name or ''} {line.remittance}".strip()[:200]
            metadata = {"bank_line": str(line.id), "note": note[:200]}
            if part.purpose is ReceiptPurpose.INRICHTINGSKREDIET:
                request = krediet_request(part.household_id, part.amount, line.booking_date, line.value_date, key,
                                          text, actor, metadata, from_account=UNMATCHED)
            elif part.purpose is ReceiptPurpose.INLEG_GEMEENTE:
                require_inleg(uow, part.household_id, part.amount, f"{field_name}.amount")
                request = inleg_request(part.household_id, part.amount, line.booking_date, line.value_date, key,
                                        text, actor, metadata, from_account=UNMATCHED)
            else:
                request = income_request(part.household_id, part.source, part.amount, line.booking_date,
                                         line.value_date, key, text, actor, metadata, from_account=UNMATCHED)
            return post_in(uow.ledger, [request]).entry_ids[key]
        instruction = uow.payments.instruction(part.instruction_id, lock=True)  # type: ignore[arg-type]
        if instruction is None:
            raise NotFoundError(f"there is no payment instruction {part.instruction_id}",
                                field=f"{field_name}.instruction_id")
        if instruction.amount != part.amount:
            raise InvalidInputError(f"{field_name}.amount", f"payment {instruction.id} is "
                                    f"{instruction.amount.format_nl()}; a payment is assigned whole")
        if line.amount.is_negative:
            if instruction.status not in _CONFIRMABLE:
                raise ConflictError(f"payment {instruction.id} is {instruction.status.value}; only an exported "
                                    "payment can be confirmed by the bank", field=f"{field_name}.instruction_id")
            request = EntryRequest(
                idempotency_key=key, booking_date=line.booking_date, value_date=line.value_date,
                postings=(Posting(IN_TRANSIT, part.amount), Posting(UNMATCHED, -part.amount)),
                reason=f"Afgeschreven door de bank (toegewezen): betaling {instruction.id} aan {instruction.payee_name}",
                actor=actor, source=EntrySource.BANK_IMPORT, metadata={"bank_line": str(line.id)})
            entry_id = post_in(uow.ledger, [request]).entry_ids[key]
            uow.payments.update_instructions([instruction.id], [instruction.status.value],
                                             status=InstructionStatus.EXECUTED.value, executed_at=now)
            return entry_id
        if instruction.status is InstructionStatus.REJECTED:
            raise ConflictError(f"payment {instruction.id} was rejected already; its money is back on the "
                                "basisrekening", field=f"{field_name}.instruction_id")
        request = EntryRequest(
            idempotency_key=key, booking_date=line.booking_date, value_date=line.value_date,
            postings=(Posting(UNMATCHED, part.amount), Posting(IN_TRANSIT, -part.amount)),
            reason=f"Teruggeboekt door de bank (toegewezen): betaling {instruction.id} aan {instruction.payee_name}",
            actor=actor, source=EntrySource.BANK_IMPORT, metadata={"bank_line": str(line.id)})
        entry_id = post_in(uow.ledger, [request]).entry_ids[key]
        return_payment(uow, instruction.id, day, actor, f"toegewezen uit de werkvoorraad: {note}", now)
        return entry_id


def _booked_as(part: AssignmentPart) -> str | None:
    """What a household's part was booked as: its income source, or the inrichtingskrediet."""
    if part.household_id is None:
        return None
    if part.purpose is not ReceiptPurpose.INKOMEN:
        return part.purpose.value
    return part.source.value


def _require_line(uow: UnitOfWork, line_id: int, *, lock: bool = False) -> BankLine:
    line = uow.bank.line(line_id, lock=lock)
    if line is None:
        raise NotFoundError(f"there is no bank line {line_id}", field="line_id")
    return line
