"""Turning outside input into validated commands, with every problem named by its field.

Commands are pydantic models so the API can publish them as its request schemas. A pydantic
`ValidationError` never leaves the service layer: `validated()` turns it into one `InvalidInputError`
that lists every field and reason ("members: a household needs exactly one aanvrager").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from budget_ledger.errors import FieldProblem, InvalidInputError
from budget_ledger.ledger.errors import LedgerError
from budget_ledger.ledger.money_field import MoneyField

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Command(BaseModel):
    """Base of every input model: unknown fields are refused, values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


MoneyInput = MoneyField
"""An amount in a command: a decimal string such as '650.00' (see budget_ledger.ledger.money_field)."""


def checked(parse: Callable[..., T]) -> Callable[[Any], T]:
    """Wrap a domain parser (parse_iban, parse_bsn…) for use as a pydantic validator."""

    def validator(value: Any) -> T:
        try:
            return parse(value)
        except LedgerError as exc:
            reason = exc.problems[0].reason if isinstance(exc, InvalidInputError) else exc.message
            raise ValueError(reason) from None

    return validator


def validated(model: type[M], data: M | Mapping[str, Any]) -> M:
    """`data` as a validated `model`, or InvalidInputError naming every field that is wrong."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(str(part) for part in error["loc"]) or model.__name__, _reason(error))
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidInputError(problems[0].field, problems[0].reason, *problems[1:]) from None


def _reason(error: Mapping[str, Any]) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
