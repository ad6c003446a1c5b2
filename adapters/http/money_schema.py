"""Money in the API: a decimal string in euro ("650.00"), never a JSON number.

The encoder writes `Money` as its string; the OpenAPI plugin documents it as a string with the pattern the
service layer accepts (budget_ledger.ledger.money_field), so generated clients and schemathesis send
strings, and a JSON float is refused by the commands' validation.
"""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from budget_ledger.ledger.money import Money

MONEY_PATTERN = r"^-?\d+(\.\d{1,2})?$"


def money_schema() -> Schema:
    return Schema(type="string", pattern=MONEY_PATTERN, examples=["650.00"],
                  description="an amount in euro as a decimal string with at most two decimals")


class MoneySchemaPlugin(OpenAPISchemaPlugin):
    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is Money

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return money_schema()


TYPE_ENCODERS = {Money: str}
