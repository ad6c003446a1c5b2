"""Households: the people, their permit, their gemeente, their begeleiders, and their ledger accounts.

A household is created with its members and, when it is to be ontzorgd technically, its ledger accounts
(basisrekening, leefgeldrekening and the rest of `chart.household_accounts`) in the same transaction.
The BSN is optional, checked with the 11-proef, kept out of every repr and log line, and shown masked to
everyone but budgetbeheerders.

The client's own leefgeld account (IBAN and account-holder name) is where leefgeld goes when the
organisation pays it out of its pooled account (design.md §3, setup (a)). It is recorded append-only: a
change is a new row with who recorded it when, and the latest row holds; the database refuses UPDATE and
DELETE (migration 0009). Without one, leefgeld is booked but left out of the bank file, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field, field_validator, model_validator

from budget_ledger.chart import household_accounts, organisation_accounts
from budget_ledger.clock import Clock, system_clock, today_amsterdam
from budget_ledger.eligibility import (
    Assessment,
    EligibilityDecision,
    EligibilityOverride,
    OntzorgingForm,
    PermitType,
    ReasonCode,
    assess,
)
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.gemeenten import require_gemeente
from budget_ledger.identifiers import mask_bsn, parse_bsn, parse_iban
from budget_ledger.inputs import Command, checked, validated
from budget_ledger.ports import UnitOfWork
from budget_ledger.posting import open_accounts_in
from budget_ledger.transactions import Transactions

T = TypeVar("T")


class MemberRole(StrEnum):
    AANVRAGER = "aanvrager"
    PARTNER = "partner"
    KIND = "kind"


class NewMember(Command):
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    role: MemberRole

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: date) -> date:
        if value > today_amsterdam():
            raise ValueError("a date of birth cannot lie in the future")
        return value


class JoiningMember(NewMember):
    """Someone who joins the household after it was registered: a nareiziger partner or child (S4)."""

    joined_on: date = Field(description="the day they joined the household (registered in the BRP)")


Bsn = Annotated[str, AfterValidator(checked(parse_bsn))]


class NewHousehold(Command):
    gemeente: str = Field(description="the gemeente's code")
    permit_type: PermitType
    has_bijstand: bool
    bijstand_start: date | None = Field(default=None, description="the day the right to bijstand starts")
    housing_date: date | None = None
    preferred_language: str = Field(default="nl", pattern=r"^[a-z]{2,3}$", description="ISO 639 code")
    bsn: Bsn | None = Field(default=None, repr=False)
    members: tuple[NewMember, ...]
    begeleiders: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = ()
    eligibility_override: EligibilityOverride | None = Field(
        default=None, description="a maatwerk decision taken at the intake (S20: opt-out), applied before accounts open"
    )

    @model_validator(mode="after")
    def _household(self) -> NewHousehold:
        roles = [m.role for m in self.members]
        if roles.count(MemberRole.AANVRAGER) != 1:
            raise ValueError("a household needs exactly one aanvrager among its members")
        if roles.count(MemberRole.PARTNER) > 1:
            raise ValueError("a household has at most one partner")
        if self.has_bijstand is False and self.bijstand_start is not None:
            raise ValueError("bijstand_start is given but has_bijstand is false")
        if len(set(self.begeleiders)) != len(self.begeleiders):
            raise ValueError("a begeleider is listed twice")
        return self


class LeefgeldAccountInput(Command):
    iban: str = Field(description="the client's own account that leefgeld is paid to")
    account_holder_name: str = Field(min_length=1, max_length=200, description="exactly as the bank knows it (VoP)")

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        try:
            return parse_iban(value).iban
        except InvalidInputError as exc:
            raise ValueError(exc.problems[0].reason) from None


@dataclass(frozen=True, slots=True)
class LeefgeldAccount:
    """The client's own account for leefgeld, as recorded at `recorded_at` by `recorded_by`."""

    id: int
    household_id: int
    iban: str
    bic: str | None
    account_holder_name: str
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    date_of_birth: date
    role: MemberRole
    joined_on: date | None = None
    """None: a member from the registration; else the day they joined (a nareiziger, S4)."""


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    gemeente_id: int
    gemeente_code: str
    permit_type: PermitType
    has_bijstand: bool
    bijstand_start: date | None
    housing_date: date | None
    preferred_language: str
    members: tuple[Member, ...]
    begeleiders: tuple[str, ...]
    eligibility: EligibilityDecision
    created_at: datetime
    created_by: str
    bsn: str | None = field(default=None, repr=False)
    leefgeld_account: LeefgeldAccount | None = None
    """The latest recorded; None when no own account of the client is known."""

    @property
    def aanvrager(self) -> Member:
        return next(m for m in self.members if m.role is MemberRole.AANVRAGER)

    @property
    def size(self) -> int:
        return len(self.members)

    def with_bsn_masked(self) -> Household:
        """The view for begeleiders, auditors and anyone else who is not a budgetbeheerder."""
        return replace(self, bsn=mask_bsn(self.bsn) if self.bsn else None)


@dataclass(frozen=True, slots=True)
class CreatedHousehold:
    household: Household
    assessment: Assessment
    accounts_opened: int


class HouseholdService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def create(self, data: NewHousehold | Mapping[str, Any], actor: str) -> CreatedHousehold:
        """Register a household, decide its eligibility, and open its accounts if it is to be ontzorgd
        technically — all in one transaction."""
        new = validated(NewHousehold, data)

        def work(uow: UnitOfWork) -> CreatedHousehold:
            gemeente = uow.registry.gemeente_by_code(new.gemeente)
            if gemeente is None:
                raise InvalidInputError("gemeente", f"there is no gemeente {new.gemeente!r}")
            now = self._clock()
            household_id = uow.registry.insert_household(gemeente.id, new, actor, now)
            assessment = assess(
                new.permit_type, new.has_bijstand, nareiziger_asiel_eligible=gemeente.settings.nareiziger_asiel_eligible
            )
            decision = uow.registry.insert_decision(
                household_id, eligible=assessment.eligible, reason_code=assessment.reason_code, form=assessment.form,
                override=False, override_reason=None, policy_reference=None, actor=actor, now=now,
            )
            if new.eligibility_override is not None:
                decision = _record_override(uow, household_id, new.eligibility_override, actor, now)
            opened = _open_ledger_if_needed(uow, decision)
            return CreatedHousehold(uow.registry.household(household_id), assessment, opened)

        return self._tx.run(work)

    def get(self, household_id: int, *, reveal_bsn: bool = False) -> Household:
        household = self._tx.run(lambda uow: require_household(uow, household_id), write=False)
        return household if reveal_bsn else household.with_bsn_masked()

    def list(
        self, *, gemeente: str | None = None, begeleider: str | None = None, limit: int = 100, offset: int = 0,
        reveal_bsn: bool = False,
    ) -> list[Household]:
        def work(uow: UnitOfWork) -> list[Household]:
            gemeente_id = require_gemeente(uow, gemeente).id if gemeente else None
            return uow.registry.households(gemeente_id=gemeente_id, begeleider=begeleider, limit=limit, offset=offset)

        found = self._tx.run(work, write=False)
        return found if reveal_bsn else [h.with_bsn_masked() for h in found]

    def assign_begeleider(self, household_id: int, begeleider: str, actor: str) -> Household:
        name = begeleider.strip()
        if not name:
            raise InvalidInputError("begeleider", "name the begeleider")

        def work(uow: UnitOfWork) -> Household:
            household = require_household(uow, household_id)
            if name not in household.begeleiders:
                uow.registry.add_begeleiders(household_id, [name], actor, self._clock())
            return uow.registry.household(household_id)

        return self._tx.run(work).with_bsn_masked()

    def unassign_begeleider(self, household_id: int, begeleider: str, actor: str) -> Household:
        def work(uow: UnitOfWork) -> Household:
            require_household(uow, household_id)
            if not uow.registry.remove_begeleider(household_id, begeleider):
                raise NotFoundError(f"{begeleider!r} is not assigned to household {household_id}", field="begeleider")
            return uow.registry.household(household_id)

        return self._tx.run(work).with_bsn_masked()

    def add_member(self, household_id: int, data: JoiningMember | Mapping[str, Any], actor: str) -> Household:
        """A partner or child joins the household (S4: the nareiziger husband arrives on 15 August). The
        household keeps its one aanvrager and at most one partner; the join day is recorded. What changes
        for the bijstand norm, the toeslagpartner and the nareiziger's own eligibility is decided by the
        gemeente and recorded as expected income, profile and eligibility decisions, not derived here."""
        member = validated(JoiningMember, data)

        def work(uow: UnitOfWork) -> Household:
            uow.registry.lock_household(household_id)
            household = require_household(uow, household_id)
            if member.role is MemberRole.AANVRAGER:
                raise InvalidInputError("role", "a household has one aanvrager, registered with it; a joining "
                                        "member is a partner or a kind")
            if member.role is MemberRole.PARTNER and any(m.role is MemberRole.PARTNER for m in household.members):
                raise ConflictError(f"household {household_id} has a partner already", field="role")
            if household.housing_date is not None and member.joined_on < household.housing_date:
                raise InvalidInputError("joined_on", f"lies before the household was housed "
                                        f"({household.housing_date:%d-%m-%Y}); register them with the household")
            uow.registry.insert_member(household_id, member, member.joined_on)
            return require_household(uow, household_id)

        return self._tx.run(work)

    def override_eligibility(
        self, household_id: int, data: EligibilityOverride | Mapping[str, Any], actor: str
    ) -> EligibilityDecision:
        """Record a documented deviation (maatwerk, opt-out); opens the accounts if it newly needs them."""
        override = validated(EligibilityOverride, data)

        def work(uow: UnitOfWork) -> EligibilityDecision:
            require_household(uow, household_id)
            decision = _record_override(uow, household_id, override, actor, self._clock())
            _open_ledger_if_needed(uow, decision)
            return decision

        return self._tx.run(work)

    def set_leefgeld_account(self, household_id: int, data: LeefgeldAccountInput | Mapping[str, Any],
                             actor: str) -> Household:
        """Record the client's own account for leefgeld (IBAN and account-holder name). Appended: the
        previous one stays in `leefgeld_accounts`. Payment runs from now on pay leefgeld to it."""
        account = validated(LeefgeldAccountInput, data)
        if not actor or not actor.strip():
            raise InvalidInputError("actor", "a change is recorded with a named user")

        def work(uow: UnitOfWork) -> Household:
            require_household(uow, household_id)
            uow.registry.add_leefgeld_account(household_id, account.iban, parse_iban(account.iban).bic,
                                              account.account_holder_name, actor, self._clock())
            return uow.registry.household(household_id)

        return self._tx.run(work).with_bsn_masked()

    def leefgeld_accounts(self, household_id: int) -> list[LeefgeldAccount]:
        """Every leefgeld account recorded for the household, oldest first; the last one holds."""
        return read_for_household(self._tx, household_id, lambda uow: uow.registry.leefgeld_accounts(household_id))

    def decisions(self, household_id: int) -> list[EligibilityDecision]:
        return read_for_household(self._tx, household_id, lambda uow: uow.registry.decisions(household_id))


def read_for_household(transactions: Transactions, household_id: int, read: Callable[[UnitOfWork], T]) -> T:
    """A read about one household, in one read-only transaction; an unknown household is NotFoundError."""

    def work(uow: UnitOfWork) -> T:
        require_household(uow, household_id)
        return read(uow)

    return transactions.run(work, write=False)


def require_household(uow: UnitOfWork, household_id: int, *, field: str = "household_id") -> Household:
    household = uow.registry.household(household_id)
    if household is None:
        raise NotFoundError(f"there is no household {household_id}", field=field)
    return household


def _record_override(
    uow: UnitOfWork, household_id: int, override: EligibilityOverride, actor: str, now: datetime
) -> EligibilityDecision:
    opt_out = override.eligible and override.form is OntzorgingForm.GEEN
    return uow.registry.insert_decision(
        household_id, eligible=override.eligible,
        reason_code=ReasonCode.OVERRIDE_OPT_OUT if opt_out else ReasonCode.OVERRIDE_MAATWERK,
        form=override.form, override=True, override_reason=override.reason,
        policy_reference=override.policy_reference, actor=actor, now=now,
    )


def _open_ledger_if_needed(uow: UnitOfWork, decision: EligibilityDecision) -> int:
    """Open the household's accounts when its decision calls for technical ontzorging. Idempotent."""
    if not decision.needs_ledger:
        return 0
    open_accounts_in(uow.ledger, organisation_accounts())  # the bank side every booking for it needs
    return len(open_accounts_in(uow.ledger, household_accounts(decision.household_id)))
