"""Postal addresses of payees, structured as ISO 20022 wants them in a bank file (domain.md S18).

From October 2026 Dutch banks accept only structured addresses in pain.001: street name, building number,
postcode, town and country each in its own element, town and country always present, no free address lines
(Betaalvereniging, "Structured ISO 20022 address information"). So an address is stored in exactly those
parts, each no longer than its element in the schema allows, and checked when it is entered:

- the country is an ISO 3166-1 alpha-2 code (pycountry's list, which schwifty uses too), NL when left out;
- a Dutch postcode is four digits (the first not 0) and two letters other than SA, SD and SS, stored in
  PostNL's form "1234 AB";
- an empty text counts as left out; the town is required.

Pure: no I/O. A refusal is an `InvalidInputError` naming the field (through `inputs.validated`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pycountry
from pydantic import Field, field_validator

from budget_ledger.inputs import Command

# The longest text each ISO 20022 element takes (PostalAddress6 in .03, PostalAddress24 in .09).
STREET_NAME_MAX = 70
BUILDING_NUMBER_MAX = 16
POSTCODE_MAX = 16
TOWN_MAX = 35

_DUTCH_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Z]{2})$")
_NOT_ISSUED = frozenset({"SA", "SD", "SS"})


def parse_dutch_postcode(text: str) -> str:
    """A Dutch postcode in PostNL's form "1234 AB"; ValueError with a reason a person can act on."""
    match = _DUTCH_POSTCODE.match(" ".join(text.upper().split()))
    if match is None:
        raise ValueError("a Dutch postcode is four digits (the first not 0) and two letters, like 1601 GK")
    digits, letters = match.groups()
    if letters in _NOT_ISSUED:
        raise ValueError(f"Dutch postcodes never end in {letters} (SA, SD and SS are not issued)")
    return f"{digits} {letters}"


def parse_country_code(text: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case; ValueError otherwise."""
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValueError("a country is given as its two-letter ISO 3166 code, like NL or BE")
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code} is not an ISO 3166 country code")
    return code


class PostalAddressInput(Command):
    """A payee's postal address as a budgetbeheerder enters it. The country comes first so the postcode's
    check can see it."""

    country: str = Field(default="NL", description="ISO 3166-1 alpha-2 code; NL when left out")
    street_name: str | None = Field(default=None, max_length=STREET_NAME_MAX)
    building_number: str | None = Field(default=None, max_length=BUILDING_NUMBER_MAX,
                                        description="house number with any addition, e.g. 12a or 12-2")
    postcode: str | None = Field(default=None, max_length=POSTCODE_MAX, description="for NL: 1234 AB")
    town: str = Field(min_length=1, max_length=TOWN_MAX)

    @field_validator("street_name", "building_number", "postcode", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return parse_country_code(value)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None, info: Any) -> str | None:
        if value is not None and info.data.get("country") == "NL":
            return parse_dutch_postcode(value)
        return value

    def to_address(self) -> PostalAddress:
        return PostalAddress(street_name=self.street_name, building_number=self.building_number,
                             postcode=self.postcode, town=self.town, country=self.country)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A structured postal address (ISO 20022 StrtNm, BldgNb, PstCd, TwnNm, Ctry)."""

    town: str
    country: str
    street_name: str | None = None
    building_number: str | None = None
    postcode: str | None = None
