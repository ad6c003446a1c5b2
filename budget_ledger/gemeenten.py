"""Gemeenten: the tenants. Each sets how its ontzorging period is anchored and timed, when bijstand is
paid, whether nareizigers with an asiel-afhankelijk permit are ontzorgd, and which rule profile applies.

The anchor is configurable because the sources conflict (domain.md A12.1): the law counts from the right
to bijstand, Westfriesland, Drechtsteden and Utrecht from housing. The default is the law's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import ConflictError, NotFoundError
from budget_ledger.identifiers import parse_iban
from budget_ledger.inputs import Command, checked, validated
from budget_ledger.payment_calendar import PaymentDayRule
from budget_ledger.ports import UnitOfWork
from budget_ledger.transactions import Transactions


class PeriodAnchor(StrEnum):
    BIJSTAND_START = "bijstand_start"
    HUISVESTING = "huisvesting"


class GemeenteSettings(Command):
    anchor: PeriodAnchor = PeriodAnchor.BIJSTAND_START
    minimum_months: int = Field(default=6, ge=6, le=36, description="the law's minimum is six months")
    full_months: bool = Field(default=False, description="'zes volle maanden': run to the end of the last month")
    evaluation_window_months: tuple[int, int] = (2, 3)
    final_evaluation_months: int = Field(default=5, ge=1)
    training_due_months: int = Field(default=5, ge=1, description="'Omgaan met geld' should be done by then")
    warning_lead_weeks: tuple[int, ...] = (8, 4, 2)
    bijstand_payment_day: str = Field(default="day:1", description="PaymentDayRule, in arrears by default")
    nareiziger_asiel_eligible: bool = Field(
        default=True, description="law's reading: yes; Westfriesland does not ontzorg nareizigers"
    )
    toeslag_first_payment_lag_weeks: int = Field(default=8, ge=0, le=52)
    toeslag_worst_case_lag_weeks: int = Field(default=13, ge=0, le=52)
    inleg_warning_days: int = Field(
        default=10, ge=1, le=90, description="days after the rules had the gemeente put money in (an eerste huur "
        "gift, a toeslag voorschot) until a transfer still not on the statement is a warning (inleg-niet-ontvangen)")
    rule_profile: str | None = Field(default=None, max_length=60)
    repayment_iban: str | None = Field(
        default=None, description="where krediet aflossingen and voorschot repayments are paid; without it the "
        "payment run records the instruction without an IBAN and warns")
    repayment_account_holder_name: str | None = Field(
        default=None, max_length=200, description="the account holder exactly as the bank knows it (VoP)")

    @field_validator("repayment_iban")
    @classmethod
    def _repayment_iban(cls, value: str | None) -> str | None:
        return None if value is None else checked(lambda text: parse_iban(text).iban)(value)

    @field_validator("evaluation_window_months")
    @classmethod
    def _window(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= value[0] <= value[1]:
            raise ValueError("the evaluation window runs from a month >= 1 to a month not before it")
        return value

    @field_validator("bijstand_payment_day")
    @classmethod
    def _payment_day(cls, value: str) -> str:
        return checked(lambda text: PaymentDayRule.parse(text).to_text())(value)

    @property
    def bijstand_rule(self) -> PaymentDayRule:
        return PaymentDayRule.parse(self.bijstand_payment_day)

    @field_validator("warning_lead_weeks")
    @classmethod
    def _leads(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(w < 1 for w in value):
            raise ValueError("warning lead times are whole weeks of at least 1")
        return tuple(sorted(set(value), reverse=True))

    @model_validator(mode="after")
    def _consistent(self) -> GemeenteSettings:
        if self.toeslag_worst_case_lag_weeks < self.toeslag_first_payment_lag_weeks:
            raise ValueError("toeslag_worst_case_lag_weeks cannot be shorter than toeslag_first_payment_lag_weeks")
        if self.final_evaluation_months >= self.minimum_months:
            raise ValueError("the final evaluation must fall inside the minimum period")
        return self


_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")


class NewGemeente(Command):
    code: str = Field(description="short lower-case key, e.g. 'roermond'")
    name: str = Field(min_length=1, max_length=200)
    settings: GemeenteSettings = GemeenteSettings()

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("use 2-60 lower-case letters, digits and '-', e.g. 'roermond'")
        return value


@dataclass(frozen=True, slots=True)
class Gemeente:
    id: int
    code: str
    name: str
    settings: GemeenteSettings


class GemeenteService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def create(self, data: NewGemeente | Mapping[str, Any], actor: str) -> Gemeente:
        new = validated(NewGemeente, data)

        def work(uow: UnitOfWork) -> Gemeente:
            if uow.registry.gemeente_by_code(new.code) is not None:
                raise ConflictError(f"gemeente {new.code!r} exists already", field="code")
            return uow.registry.insert_gemeente(new, self._clock())

        return self._tx.run(work)

    def update_settings(self, code: str, data: GemeenteSettings | Mapping[str, Any], actor: str) -> Gemeente:
        settings = validated(GemeenteSettings, data)

        def work(uow: UnitOfWork) -> Gemeente:
            gemeente = require_gemeente(uow, code)
            uow.registry.update_gemeente_settings(gemeente.id, settings, self._clock())
            return Gemeente(gemeente.id, gemeente.code, gemeente.name, settings)

        return self._tx.run(work)

    def get(self, code: str) -> Gemeente:
        return self._tx.run(lambda uow: require_gemeente(uow, code), write=False)

    def list(self) -> list[Gemeente]:
        return self._tx.run(lambda uow: uow.registry.gemeenten(), write=False)


def require_gemeente(uow: UnitOfWork, code: str, *, field: str = "gemeente") -> Gemeente:
    gemeente = uow.registry.gemeente_by_code(code)
    if gemeente is None:
        raise NotFoundError(f"there is no gemeente {code!r}", field=field)
    return gemeente
