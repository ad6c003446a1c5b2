"""Expected income on the Dutch payment calendar: S1's rhythm of bijstand and toeslagen, and the S9 chain
where a late zorgpolis moves the zorgtoeslag."""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, count_rows, gemeente, single

from budget_ledger.errors import InvalidInputError
from budget_ledger.ledger import Money

ZORGPOLIS = {
    "organisation": "Menzis", "account_holder_name": "Menzis Zorgverzekeraar N.V.", "iban": "NL91ABNA0417164300",
    "category": "zorgverzekering", "reference_kind": "betalingskenmerk", "reference": "5000056789012345",
}


@pytest.fixture
def household(services):
    gemeente(services)
    return single(services).household


def amounts(payments):
    return [(p.due_on, str(p.amount), [m.month for m, _ in p.covers]) for _, p in payments]


def test_s1_bijstand_in_arrears_starts_pro_rata_on_the_gemeentes_day(services, household):
    services.income.add(household.id, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 15)},
                        BEHEERDER)
    payments = services.income.payments_until(household.id, date(2025, 6, 30))
    assert amounts(payments) == [
        (date(2025, 4, 1), "702.69", [3]),     # 17/31 of March, paid on the first business day of April
        (date(2025, 5, 2), "1281.38", [4]),    # 1 May is a TARGET2 closing day
        (date(2025, 6, 2), "1281.38", [5]),    # 1 June is a Sunday
    ]


def test_s1_toeslagen_arrive_late_with_the_back_payment_and_then_monthly_in_advance(services, household):
    services.income.add(household.id, {"source": "zorgtoeslag", "amount": "131.00", "conditions_met_on": date(2025, 3, 15)},
                        BEHEERDER)
    services.income.add(household.id, {"source": "huurtoeslag", "amount": "330.00", "entitlement_from": date(2025, 4, 1),
                                       "first_expected_on": date(2025, 6, 20)}, BEHEERDER)
    zorg, huur = services.income.of_household(household.id)
    assert zorg.entitlement_from == date(2025, 4, 1)
    assert zorg.first_expected_on == date(2025, 5, 20)  # 15-03 + 8 weeks → the next toeslag day
    assert zorg.first_expected_latest == date(2025, 6, 20)  # + 13 weeks, the worst case

    payments = services.income.payments_until(household.id, date(2025, 7, 31))
    assert amounts(payments) == [
        (date(2025, 5, 20), "393.00", [4, 5, 6]),
        (date(2025, 6, 20), "131.00", [7]),
        (date(2025, 6, 20), "1320.00", [4, 5, 6, 7]),
        (date(2025, 7, 21), "131.00", [8]),   # 20 July is a Sunday
        (date(2025, 7, 21), "330.00", [8]),
    ]


def test_s9_a_zorgpolis_starting_a_month_late_moves_the_zorgtoeslag(services, household):
    polis = services.creditors.add(household.id, {**ZORGPOLIS, "schedule": {
        "amount": "150.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 3, 15)}}, BEHEERDER)
    toeslag = services.income.add(household.id, {"source": "zorgtoeslag", "amount": "131.00",
                                                 "depends_on_creditor_id": polis.id}, BEHEERDER)
    assert (toeslag.entitlement_from, toeslag.first_expected_on) == (date(2025, 4, 1), date(2025, 5, 20))

    services.creditors.change_schedule(polis.id, polis.schedules[0].id, {
        "amount": "150.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 15)}, BEHEERDER)

    moved = services.income.of_household(household.id)[0]
    assert moved.conditions_met_on == date(2025, 4, 15)
    assert moved.entitlement_from == date(2025, 5, 1)
    assert moved.first_expected_on == date(2025, 6, 20)       # 15-04 + 8 weeks = 10-06 → 20-06
    assert moved.first_expected_latest == date(2025, 7, 21)   # 15-04 + 13 weeks = 15-07 → 20-07 is a Sunday
    first = services.income.payments_until(household.id, date(2025, 6, 30))
    # First paid in June: May (back), June (back) and July (in advance) in one sum.
    assert amounts(first) == [(date(2025, 6, 20), "393.00", [5, 6, 7])]


def test_s4_kinderbijslag_is_paid_after_the_quarter(services, household):
    services.income.add(household.id, {"source": "kinderbijslag", "amount": "634.28", "entitlement_from": date(2025, 4, 1)},
                        BEHEERDER)
    payments = services.income.payments_until(household.id, date(2025, 12, 31))
    assert [(p.due_on, p.amount) for _, p in payments] == [
        (date(2025, 7, 1), Money.parse("634.28")), (date(2025, 10, 1), Money.parse("634.28"))]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"source": "zorgtoeslag", "amount": "131.00"}, "NewExpectedIncome"),
        ({"source": "bijstand", "amount": "0.00", "entitlement_from": date(2025, 3, 15)}, "amount"),
        ({"source": "bijstand", "amount": 1281.38, "entitlement_from": date(2025, 3, 15)}, "amount"),
        ({"source": "loon", "amount": "600.00", "entitlement_from": date(2025, 5, 1)}, "payment_day"),
        ({"source": "bijstand", "amount": "1.00", "entitlement_from": date(2025, 3, 15), "payer_ibans": ["NL00XXXX"]}, "payer_ibans"),
        ({"source": "bijstand", "amount": "1.00", "entitlement_from": date(2025, 3, 15), "payment_day": "someday"}, "payment_day"),
        ({"source": "bijstand", "amount": "1.00", "entitlement_from": date(2025, 3, 15), "depends_on_creditor_id": 1}, "NewExpectedIncome"),
    ],
)
def test_bad_expected_income_names_the_field_and_writes_nothing(services, database, household, data, field):
    with pytest.raises(InvalidInputError) as refused:
        services.income.add(household.id, data, BEHEERDER)
    assert refused.value.problems[0].field == field
    assert count_rows(database, "expected_income") == 0
