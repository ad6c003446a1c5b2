"""`Money` as a pydantic field: how an amount arrives from outside (API bodies, TOML profiles).

Only a decimal string (or Decimal) is accepted. An int is ambiguous (euros or cents?), and a JSON or TOML
number like 650.0 is a float before any validator sees it, so both are refused with a hint. One definition
serves the service layer's commands and the rules package's profiles.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from budget_ledger.ledger.money import Money, MoneyError

AMOUNT_HINT = "give the amount as a decimal string such as '650.00'"
MAX_CENTS = 100_000_000_000
"""An amount from outside is at most a billion euro either way: far beyond any household's money, and well
inside what the database's BIGINT sums can hold."""


def _money(value: Any) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, str | Decimal):
        try:
            money = Money.of(value)
        except MoneyError as exc:
            raise ValueError(str(exc)) from exc
        if abs(money.cents) > MAX_CENTS:
            raise ValueError("the amount is beyond a billion euro; that cannot be right")
        return money
    raise ValueError(AMOUNT_HINT)


MoneyField = Annotated[
    Money,
    BeforeValidator(_money),
    PlainSerializer(lambda m: str(m), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["650.00"]}),
]
