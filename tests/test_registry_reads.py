"""The registry's quick bulk readers return exactly what the plain readers they replaced returned.

`SqlRegistryStore` reads households, trajectories, creditors and expected income by chunks of households
for the payment run; it now selects only the columns it needs, unpacks rows as tuples, looks enum members
up in dicts and builds equal immutable values once per call. `Plain` below is the code it replaced, kept
as the reference, reading the same tables. The answers are compared field by field, with the types, the
order of every list and tuple, and the grouping by household, on varied households built through the
services.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pytest
from registry import BEHEERDER, gemeente, single
from sqlalchemy import func, insert, select, text, update

from budget_ledger.adapters.db.registry_store import SqlRegistryStore
from budget_ledger.adapters.db.registry_tables import (
    creditor_payers,
    creditor_schedules,
    creditors,
    eligibility_decisions,
    expected_income,
    gemeenten,
    household_begeleiders,
    household_leefgeld_accounts,
    household_members,
    household_profile_assignments,
    households,
    trajectories,
    trajectory_history,
    trajectory_milestones,
)
from budget_ledger.addresses import PostalAddress
from budget_ledger.creditors import Creditor, CreditorCategory, Frequency, Payer, PayerPeriod, Schedule
from budget_ledger.eligibility import EligibilityDecision, OntzorgingForm, PermitType, ReasonCode
from budget_ledger.errors import InvalidInputError
from budget_ledger.expected_income import Coverage, ExpectedIncome, IncomeFrequency, IncomeSource
from budget_ledger.gemeenten import PeriodAnchor
from budget_ledger.household_profiles import ProfileAssignment
from budget_ledger.households import Household, LeefgeldAccount, Member, MemberRole
from budget_ledger.identifiers import PaymentReference
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import PaymentDayRule
from budget_ledger.planning import ACTIVE, current_trajectory
from budget_ledger.trajectories import (
    EvaluationOutcome,
    HistoryLine,
    Milestone,
    MilestoneKind,
    Trajectory,
    TrajectoryStatus,
)

# -- the reference: the readers as they were before they were made quick ----------------------------------


def _decision(row: Any) -> EligibilityDecision:
    return EligibilityDecision(
        id=row.id, household_id=row.household_id, eligible=row.eligible, reason_code=ReasonCode(row.reason_code),
        form=OntzorgingForm(row.form), override=row.override, override_reason=row.override_reason,
        policy_reference=row.policy_reference, decided_at=row.decided_at, decided_by=row.decided_by,
    )


def _assignment(row: Any) -> ProfileAssignment:
    return ProfileAssignment(
        id=row.id, household_id=row.household_id, valid_from=row.valid_from, profile=row.profile,
        overrides=row.overrides, reason=row.reason, recorded_by=row.recorded_by, recorded_at=row.recorded_at,
    )


def _leefgeld_account(row: Any) -> LeefgeldAccount:
    return LeefgeldAccount(id=row.id, household_id=row.household_id, iban=row.iban, bic=row.bic,
                           account_holder_name=row.account_holder_name, recorded_at=row.recorded_at,
                           recorded_by=row.recorded_by)


def _address(row: Any) -> PostalAddress | None:
    if row.town is None:
        return None
    return PostalAddress(town=row.town, country=row.country, street_name=row.street_name,
                         building_number=row.building_number, postcode=row.postcode)


def _schedule(row: Any) -> Schedule:
    return Schedule(row.id, Money(row.amount_cents), Frequency(row.frequency), row.day, row.valid_from, row.valid_to)


def _by_household(items: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.household_id].append(item)
    return grouped


class Plain:
    """The readers of `SqlRegistryStore` as they were: whole tables, attribute access, Enum constructors."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def households(self, *, ids: Sequence[int] | None = None, gemeente_id: int | None = None,
                   begeleider: str | None = None, limit: int | None = None, offset: int = 0) -> list[Household]:
        query = (
            select(households, gemeenten.c.code.label("gemeente_code"))
            .join(gemeenten, gemeenten.c.id == households.c.gemeente_id)
            .order_by(households.c.id)
        )
        if ids is not None:
            query = query.where(households.c.id.in_(list(ids)))
        if gemeente_id is not None:
            query = query.where(households.c.gemeente_id == gemeente_id)
        if begeleider is not None:
            assigned = select(household_begeleiders.c.household_id).where(household_begeleiders.c.begeleider == begeleider)
            query = query.where(households.c.id.in_(assigned))
        if limit is not None:
            query = query.limit(limit).offset(offset)
        rows = list(self.conn.execute(query))
        if not rows:
            return []
        found_ids = [row.id for row in rows]
        members: dict[int, list[Member]] = defaultdict(list)
        for m in self.conn.execute(
            select(household_members).where(household_members.c.household_id.in_(found_ids)).order_by(household_members.c.id)
        ).all():
            members[m.household_id].append(Member(m.id, m.name, m.date_of_birth, MemberRole(m.role), m.joined_on))
        begeleiders: dict[int, list[str]] = defaultdict(list)
        for b in self.conn.execute(
            select(household_begeleiders)
            .where(household_begeleiders.c.household_id.in_(found_ids))
            .order_by(household_begeleiders.c.begeleider)
        ):
            begeleiders[b.household_id].append(b.begeleider)
        latest = (
            select(func.max(eligibility_decisions.c.id))
            .where(eligibility_decisions.c.household_id.in_(found_ids))
            .group_by(eligibility_decisions.c.household_id)
        )
        decisions = {
            row.household_id: _decision(row)
            for row in self.conn.execute(select(eligibility_decisions).where(eligibility_decisions.c.id.in_(latest)))
        }
        latest_account = (
            select(func.max(household_leefgeld_accounts.c.id))
            .where(household_leefgeld_accounts.c.household_id.in_(found_ids))
            .group_by(household_leefgeld_accounts.c.household_id)
        )
        leefgeld_accounts = {
            row.household_id: _leefgeld_account(row)
            for row in self.conn.execute(
                select(household_leefgeld_accounts).where(household_leefgeld_accounts.c.id.in_(latest_account)))
        }
        return [
            Household(
                id=row.id, gemeente_id=row.gemeente_id, gemeente_code=row.gemeente_code,
                permit_type=PermitType(row.permit_type), has_bijstand=row.has_bijstand,
                bijstand_start=row.bijstand_start, housing_date=row.housing_date,
                preferred_language=row.preferred_language, members=tuple(members[row.id]),
                begeleiders=tuple(begeleiders[row.id]), eligibility=decisions[row.id], created_at=row.created_at,
                created_by=row.created_by, bsn=row.bsn, leefgeld_account=leefgeld_accounts.get(row.id),
            )
            for row in rows
        ]

    def household(self, household_id: int) -> Household | None:
        found = self.households(ids=[household_id])
        return found[0] if found else None

    def profile_assignments_of(self, household_ids: Collection[int]) -> dict[int, list[ProfileAssignment]]:
        found: dict[int, list[ProfileAssignment]] = defaultdict(list)
        query = (select(household_profile_assignments)
                 .where(household_profile_assignments.c.household_id.in_(sorted(set(household_ids))))
                 .order_by(household_profile_assignments.c.id))
        for row in self.conn.execute(query):
            found[row.household_id].append(_assignment(row))
        return found

    def trajectory(self, trajectory_id: int) -> Trajectory | None:
        found = self._trajectories(trajectories.c.id == trajectory_id)
        return found[0] if found else None

    def trajectories_of(self, household_id: int) -> list[Trajectory]:
        return self._trajectories(trajectories.c.household_id == household_id)

    def trajectories_of_households(self, household_ids: Collection[int]) -> dict[int, list[Trajectory]]:
        return _by_household(self._trajectories(trajectories.c.household_id.in_(sorted(set(household_ids)))))

    def _trajectories(self, condition: Any) -> list[Trajectory]:
        rows = list(self.conn.execute(select(trajectories).where(condition).order_by(trajectories.c.id)))
        if not rows:
            return []
        ids = [row.id for row in rows]
        milestones: dict[int, list[Milestone]] = defaultdict(list)
        for m in self.conn.execute(
            select(trajectory_milestones)
            .where(trajectory_milestones.c.trajectory_id.in_(ids))
            .order_by(trajectory_milestones.c.due_on, trajectory_milestones.c.id)
        ).all():
            milestones[m.trajectory_id].append(
                Milestone(m.id, MilestoneKind(m.kind), m.due_from, m.due_on, m.completed_on,
                          EvaluationOutcome(m.outcome) if m.outcome else None, m.note, m.recorded_by)
            )
        history: dict[int, list[HistoryLine]] = defaultdict(list)
        for h in self.conn.execute(
            select(trajectory_history).where(trajectory_history.c.trajectory_id.in_(ids)).order_by(trajectory_history.c.id)
        ).all():
            history[h.trajectory_id].append(
                HistoryLine(h.at, h.actor, h.action,
                            TrajectoryStatus(h.from_status) if h.from_status else None,
                            TrajectoryStatus(h.to_status) if h.to_status else None,
                            h.details or {})
            )
        return [
            Trajectory(
                id=row.id, household_id=row.household_id, anchor=PeriodAnchor(row.anchor), start_date=row.start_date,
                minimum_last_day=row.minimum_last_day, last_day=row.last_day, status=TrajectoryStatus(row.status),
                ended_on=row.ended_on, version=row.version, milestones=tuple(milestones[row.id]),
                history=tuple(history[row.id]),
            )
            for row in rows
        ]

    def creditor(self, creditor_id: int) -> Creditor | None:
        found = self._creditors(creditors.c.id == creditor_id)
        return found[0] if found else None

    def creditors_of(self, household_id: int) -> list[Creditor]:
        return self._creditors(creditors.c.household_id == household_id)

    def creditors_of_households(self, household_ids: Collection[int]) -> dict[int, list[Creditor]]:
        return _by_household(self._creditors(creditors.c.household_id.in_(sorted(set(household_ids)))))

    def _creditors(self, condition: Any) -> list[Creditor]:
        rows = list(self.conn.execute(select(creditors).where(condition).order_by(creditors.c.id)))
        if not rows:
            return []
        ids = [row.id for row in rows]
        schedules: dict[int, list[Schedule]] = defaultdict(list)
        for s in self.conn.execute(
            select(creditor_schedules).where(creditor_schedules.c.creditor_id.in_(ids)).order_by(creditor_schedules.c.valid_from)
        ).all():
            schedules[s.creditor_id].append(_schedule(s))
        payers: dict[int, list[PayerPeriod]] = defaultdict(list)
        for p in self.conn.execute(
            select(creditor_payers).where(creditor_payers.c.creditor_id.in_(ids)).order_by(creditor_payers.c.valid_from)
        ).all():
            payers[p.creditor_id].append(PayerPeriod(Payer(p.payer), p.valid_from, p.recorded_at, p.recorded_by, p.reason))
        return [
            Creditor(
                id=row.id, household_id=row.household_id, organisation=row.organisation,
                account_holder_name=row.account_holder_name, iban=row.iban, bic=row.bic,
                category=CreditorCategory(row.category),
                reference=PaymentReference.from_storage(row.reference_kind, row.reference_value),
                schedules=tuple(schedules[row.id]), payers=tuple(payers[row.id]), address=_address(row),
                address_recorded_at=row.address_recorded_at, address_recorded_by=row.address_recorded_by,
            )
            for row in rows
        ]

    def expected_income_of(self, household_id: int) -> list[ExpectedIncome]:
        return self._incomes(expected_income.c.household_id == household_id)

    def expected_income_of_households(self, household_ids: Collection[int]) -> dict[int, list[ExpectedIncome]]:
        return _by_household(self._incomes(expected_income.c.household_id.in_(sorted(set(household_ids)))))

    def expected_income(self, income_id: int) -> ExpectedIncome | None:
        found = self._incomes(expected_income.c.id == income_id)
        return found[0] if found else None

    def dependents_of_creditor(self, creditor_id: int) -> list[ExpectedIncome]:
        return self._incomes(expected_income.c.depends_on_creditor_id == creditor_id)

    def _incomes(self, condition: Any) -> list[ExpectedIncome]:
        return [
            ExpectedIncome(
                id=row.id, household_id=row.household_id, source=IncomeSource(row.source),
                amount=Money(row.amount_cents), frequency=IncomeFrequency(row.frequency),
                coverage=Coverage(row.coverage),
                payment_day=PaymentDayRule.parse(row.payment_day) if row.payment_day else None,
                entitlement_from=row.entitlement_from, valid_to=row.valid_to, conditions_met_on=row.conditions_met_on,
                first_expected_on=row.first_expected_on, first_expected_latest=row.first_expected_latest,
                depends_on_creditor_id=row.depends_on_creditor_id, payer_ibans=tuple(row.payer_ibans or ()),
                references=tuple(row.references or ()), updated_at=row.updated_at, rejected_on=row.rejected_on,
                rejection_reason=row.rejection_reason,
            )
            for row in self.conn.execute(select(expected_income).where(condition).order_by(expected_income.c.id)).all()
        ]


# -- comparing: equal values of the same types, in the same order --------------------------------------------


def assert_same(got: Any, expected: Any, path: str = "result") -> None:
    """Stricter than ==: a StrEnum equals its text and an aware datetime equals one in another zone, so the
    types and reprs are compared too, and containers element by element (order and grouping included)."""
    assert type(got) is type(expected), f"{path}: {type(got).__name__} is not {type(expected).__name__}"
    if dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            assert_same(getattr(got, field.name), getattr(expected, field.name), f"{path}.{field.name}")
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected), f"{path}: {len(got)} items, expected {len(expected)}"
        for index, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same(g, e, f"{path}[{index}]")
    elif isinstance(expected, dict):
        assert list(got) == list(expected), f"{path}: keys {list(got)}, expected {list(expected)}"
        for key in expected:
            assert_same(got[key], expected[key], f"{path}[{key!r}]")
    else:
        assert got == expected and repr(got) == repr(expected), f"{path}: {got!r}, expected {expected!r}"
        if isinstance(expected, datetime):
            assert got.tzinfo is expected.tzinfo, f"{path}: tzinfo {got.tzinfo!r}, expected {expected.tzinfo!r}"


def test_the_comparison_notices_a_changed_order_field_or_type():
    schedule = Schedule(1, Money(100), Frequency.MONTHLY, 1, date(2025, 3, 1), None)
    later = Schedule(2, Money(100), Frequency.MONTHLY, 1, date(2025, 6, 1), None)
    for wrong in ((later, schedule), (schedule, dataclasses.replace(later, day=2)),
                  (schedule, dataclasses.replace(later, frequency="monthly"))):
        with pytest.raises(AssertionError):
            assert_same(wrong, (schedule, later))
    with pytest.raises(AssertionError):
        assert_same({2: [later], 1: [schedule]}, {1: [schedule], 2: [later]})
    assert_same((schedule, later), (schedule, dataclasses.replace(later)))


# -- varied households, entered as a budgetbeheerder would -------------------------------------------------------

ADDRESS = {"street_name": "Kloosterstraat", "building_number": "12", "postcode": "6041 AB", "town": "Roermond"}


def _creditor(services, h: int, organisation: str, iban: str, category: str, valid_from: date, *,
              kind: str = "vrij", reference: str | None = None, amount: str = "650.00", frequency: str = "monthly",
              day: int | None = 1, **extra):
    return services.creditors.add(h, {
        "organisation": organisation, "account_holder_name": f"Stichting {organisation}", "iban": iban,
        "category": category, "reference_kind": kind, "reference": reference or f"{category} {organisation}",
        "schedule": {"amount": amount, "frequency": frequency, "day": day, "valid_from": valid_from}, **extra,
    }, BEHEERDER)


def build_registry(services, database) -> dict[str, list[int]]:
    """Households with members, begeleiders, decisions, leefgeld accounts, profile assignments, creditors with
    several schedules, payers and addresses, incomes of several sources, and trajectories with history."""
    gemeente(services, "roermond", rule_profile="roermond")
    gemeente(services, "hoorn", rule_profile="westfriesland", nareiziger_asiel_eligible=False)
    made: dict[str, list[int]] = {"households": [], "creditors": [], "trajectories": [], "incomes": []}

    # 1: a single statushouder with everything: two begeleiders, a nareiziger child, two leefgeld accounts.
    h1 = single(services, bsn="111222333", begeleiders=["mb.sara", "mb.aart"]).household.id
    services.households.add_member(h1, {"name": "Amanuel Tesfay", "date_of_birth": date(2019, 2, 3), "role": "kind",
                                        "joined_on": date(2025, 8, 15)}, BEHEERDER)
    services.households.set_leefgeld_account(h1, {"iban": "nl44 rabo 0123 4567 89", "account_holder_name": "Y. Tesfay"},
                                             BEHEERDER)
    services.households.set_leefgeld_account(h1, {"iban": "NL20INGB0001234567", "account_holder_name": "Y Tesfay"},
                                             "beheerder.bram")
    services.profiles.assign(h1, {"valid_from": date(2025, 3, 15), "profile": None, "reason": "eigen profiel",
                                  "overrides": {"leefgeld": {"mode": "fixed", "amount": "250.00"}}}, BEHEERDER)
    services.profiles.assign(h1, {"valid_from": date(2025, 6, 1), "profile": "westfriesland",
                                  "reason": "verhuisd naar Hoorn"}, BEHEERDER)

    huur = _creditor(services, h1, "Woonstichting Roermond", "NL91ABNA0417164300", "huur", date(2025, 6, 1),
                     address=ADDRESS)
    # Schedules entered out of date order, payers too: the readers order them by valid_from, not by id.
    services.creditors.add_schedule(huur.id, {"amount": "600.00", "frequency": "monthly", "day": 1,
                                              "valid_from": date(2025, 3, 15), "valid_to": date(2025, 5, 31)}, BEHEERDER)
    services.creditors.change_schedule(huur.id, huur.schedules[0].id, {
        "amount": "655.50", "frequency": "monthly", "day": 28, "valid_from": date(2025, 6, 1),
        "valid_to": date(2025, 12, 31)}, BEHEERDER)
    services.creditors.add_schedule(huur.id, {"amount": "40.00", "frequency": "weekly", "day": 5,
                                              "valid_from": date(2026, 1, 1)}, BEHEERDER)
    services.creditors.assign_payer(huur.id, {"payer": "client_incasso", "valid_from": date(2025, 10, 1),
                                              "reason": "Afbouw naar automatische incasso"}, BEHEERDER)
    services.creditors.assign_payer(huur.id, {"payer": "ledger", "valid_from": date(2025, 8, 1),
                                              "reason": "Toch nog even via de rekening"}, "beheerder.bram")
    zorg = _creditor(services, h1, "Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", date(2025, 3, 15),
                     kind="betalingskenmerk", reference="5000 0567 8901 2345", amount="150.00")
    energie = _creditor(services, h1, "Energie B.V.", "NL64ABNA0417164301", "energie", date(2025, 4, 1),
                        kind="rf", reference="RF18539007547034", amount="180.00", frequency="quarterly", day=31,
                        address={"street_name": "Rue Royale", "building_number": "1", "postcode": "1000",
                                 "town": "Bruxelles", "country": "be"})
    services.creditors.set_address(energie.id, None, "beheerder.bram")  # no address, but who and when are kept
    gas = _creditor(services, h1, "Gas Roermond", "NL37ABNA0417164302", "gas", date(2025, 4, 1), amount="45.00",
                    address=ADDRESS)  # the same address as the huur
    belasting = _creditor(services, h1, "Gemeente Roermond", "NL10ABNA0417164303", "gemeentelijke-belastingen",
                          date(2025, 5, 1), amount="312.00", frequency="once", day=None)
    services.creditors.set_address(belasting.id, {"town": "Roermond", "street_name": ""}, BEHEERDER)
    made["creditors"] += [huur.id, zorg.id, energie.id, gas.id, belasting.id]

    bijstand = services.income.add(h1, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 15),
                                        "payment_day": "day:25:previous", "payer_ibans": ["NL91ABNA0417164300"],
                                        "references": ["Uitkering", "Gemeente Roermond"]}, BEHEERDER)
    zorgtoeslag = services.income.add(h1, {"source": "zorgtoeslag", "amount": "131.00",
                                           "depends_on_creditor_id": zorg.id}, BEHEERDER)
    huurtoeslag = services.income.add(h1, {"source": "huurtoeslag", "amount": "330.00",
                                           "entitlement_from": date(2025, 4, 1), "first_expected_on": date(2025, 6, 20),
                                           "references": ["Belastingdienst"]}, BEHEERDER)
    services.income.record_rejection(huurtoeslag.id, {"decided_on": date(2025, 5, 2), "reason": "beschikking nul"},
                                     BEHEERDER)
    kinderbijslag = services.income.add(h1, {"source": "kinderbijslag", "amount": "634.28",
                                             "entitlement_from": date(2025, 4, 1), "valid_to": date(2026, 3, 31)},
                                        BEHEERDER)
    loon = services.income.add(h1, {"source": "loon", "amount": "600.00", "entitlement_from": date(2025, 5, 1),
                                    "payment_day": "last-business-day;offset=0", "payer_ibans": ["NL91ABNA0417164300"]},
                               BEHEERDER)
    made["incomes"] += [bijstand.id, zorgtoeslag.id, huurtoeslag.id, kinderbijslag.id, loon.id]

    first = services.trajectories.start(h1, {}, BEHEERDER)
    services.trajectories.activate(first.id, BEHEERDER)
    services.trajectories.extend(first.id, {"months": 3, "reason": "Nog niet zelfredzaam"}, BEHEERDER)
    evaluation = next(m for m in first.milestones if m.kind is MilestoneKind.EVALUATIE)
    services.trajectories.record_evaluation(first.id, {"milestone_id": evaluation.id, "completed_on": date(2025, 6, 10),
                                                       "outcome": "verlengen", "note": "gesprek gevoerd"}, BEHEERDER)
    services.trajectories.complete_training(first.id, date(2025, 7, 1), BEHEERDER)
    made["trajectories"].append(first.id)
    made["households"].append(h1)

    # 2: a couple with a child, eligible by an override (two decisions: the latest holds), its trajectory ended
    # early and a second one started.
    gemeente(services, "utrecht")
    h2 = services.households.create({
        "gemeente": "utrecht", "permit_type": "gezinsmigrant", "has_bijstand": True, "bijstand_start": date(2025, 5, 1),
        "housing_date": date(2025, 4, 20), "preferred_language": "ar", "begeleiders": ["mb.zoe"],
        "members": [{"name": "Samir Haddad", "date_of_birth": date(1990, 2, 1), "role": "aanvrager"},
                    {"name": "Lina Haddad", "date_of_birth": date(1992, 7, 9), "role": "partner"},
                    {"name": "Noor Haddad", "date_of_birth": date(2020, 1, 5), "role": "kind"}],
    }, BEHEERDER).household.id
    services.households.override_eligibility(h2, {
        "eligible": True, "form": "standaard", "reason": "Uitkering en schulden: ontzorgen is nodig (uitzondering).",
        "policy_reference": "Beleid Utrecht uitzonderingsgeval"}, BEHEERDER)
    ended = services.trajectories.start(h2, {}, BEHEERDER)
    services.trajectories.activate(ended.id, BEHEERDER)
    services.trajectories.end(ended.id, {"ended_on": date(2025, 6, 30), "handover_note": "Overgedragen aan de wijk",
                                         "early_reason": "Verhuisd naar het buitenland"}, BEHEERDER)
    second = services.trajectories.start(h2, {"start_date": date(2025, 9, 1)}, BEHEERDER)
    made["trajectories"] += [ended.id, second.id]
    h2_huur = _creditor(services, h2, "Woonstichting Utrecht", "NL80ABNA0417164304", "huur", date(2025, 5, 1),
                        amount="780.00", address=ADDRESS)
    made["creditors"].append(h2_huur.id)
    made["incomes"].append(services.income.add(h2, {"source": "bijstand", "amount": "1830.54",
                                                    "entitlement_from": date(2025, 5, 1)}, BEHEERDER).id)
    made["households"].append(h2)

    # 3: not eligible (a nareiziger in Hoorn): its creditor is paid by the client from the start.
    h3 = single(services, gemeente_code="hoorn", permit_type="nareiziger_asiel", bijstand_start=None,
                housing_date=None).household.id
    h3_energie = _creditor(services, h3, "Energie Noord", "NL53ABNA0417164305", "energie", date(2025, 5, 1),
                           amount="220.00", payer="client_incasso")
    made["creditors"].append(h3_energie.id)
    made["households"].append(h3)

    # 4: nothing but the household itself.
    made["households"].append(single(services, begeleiders=["mb.aart"]).household.id)

    # Rows the services do not write but the readers must read as before: a history line without details and
    # an income whose lists hold JSON null.
    with database.connect() as conn:
        conn.execute(insert(trajectory_history), {
            "trajectory_id": first.id, "at": datetime.fromisoformat("2025-07-02T10:00:00+02:00"), "actor": "import",
            "action": "opmerking", "from_status": None, "to_status": None, "details": None})
        conn.execute(update(expected_income).where(expected_income.c.id == kinderbijslag.id)
                     .values(payer_ibans=None, references=None))
    return made


@pytest.fixture
def registry(services, database):
    return build_registry(services, database)


def reading(database, work):
    """`work(quick, plain)` in one read-only transaction. On PostgreSQL the session's time zone is set away from
    UTC, so that both readers have to turn the driver's timestamps into UTC."""
    with database.connect(write=False) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL TIME ZONE 'Europe/Amsterdam'"))
        return work(SqlRegistryStore(conn), Plain(conn))


# -- the proof --------------------------------------------------------------------------------------------------


def test_chunks_of_households_are_read_as_before(database, registry):
    everyone = registry["households"]
    missing = max(everyone) + 1000
    chunks = [everyone, everyone[:2], everyone[2:], [everyone[1], everyone[0], everyone[1]], [missing],
              [*reversed(everyone), missing]]

    def work(quick, plain):
        for chunk in chunks:
            assert_same(quick.households(ids=chunk), plain.households(ids=chunk), f"households({chunk})")
            for reader in ("trajectories_of_households", "creditors_of_households", "expected_income_of_households",
                           "profile_assignments_of"):
                assert_same(getattr(quick, reader)(chunk), getattr(plain, reader)(chunk), f"{reader}({chunk})")
        grouped = quick.creditors_of_households(everyone)
        assert len(grouped[everyone[0]]) == 5 and len(grouped[everyone[0]][0].schedules) == 3  # a varied set
        assert grouped[everyone[3]] == []  # still a defaultdict: a household without creditors has none

    reading(database, work)


def test_the_running_trajectory_starts_are_those_of_the_trajectories_planning_would_take(database, registry):
    everyone = registry["households"]
    running = [status.value for status in ACTIVE]

    def work(quick, plain):
        for chunk in (everyone, everyone[1:2], [], [max(everyone) + 1000]):
            expected = {h: current.start_date for h, found in plain.trajectories_of_households(chunk).items()
                        if (current := current_trajectory(found)) is not None}
            got = quick.running_trajectory_starts(chunk, running)
            assert_same(dict(sorted(got.items())), dict(sorted(expected.items())), f"starts({chunk})")  # any order
        assert quick.running_trajectory_starts(everyone, ["beeindigd"]) == {everyone[1]: date(2025, 5, 1)}

    reading(database, work)


def test_households_are_listed_filtered_and_paged_as_before(database, registry):
    def work(quick, plain):
        gemeente_ids = sorted({h.gemeente_id for h in plain.households()})
        queries = [{}, {"begeleider": "mb.aart"}, {"begeleider": "mb.niemand"}, {"limit": 2}, {"limit": 2, "offset": 1},
                   *({"gemeente_id": g} for g in gemeente_ids), {"gemeente_id": gemeente_ids[0], "limit": 1, "offset": 1}]
        for query in queries:
            assert_same(quick.households(**query), plain.households(**query), f"households({query})")

    reading(database, work)


def test_single_households_creditors_trajectories_and_incomes_are_read_as_before(database, registry):
    def work(quick, plain):
        for h in [*registry["households"], max(registry["households"]) + 1000]:
            assert_same(quick.household(h), plain.household(h), f"household({h})")
            for reader in ("creditors_of", "trajectories_of", "expected_income_of"):
                assert_same(getattr(quick, reader)(h), getattr(plain, reader)(h), f"{reader}({h})")
        for c in [*registry["creditors"], max(registry["creditors"]) + 1000]:
            assert_same(quick.creditor(c), plain.creditor(c), f"creditor({c})")
            assert_same(quick.dependents_of_creditor(c), plain.dependents_of_creditor(c), f"dependents({c})")
        for t in [*registry["trajectories"], max(registry["trajectories"]) + 1000]:
            assert_same(quick.trajectory(t), plain.trajectory(t), f"trajectory({t})")
        for i in [*registry["incomes"], max(registry["incomes"]) + 1000]:
            assert_same(quick.expected_income(i), plain.expected_income(i), f"expected_income({i})")

    reading(database, work)


def test_an_empty_list_of_households_reads_nothing(database, registry):
    def work(quick, plain):
        assert_same(quick.households(ids=[]), plain.households(ids=[]))
        for reader in ("trajectories_of_households", "creditors_of_households", "expected_income_of_households",
                       "profile_assignments_of"):
            got = getattr(quick, reader)([])
            assert_same(got, getattr(plain, reader)([]), reader)
            assert got == {}

    reading(database, work)


def test_an_empty_registry_reads_nothing(database):
    def work(quick, plain):
        assert_same(quick.households(), plain.households())
        assert_same(quick.creditors_of_households([1, 2]), plain.creditors_of_households([1, 2]))
        assert quick.trajectory(1) is None and quick.creditor(1) is None and quick.expected_income(1) is None

    reading(database, work)


@pytest.mark.parametrize("table, column, value, error", [
    (creditors, "category", "boodschappen", ValueError),
    (creditors, "reference_kind", "iban", InvalidInputError),
    (creditor_schedules, "frequency", "daily", ValueError),
    (trajectories, "status", "zwevend", ValueError),
    (trajectory_milestones, "outcome", "misschien", ValueError),
    (expected_income, "coverage", "alles", ValueError),
    (expected_income, "payment_day", "someday", InvalidInputError),
    (households, "permit_type", "toerist", ValueError),
])
def test_a_stored_value_the_code_does_not_know_fails_as_before(database, registry, table, column, value, error):
    with database.connect() as conn:
        conn.execute(update(table).values({column: value}))
    household = registry["households"][0]

    def read(store):
        store.households(ids=[household])
        store.creditors_of_households([household])
        store.trajectories_of_households([household])
        store.expected_income_of_households([household])

    def work(quick, plain):
        with pytest.raises(error) as expected:
            read(plain)
        with pytest.raises(error) as got:
            read(quick)
        assert str(got.value) == str(expected.value)

    reading(database, work)
