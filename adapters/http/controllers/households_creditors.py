"""Creditors and expected income of a household (budgetbeheerder): add a creditor, a further schedule,
correct a schedule, move who pays (ledger or the client's incasso), its postal address; expected income
and a toeslag's rejection. Reads for everyone who may see the household.

A creditor or an expectation is reached under its household; one of another household, or of a
household outside a begeleider's caseload, answers as one that does not exist. A creditor can also be
read by its own id (`/v1/creditors/{creditor_id}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from budget_ledger.adapters.http.audit import audited_read, principal_of
from budget_ledger.adapters.http.auth import BEHEER, EVERYONE
from budget_ledger.adapters.http.controllers.registry_support import (
    missing,
    owned,
    visible,
    visible_part,
    writing,
)
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import Amount, Id
from budget_ledger.addresses import PostalAddress, PostalAddressInput
from budget_ledger.creditors import (
    AssignPayer,
    Creditor,
    CreditorCategory,
    Frequency,
    NewCreditor,
    Payer,
    PayerPeriod,
    Schedule,
    ScheduleInput,
)
from budget_ledger.expected_income import (
    Coverage,
    ExpectedIncome,
    IncomeFrequency,
    IncomeSource,
    NewExpectedIncome,
    RecordRejection,
)
from budget_ledger.identifiers import PaymentReferenceKind
from budget_ledger.services import Services

CREDITOR, CREDITOR_FIELD = "creditor", "creditor_id"
INCOME, INCOME_FIELD = "expected income", "income_id"


@dataclass(frozen=True)
class ScheduleView:
    id: int
    amount: Amount
    frequency: Frequency
    day: int | None
    valid_from: date
    valid_to: date | None

    @classmethod
    def of(cls, s: Schedule) -> ScheduleView:
        return cls(s.id, str(s.amount), s.frequency, s.day, s.valid_from, s.valid_to)


@dataclass(frozen=True)
class PayerView:
    payer: Payer
    valid_from: date
    recorded_at: datetime
    recorded_by: str
    reason: str | None

    @classmethod
    def of(cls, p: PayerPeriod) -> PayerView:
        return cls(p.payer, p.valid_from, p.recorded_at, p.recorded_by, p.reason)


@dataclass(frozen=True)
class AddressView:
    town: str
    country: str
    street_name: str | None
    building_number: str | None
    postcode: str | None

    @classmethod
    def of(cls, a: PostalAddress) -> AddressView:
        return cls(a.town, a.country, a.street_name, a.building_number, a.postcode)


@dataclass(frozen=True)
class CreditorView:
    id: int
    household_id: int
    organisation: str
    account_holder_name: str
    iban: str
    bic: str | None
    category: CreditorCategory
    reference_kind: PaymentReferenceKind
    reference: str
    schedules: list[ScheduleView]
    payers: list[PayerView]
    """Who pays from which day: the latest from a day or before holds on it."""
    address: AddressView | None
    address_recorded_at: datetime | None
    address_recorded_by: str | None

    @classmethod
    def of(cls, c: Creditor) -> CreditorView:
        return cls(c.id, c.household_id, c.organisation, c.account_holder_name, c.iban, c.bic, c.category,
                   c.reference.kind, c.reference.value, [ScheduleView.of(s) for s in c.schedules],
                   [PayerView.of(p) for p in c.payers], None if c.address is None else AddressView.of(c.address),
                   c.address_recorded_at, c.address_recorded_by)


@dataclass(frozen=True)
class ExpectedIncomeView:
    id: int
    household_id: int
    source: IncomeSource
    amount: Amount
    frequency: IncomeFrequency
    coverage: Coverage
    payment_day: str | None
    entitlement_from: date
    valid_to: date | None
    conditions_met_on: date | None
    first_expected_on: date
    first_expected_latest: date
    depends_on_creditor_id: int | None
    payer_ibans: list[str]
    references: list[str]
    updated_at: datetime
    rejected_on: date | None
    rejection_reason: str | None

    @classmethod
    def of(cls, i: ExpectedIncome) -> ExpectedIncomeView:
        return cls(i.id, i.household_id, i.source, str(i.amount), i.frequency, i.coverage,
                   None if i.payment_day is None else i.payment_day.to_text(), i.entitlement_from, i.valid_to,
                   i.conditions_met_on, i.first_expected_on, i.first_expected_latest, i.depends_on_creditor_id,
                   list(i.payer_ibans), list(i.references), i.updated_at, i.rejected_on, i.rejection_reason)


def _creditor(request: Request, services: Services, household_id: int, creditor_id: int) -> Creditor:
    return owned(request, services, household_id, services.creditors.get, creditor_id, CREDITOR, CREDITOR_FIELD)


def _income(request: Request, services: Services, household_id: int, income_id: int) -> ExpectedIncome:
    """IncomeService has no read by id: the expectation is looked up among the household's own."""
    visible(request, services, household_id)
    found = next((i for i in services.income.of_household(household_id) if i.id == income_id), None)
    if found is None:
        raise missing(INCOME, income_id, INCOME_FIELD)
    return found


class CreditorController(Controller):
    path = "/households/{household_id:int}/creditors"
    tags = ["creditors"]

    @get("/", guards=[EVERYONE], sync_to_thread=True, summary="The household's creditors")
    def creditors(self, request: Request, services: NamedDependency[Services], household_id: Id,
                  limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[CreditorView]:
        visible(request, services, household_id)
        found = services.creditors.of_household(household_id)
        audited_read(request, CREDITOR, None, household_id=household_id)
        return page_of([CreditorView.of(c) for c in found], limit, offset)

    @post("/", guards=[BEHEER], sync_to_thread=True,
          summary="Add a creditor with its first schedule and who pays it")
    def add(self, request: Request, services: NamedDependency[Services], household_id: Id,
            data: JSONBody[NewCreditor]) -> CreditorView:
        with writing(request, CREDITOR, household_id=household_id) as note:
            visible(request, services, household_id)
            added = services.creditors.add(household_id, data, principal_of(request).actor)
            note.entity_id = added.id
        return CreditorView.of(added)

    @get("/{creditor_id:int}", guards=[EVERYONE], sync_to_thread=True, summary="One creditor")
    def creditor(self, request: Request, services: NamedDependency[Services], household_id: Id,
                 creditor_id: Id) -> CreditorView:
        found = _creditor(request, services, household_id, creditor_id)
        audited_read(request, CREDITOR, creditor_id, household_id=household_id)
        return CreditorView.of(found)

    @post("/{creditor_id:int}/schedules", guards=[BEHEER], sync_to_thread=True,
          summary="A further schedule (a new amount from a date); it may not overlap the others")
    def add_schedule(self, request: Request, services: NamedDependency[Services], household_id: Id,
                     creditor_id: Id, data: JSONBody[ScheduleInput]) -> CreditorView:
        with writing(request, CREDITOR, creditor_id, household_id):
            _creditor(request, services, household_id, creditor_id)
            changed = services.creditors.add_schedule(creditor_id, data, principal_of(request).actor)
        return CreditorView.of(changed)

    @put("/{creditor_id:int}/schedules/{schedule_id:int}", guards=[BEHEER], sync_to_thread=True,
         summary="Correct a schedule; toeslagen waiting on this creditor's start move along")
    def change_schedule(self, request: Request, services: NamedDependency[Services], household_id: Id,
                        creditor_id: Id, schedule_id: Id,
                        data: JSONBody[ScheduleInput]) -> CreditorView:
        with writing(request, CREDITOR, creditor_id, household_id):
            _creditor(request, services, household_id, creditor_id)
            changed = services.creditors.change_schedule(creditor_id, schedule_id, data, principal_of(request).actor)
        return CreditorView.of(changed)

    @post("/{creditor_id:int}/payers", guards=[BEHEER], sync_to_thread=True,
          summary="From a day on, this payer pays the creditor (afbouw: the client's own incasso)")
    def assign_payer(self, request: Request, services: NamedDependency[Services], household_id: Id,
                     creditor_id: Id, data: JSONBody[AssignPayer]) -> CreditorView:
        with writing(request, CREDITOR, creditor_id, household_id):
            _creditor(request, services, household_id, creditor_id)
            changed = services.creditors.assign_payer(creditor_id, data, principal_of(request).actor)
        return CreditorView.of(changed)

    @put("/{creditor_id:int}/address", guards=[BEHEER], sync_to_thread=True,
         summary="The creditor's structured postal address from now on (for the bank file)")
    def set_address(self, request: Request, services: NamedDependency[Services], household_id: Id,
                    creditor_id: Id, data: JSONBody[PostalAddressInput]) -> CreditorView:
        with writing(request, CREDITOR, creditor_id, household_id):
            _creditor(request, services, household_id, creditor_id)
            changed = services.creditors.set_address(creditor_id, data, principal_of(request).actor)
        return CreditorView.of(changed)

    @delete("/{creditor_id:int}/address", guards=[BEHEER], sync_to_thread=True, status_code=200,
            summary="No postal address known from now on")
    def clear_address(self, request: Request, services: NamedDependency[Services], household_id: Id,
                      creditor_id: Id) -> CreditorView:
        with writing(request, CREDITOR, creditor_id, household_id):
            _creditor(request, services, household_id, creditor_id)
            changed = services.creditors.set_address(creditor_id, None, principal_of(request).actor)
        return CreditorView.of(changed)


@get("/creditors/{creditor_id:int}", guards=[EVERYONE], sync_to_thread=True, tags=["creditors"],
     summary="One creditor, by its own id")
def creditor_by_id(request: Request, services: NamedDependency[Services], creditor_id: Id) -> CreditorView:
    found = visible_part(request, services, services.creditors.get, creditor_id, CREDITOR, CREDITOR_FIELD)
    audited_read(request, CREDITOR, creditor_id, household_id=found.household_id)
    return CreditorView.of(found)


class ExpectedIncomeController(Controller):
    path = "/households/{household_id:int}/expected-income"
    tags = ["expected income"]

    @get("/", guards=[EVERYONE], sync_to_thread=True, summary="What the household should receive, and when")
    def expected_income(self, request: Request, services: NamedDependency[Services], household_id: Id,
                        limit: Annotated[int, LIMIT] = 50,
                        offset: Annotated[int, OFFSET] = 0) -> Page[ExpectedIncomeView]:
        visible(request, services, household_id)
        found = services.income.of_household(household_id)
        audited_read(request, "expected_income", None, household_id=household_id)
        return page_of([ExpectedIncomeView.of(i) for i in found], limit, offset)

    @post("/", guards=[BEHEER], sync_to_thread=True,
          summary="Expect an income: its rhythm, entitlement and first payment (given or estimated)")
    def add(self, request: Request, services: NamedDependency[Services], household_id: Id,
            data: JSONBody[NewExpectedIncome]) -> ExpectedIncomeView:
        with writing(request, "expected_income", household_id=household_id) as note:
            visible(request, services, household_id)
            added = services.income.add(household_id, data, principal_of(request).actor)
            note.entity_id = added.id
        return ExpectedIncomeView.of(added)

    @get("/{income_id:int}", guards=[EVERYONE], sync_to_thread=True, summary="One expected income")
    def one(self, request: Request, services: NamedDependency[Services], household_id: Id,
            income_id: Id) -> ExpectedIncomeView:
        found = _income(request, services, household_id, income_id)
        audited_read(request, "expected_income", income_id, household_id=household_id)
        return ExpectedIncomeView.of(found)

    @post("/{income_id:int}/rejection", guards=[BEHEER], sync_to_thread=True, status_code=200,
          summary="Dienst Toeslagen rejected the toeslag (beschikking of €0): stop expecting it")
    def record_rejection(self, request: Request, services: NamedDependency[Services], household_id: Id,
                         income_id: Id, data: JSONBody[RecordRejection]) -> ExpectedIncomeView:
        with writing(request, "expected_income", income_id, household_id):
            _income(request, services, household_id, income_id)
            changed = services.income.record_rejection(income_id, data, principal_of(request).actor)
        return ExpectedIncomeView.of(changed)


ROUTES = [CreditorController, creditor_by_id, ExpectedIncomeController]
