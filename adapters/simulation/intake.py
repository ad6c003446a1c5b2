"""Entering the simulated world through the services, as a budgetbeheerder enters a real household.

The same calls the API and the CLI make: gemeenten with their settings, then per household its members
and eligibility (its accounts open with it), the client's own account for leefgeld, creditors with dated schedules and payers, the expected
income (the real toeslag lag is not told: the beheerder expects the gemeente's estimate), a per-household
profile override where the case has one, and the ontzorgtraject, registered and activated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from budget_ledger.adapters.simulation.households import HouseholdCase, IncomeCase, World
from budget_ledger.expected_income import ExpectedIncome
from budget_ledger.rules.profiles import CostCategory
from budget_ledger.services import Services

BEHEERDER = "sim.beheerder"

OPT_OUT = {
    "eligible": True, "form": "geen",
    "reason": "Brede intake: financieel zelfredzaam; Vluchtelingenwerk helpt met automatische incasso's (S20)",
    "policy_reference": "Kamerbrief 6-4-2023 (maatwerk)",
}


@dataclass(frozen=True)
class Registered:
    """A case as the registry now knows it."""

    case: HouseholdCase
    household_id: int
    trajectory_id: int | None
    """None for an opt-out: no technical ontzorging, no trajectory to run payments for."""
    incomes: tuple[tuple[IncomeCase, ExpectedIncome], ...]


def register_gemeenten(services: Services, world: World) -> None:
    for spec in world.gemeenten:
        services.gemeenten.create({"code": spec.code, "name": spec.name,
                                   "settings": dict(world.gemeente_settings[spec.code])}, BEHEERDER)


def register(services: Services, case: HouseholdCase) -> Registered:
    data: dict[str, Any] = {
        "gemeente": case.gemeente, "permit_type": case.permit_type, "has_bijstand": True,
        "bijstand_start": case.housing_date, "housing_date": case.housing_date, "preferred_language": case.language,
        "bsn": case.bsn, "begeleiders": [case.begeleider],
        "members": [{"name": m.name, "date_of_birth": m.date_of_birth, "role": m.role} for m in case.members],
    }
    if case.opt_out:
        data["eligibility_override"] = OPT_OUT
    h = services.households.create(data, BEHEERDER).household.id
    if case.leefgeld_iban:
        services.households.set_leefgeld_account(h, {"iban": case.leefgeld_iban,
                                                     "account_holder_name": case.members[0].name}, BEHEERDER)
    zorgverzekering = None
    for creditor in case.creditors:
        added = services.creditors.add(h, {
            "organisation": creditor.organisation, "account_holder_name": creditor.account_holder_name,
            "iban": creditor.iban, "category": creditor.category.value, "reference_kind": creditor.reference_kind,
            "reference": creditor.reference, "payer": creditor.payer,
            "schedule": {"amount": str(creditor.amount), "frequency": "monthly", "day": creditor.day,
                         "valid_from": creditor.valid_from},
        }, BEHEERDER)
        if creditor.category is CostCategory.ZORGVERZEKERING and zorgverzekering is None:
            zorgverzekering = added.id
    if case.overrides:
        services.profiles.assign(h, {"valid_from": case.housing_date, "profile": None, "overrides": dict(case.overrides),
                                     "reason": "Wekelijks leefgeld op maandag, op verzoek van de klant (S12)"}, BEHEERDER)
    incomes = []
    for income in case.incomes:
        entered = income.registration()
        if income.depends_on_zorgverzekering:
            entered["depends_on_creditor_id"] = zorgverzekering
        incomes.append((income, services.income.add(h, entered, BEHEERDER)))
    trajectory_id = None
    if not case.opt_out:
        trajectory_id = services.trajectories.start(h, {}, BEHEERDER).id
        services.trajectories.activate(trajectory_id, BEHEERDER)
    return Registered(case, h, trajectory_id, tuple(incomes))
