"""The shapes every controller shares: amounts and ids as the API shows and takes them.

Amounts in responses are decimal strings. (msgspec encodes a dataclass such as `Money` itself, as
{"cents": …}, and never asks an app-level type encoder; so views carry `amount(money)`, documented by
`Amount`.) Ids in paths are 1 to 2**63 − 1, what the database's BIGINT holds: a larger one is a 400, never
a 500 from the driver.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import KwargDefinition, PathParameter

from budget_ledger.ledger.money import Money

MONEY_PATTERN = r"^-?\d+(\.\d{1,2})?$"
MAX_ID = 2**63 - 1

Amount = Annotated[str, KwargDefinition(
    pattern=MONEY_PATTERN, description="an amount in euro as a decimal string with at most two decimals, e.g. 650.00")]
"""(No `examples`: a list in the metadata makes `Amount | None` unhashable and the OpenAPI document fails.)"""

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
"""An id in a path."""


def amount(value: Money | None) -> str | None:
    return None if value is None else str(value)
