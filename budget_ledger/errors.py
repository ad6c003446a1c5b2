"""Refusals of the service layer, beside the ledger's own (budget_ledger.ledger.errors).

All are `LedgerError`s, so the HTTP layer and the CLI treat every refusal alike: a message, the field it
is about, and a stable code. `InvalidInputError` carries one or more field problems, so a form with three
mistakes is answered with all three.
"""

from __future__ import annotations

from dataclasses import dataclass

from budget_ledger.ledger.errors import LedgerError


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    reason: str


class InvalidInputError(LedgerError):
    """Input that breaks a rule of the domain: an invalid IBAN, BSN or betalingskenmerk, an end before a start…"""

    code = "invalid-input"

    def __init__(self, field: str, reason: str, *more: FieldProblem) -> None:
        self.problems = (FieldProblem(field, reason), *more)
        text = "; ".join(f"{p.field}: {p.reason}" for p in self.problems)
        super().__init__(text, field=field)


class NotFoundError(LedgerError):
    """The thing named does not exist (or is not visible to the asker)."""

    code = "not-found"


class ConflictError(LedgerError):
    """The request contradicts the current state: an overlapping schedule, a status change out of order."""

    code = "conflict"
