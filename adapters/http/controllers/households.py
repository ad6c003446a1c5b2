"""Households (budgetbeheerder): registration, members, eligibility decisions and overrides, begeleiders,
the client's leefgeld account, and which rule profile applies.

Writes are for budgetbeheerders. Reads of one household are for everyone who may see it: a begeleider
only their own caseload (404 otherwise, as for an id that does not exist). The BSN is shown whole to
budgetbeheerders only. Every read of a household or its parts is in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from budget_ledger.access import Role
from budget_ledger.adapters.http.audit import audited_read, principal_of
from budget_ledger.adapters.http.auth import BEHEER, EVERYONE
from budget_ledger.adapters.http.controllers.registry_support import plain, reveals_bsn, visible, writing
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import Id
from budget_ledger.clock import AMSTERDAM
from budget_ledger.eligibility import (
    Assessment,
    EligibilityDecision,
    EligibilityOverride,
    OntzorgingForm,
    PermitType,
    ReasonCode,
)
from budget_ledger.household_profiles import AssignProfile, EffectiveProfile, ProfileAssignment
from budget_ledger.households import (
    CreatedHousehold,
    Household,
    JoiningMember,
    LeefgeldAccount,
    LeefgeldAccountInput,
    Member,
    MemberRole,
    NewHousehold,
)
from budget_ledger.services import Services

DB_OFFSET = QueryParameter(ge=0, le=2**62, description="how many to skip")
"""pagination.OFFSET, bounded: this offset goes to the database, where a number beyond BIGINT is a 500."""
BEGELEIDER_NAME = PathParameter(min_length=1, max_length=200, description="the begeleider's name, as on their token")


@dataclass(frozen=True)
class MemberView:
    id: int
    name: str
    date_of_birth: date
    role: MemberRole
    joined_on: date | None
    """None: there from the registration; else the day they joined (a nareiziger)."""

    @classmethod
    def of(cls, member: Member) -> MemberView:
        return cls(member.id, member.name, member.date_of_birth, member.role, member.joined_on)


@dataclass(frozen=True)
class DecisionView:
    id: int
    household_id: int
    eligible: bool
    reason_code: ReasonCode
    form: OntzorgingForm
    register_status: str
    """ontzorgd, ontzorgd_afwijkende_vorm or niet_ontzorgd: how the household counts in the register."""
    explanation: str
    override: bool
    override_reason: str | None
    policy_reference: str | None
    decided_at: datetime
    decided_by: str

    @classmethod
    def of(cls, d: EligibilityDecision) -> DecisionView:
        return cls(d.id, d.household_id, d.eligible, d.reason_code, d.form, d.register_status, d.explanation,
                   d.override, d.override_reason, d.policy_reference, d.decided_at, d.decided_by)


@dataclass(frozen=True)
class LeefgeldAccountView:
    id: int
    household_id: int
    iban: str
    bic: str | None
    account_holder_name: str
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, a: LeefgeldAccount) -> LeefgeldAccountView:
        return cls(a.id, a.household_id, a.iban, a.bic, a.account_holder_name, a.recorded_at, a.recorded_by)


@dataclass(frozen=True)
class HouseholdView:
    id: int
    gemeente: str
    """The gemeente's code."""
    permit_type: PermitType
    has_bijstand: bool
    bijstand_start: date | None
    housing_date: date | None
    preferred_language: str
    bsn: str | None
    """Whole for a budgetbeheerder, masked ("******782") for everyone else."""
    members: list[MemberView]
    begeleiders: list[str]
    eligibility: DecisionView
    """The decision that holds: the latest."""
    leefgeld_account: LeefgeldAccountView | None
    """The client's own account leefgeld is paid to (the latest recorded); null when none is known."""
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, h: Household) -> HouseholdView:
        return cls(h.id, h.gemeente_code, h.permit_type, h.has_bijstand, h.bijstand_start, h.housing_date,
                   h.preferred_language, h.bsn, [MemberView.of(m) for m in h.members], list(h.begeleiders),
                   DecisionView.of(h.eligibility),
                   None if h.leefgeld_account is None else LeefgeldAccountView.of(h.leefgeld_account),
                   h.created_at, h.created_by)


@dataclass(frozen=True)
class AssessmentView:
    """What the rules decided at the intake, before any override."""

    eligible: bool
    reason_code: ReasonCode
    form: OntzorgingForm
    explanation: str

    @classmethod
    def of(cls, a: Assessment) -> AssessmentView:
        return cls(a.eligible, a.reason_code, a.form, a.explanation)


@dataclass(frozen=True)
class CreatedHouseholdView:
    household: HouseholdView
    assessment: AssessmentView
    accounts_opened: int

    @classmethod
    def of(cls, created: CreatedHousehold) -> CreatedHouseholdView:
        return cls(HouseholdView.of(created.household), AssessmentView.of(created.assessment),
                   created.accounts_opened)


@dataclass(frozen=True)
class ProfileAssignmentView:
    id: int
    household_id: int
    valid_from: date
    profile: str | None
    """null: the gemeente's own profile."""
    overrides: dict[str, Any]
    reason: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, a: ProfileAssignment) -> ProfileAssignmentView:
        return cls(a.id, a.household_id, a.valid_from, a.profile, plain(a.overrides), a.reason, a.recorded_by,
                   a.recorded_at)


@dataclass(frozen=True)
class EffectiveProfileView:
    """The rules that hold for the household on `on`, and where they come from."""

    household_id: int
    on: date
    profile: str
    version_valid_from: date
    assignment_id: int | None
    """The assignment that chose them; null when the household follows its gemeente."""
    overridden_keys: list[str]
    version: dict[str, Any]
    """The profile version with the assignment's overrides applied (amounts as decimal strings)."""

    @classmethod
    def of(cls, household_id: int, on: date, e: EffectiveProfile) -> EffectiveProfileView:
        return cls(household_id, on, e.profile_name, e.version.valid_from, e.assignment_id, list(e.overridden_keys),
                   e.version.model_dump(mode="json"))


def _household(request: Request, services: Services, household_id: int) -> Household:
    """The household as the caller may see it (BSN whole for budgetbeheerders only)."""
    principal = visible(request, services, household_id)
    return services.households.get(household_id, reveal_bsn=reveals_bsn(principal))


class HouseholdController(Controller):
    path = "/households"
    tags = ["households"]

    @get("/", guards=[EVERYONE], sync_to_thread=True, summary="Households (a begeleider's: their caseload)")
    def list_households(
        self, request: Request, services: NamedDependency[Services],
        gemeente: Annotated[str | None, QueryParameter(description="a gemeente's code")] = None,
        begeleider: Annotated[str | None, QueryParameter(description="households assigned to this begeleider")] = None,
        limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, DB_OFFSET] = 0,
    ) -> Page[HouseholdView]:
        """By id. `total` counts one beyond the page while there are more, so a client can walk the list."""
        principal = principal_of(request)
        caseload: frozenset[int] | None = None
        if principal.role is Role.BEGELEIDER:
            if begeleider not in (None, principal.actor):
                return Page(items=[], total=0, limit=limit, offset=offset)
            begeleider = principal.actor
            caseload = services.access.caseload(principal.actor)
        found = services.households.list(gemeente=gemeente, begeleider=begeleider, limit=limit + 1, offset=offset,
                                         reveal_bsn=reveals_bsn(principal))
        if caseload is not None:
            found = [h for h in found if h.id in caseload]
        more = len(found) > limit
        items = found[:limit]
        for h in items:
            audited_read(request, "household", h.id, household_id=h.id)
        return Page(items=[HouseholdView.of(h) for h in items], total=offset + len(items) + (1 if more else 0),
                    limit=limit, offset=offset)

    @post("/", guards=[BEHEER], sync_to_thread=True,
          summary="Register a household: its members, the eligibility decision, and its accounts when ontzorgd")
    def create(self, request: Request, services: NamedDependency[Services],
               data: JSONBody[NewHousehold]) -> CreatedHouseholdView:
        with writing(request, "household") as note:
            created = services.households.create(data, principal_of(request).actor)
            note.entity_id = note.household_id = created.household.id
        return CreatedHouseholdView.of(created)

    @get("/{household_id:int}", guards=[EVERYONE], sync_to_thread=True, summary="One household")
    def household(self, request: Request, services: NamedDependency[Services],
                  household_id: Id) -> HouseholdView:
        found = _household(request, services, household_id)
        audited_read(request, "household", household_id, household_id=household_id)
        return HouseholdView.of(found)

    @get("/{household_id:int}/members", guards=[EVERYONE], sync_to_thread=True, summary="The household's members")
    def members(self, request: Request, services: NamedDependency[Services], household_id: Id,
                limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[MemberView]:
        found = _household(request, services, household_id)
        audited_read(request, "member", None, household_id=household_id)
        return page_of([MemberView.of(m) for m in found.members], limit, offset)

    @post("/{household_id:int}/members", guards=[BEHEER], sync_to_thread=True,
          summary="A partner or child joins the household (a nareiziger, S4), from the day given")
    def add_member(self, request: Request, services: NamedDependency[Services], household_id: Id,
                   data: JSONBody[JoiningMember]) -> HouseholdView:
        with writing(request, "member", household_id=household_id):
            visible(request, services, household_id)
            changed = services.households.add_member(household_id, data, principal_of(request).actor)
        return HouseholdView.of(changed)

    # -- eligibility -------------------------------------------------------------------------------------

    @get("/{household_id:int}/eligibility", guards=[EVERYONE], sync_to_thread=True,
         summary="Every eligibility decision, oldest first; the last holds")
    def decisions(self, request: Request, services: NamedDependency[Services], household_id: Id,
                  limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[DecisionView]:
        visible(request, services, household_id)
        found = services.households.decisions(household_id)
        audited_read(request, "eligibility", None, household_id=household_id)
        return page_of([DecisionView.of(d) for d in found], limit, offset)

    @post("/{household_id:int}/eligibility/overrides", guards=[BEHEER], sync_to_thread=True,
          summary="Override the eligibility decision with a documented reason (maatwerk, opt-out)")
    def override_eligibility(self, request: Request, services: NamedDependency[Services], household_id: Id,
                             data: JSONBody[EligibilityOverride]) -> DecisionView:
        with writing(request, "eligibility", household_id=household_id) as note:
            visible(request, services, household_id)
            decision = services.households.override_eligibility(household_id, data, principal_of(request).actor)
            note.entity_id = decision.id
        return DecisionView.of(decision)

    # -- begeleiders -------------------------------------------------------------------------------------

    @put("/{household_id:int}/begeleiders/{begeleider:str}", guards=[BEHEER], sync_to_thread=True,
         summary="Assign a begeleider to the household (their caseload); assigning twice changes nothing")
    def assign_begeleider(self, request: Request, services: NamedDependency[Services], household_id: Id,
                          begeleider: Annotated[str, BEGELEIDER_NAME]) -> HouseholdView:
        with writing(request, "begeleider", begeleider, household_id):
            visible(request, services, household_id)
            services.households.assign_begeleider(household_id, begeleider, principal_of(request).actor)
        return HouseholdView.of(services.households.get(household_id, reveal_bsn=True))

    @delete("/{household_id:int}/begeleiders/{begeleider:str}", guards=[BEHEER], sync_to_thread=True,
            status_code=200, summary="Take a begeleider off the household")
    def unassign_begeleider(self, request: Request, services: NamedDependency[Services], household_id: Id,
                            begeleider: Annotated[str, BEGELEIDER_NAME]) -> HouseholdView:
        with writing(request, "begeleider", begeleider, household_id):
            visible(request, services, household_id)
            services.households.unassign_begeleider(household_id, begeleider, principal_of(request).actor)
        return HouseholdView.of(services.households.get(household_id, reveal_bsn=True))

    # -- the client's leefgeld account -------------------------------------------------------------------

    @get("/{household_id:int}/leefgeld-accounts", guards=[EVERYONE], sync_to_thread=True,
         summary="Every leefgeld account recorded, oldest first; the last holds")
    def leefgeld_accounts(self, request: Request, services: NamedDependency[Services], household_id: Id,
                          limit: Annotated[int, LIMIT] = 50,
                          offset: Annotated[int, OFFSET] = 0) -> Page[LeefgeldAccountView]:
        visible(request, services, household_id)
        found = services.households.leefgeld_accounts(household_id)
        audited_read(request, "leefgeld_account", None, household_id=household_id)
        return page_of([LeefgeldAccountView.of(a) for a in found], limit, offset)

    @post("/{household_id:int}/leefgeld-accounts", guards=[BEHEER], sync_to_thread=True,
          summary="Record the client's own account for leefgeld; payment runs pay leefgeld to it from now on")
    def set_leefgeld_account(self, request: Request, services: NamedDependency[Services],
                             household_id: Id, data: JSONBody[LeefgeldAccountInput]) -> LeefgeldAccountView:
        with writing(request, "leefgeld_account", household_id=household_id) as note:
            visible(request, services, household_id)
            changed = services.households.set_leefgeld_account(household_id, data, principal_of(request).actor)
            assert changed.leefgeld_account is not None
            note.entity_id = changed.leefgeld_account.id
        return LeefgeldAccountView.of(changed.leefgeld_account)

    # -- rule profile ------------------------------------------------------------------------------------

    @get("/{household_id:int}/profile-assignments", guards=[EVERYONE], sync_to_thread=True,
         summary="Every rule profile assignment, in the order recorded")
    def profile_assignments(self, request: Request, services: NamedDependency[Services],
                            household_id: Id, limit: Annotated[int, LIMIT] = 50,
                            offset: Annotated[int, OFFSET] = 0) -> Page[ProfileAssignmentView]:
        visible(request, services, household_id)
        found = services.profiles.history(household_id)
        audited_read(request, "profile_assignment", None, household_id=household_id)
        return page_of([ProfileAssignmentView.of(a) for a in found], limit, offset)

    @post("/{household_id:int}/profile-assignments", guards=[BEHEER], sync_to_thread=True,
          summary="From a day on, follow another rule profile and/or override parts of it (maatwerk)")
    def assign_profile(self, request: Request, services: NamedDependency[Services], household_id: Id,
                       data: JSONBody[AssignProfile]) -> ProfileAssignmentView:
        with writing(request, "profile_assignment", household_id=household_id) as note:
            visible(request, services, household_id)
            assignment = services.profiles.assign(household_id, data, principal_of(request).actor)
            note.entity_id = assignment.id
        return ProfileAssignmentView.of(assignment)

    @get("/{household_id:int}/profile", guards=[EVERYONE], sync_to_thread=True,
         summary="The rules that hold for the household on a day (default: today)")
    def effective_profile(self, request: Request, services: NamedDependency[Services], household_id: Id,
                          on: FromQuery[date | None] = None) -> EffectiveProfileView:
        visible(request, services, household_id)
        day = on or request.app.state.clock().astimezone(AMSTERDAM).date()
        effective = services.profiles.effective(household_id, day)
        audited_read(request, "profile", None, household_id=household_id)
        return EffectiveProfileView.of(household_id, day, effective)


ROUTES = [HouseholdController]
