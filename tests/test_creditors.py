"""Creditors: validated IBAN and reference, dated schedules that never overlap, and a dated payer that
moves a creditor to the client's incasso without a month paid twice or left unpaid (S10 outcome A)."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from registry import BEHEERDER, count_rows, gemeente, single

from budget_ledger.creditors import Payer
from budget_ledger.errors import InvalidInputError
from budget_ledger.ledger import Money


def creditor_data(**change):
    data = {
        "organisation": "Woonstichting De Zaak", "account_holder_name": "Stichting Woonstichting De Zaak",
        "iban": "nl91 abna 0417 1643 00", "category": "huur", "reference_kind": "vrij", "reference": "Huur Dorpsstraat 1",
        "schedule": {"amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 3, 15)},
    }
    data.update(change)
    return data


@pytest.fixture
def household(services):
    gemeente(services)
    return single(services).household


def test_a_creditor_is_stored_with_a_normalised_iban_and_a_derived_bic(services, household):
    creditor = services.creditors.add(household.id, creditor_data(), BEHEERDER)
    assert creditor.iban == "NL91ABNA0417164300"
    assert creditor.bic == "ABNANL2A"
    assert creditor.schedules[0].amount == Money.parse("650.00")
    assert creditor.payer_on(date(2025, 4, 1)) is Payer.LEDGER
    assert creditor.payer_on(date(2025, 3, 1)) is None


def test_a_betalingskenmerk_with_its_check_digit_is_kept_compact(services, household):
    creditor = services.creditors.add(household.id, creditor_data(
        category="zorgverzekering", reference_kind="betalingskenmerk", reference="5000 0567 8901 2345"), BEHEERDER)
    assert (creditor.reference.kind, creditor.reference.value) == ("betalingskenmerk", "5000056789012345")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"iban": "NL91ABNA0417164301"}, "iban"),
        ({"reference_kind": "betalingskenmerk", "reference": "5000056789012346"}, "NewCreditor"),
        ({"reference_kind": "rf", "reference": "RF19539007547034"}, "NewCreditor"),
        ({"category": "boodschappen"}, "category"),
        ({"schedule": {"amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1),
                       "valid_to": date(2025, 3, 1)}}, "schedule"),
        ({"schedule": {"amount": 650.0, "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}}, "schedule.amount"),
        ({"schedule": {"amount": "650.00", "frequency": "monthly", "day": 32, "valid_from": date(2025, 4, 1)}}, "schedule"),
    ],
)
def test_bad_creditor_input_names_the_field_and_writes_nothing(services, database, household, change, field):
    with pytest.raises(InvalidInputError) as refused:
        services.creditors.add(household.id, creditor_data(**change), BEHEERDER)
    assert refused.value.problems[0].field == field
    assert count_rows(database, "creditors") == 0 and count_rows(database, "creditor_schedules") == 0


def test_overlapping_schedules_of_one_creditor_are_refused(services, database, household):
    creditor = services.creditors.add(household.id, creditor_data(), BEHEERDER)
    with pytest.raises(InvalidInputError) as refused:
        services.creditors.add_schedule(creditor.id, {"amount": "675.00", "frequency": "monthly", "day": 1,
                                                      "valid_from": date(2026, 1, 1)}, BEHEERDER)
    assert refused.value.field == "schedule.valid_from" and "overlaps" in refused.value.message
    assert count_rows(database, "creditor_schedules") == 1

    first = creditor.schedules[0]
    services.creditors.change_schedule(creditor.id, first.id, {"amount": "650.00", "frequency": "monthly", "day": 1,
                                       "valid_from": date(2025, 3, 15), "valid_to": date(2025, 12, 31)}, BEHEERDER)
    raised = services.creditors.add_schedule(creditor.id, {"amount": "675.00", "frequency": "monthly", "day": 1,
                                                           "valid_from": date(2026, 1, 1)}, BEHEERDER)
    assert [(d, str(a)) for d, a, _ in raised.due_dates(date(2025, 12, 1), date(2026, 1, 31))] == [
        (date(2025, 12, 1), "650.00"), (date(2026, 1, 1), "675.00")]


def test_due_dates_on_day_31_fall_on_the_last_day_of_short_months(services, household):
    creditor = services.creditors.add(household.id, creditor_data(
        schedule={"amount": "20.00", "frequency": "monthly", "day": 31, "valid_from": date(2025, 1, 1)}), BEHEERDER)
    dates = [d for d, _, _ in creditor.due_dates(date(2025, 1, 1), date(2025, 4, 30))]
    assert dates == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]


def test_weekly_and_quarterly_and_once(services, household):
    weekly = services.creditors.add(household.id, creditor_data(category="overig", schedule={
        "amount": "5.00", "frequency": "weekly", "day": 1, "valid_from": date(2025, 3, 1)}), BEHEERDER)
    assert [d for d, _, _ in weekly.due_dates(date(2025, 3, 1), date(2025, 3, 31))] == [
        date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17), date(2025, 3, 24), date(2025, 3, 31)]
    quarterly = services.creditors.add(household.id, creditor_data(category="water", schedule={
        "amount": "60.00", "frequency": "quarterly", "day": 15, "valid_from": date(2025, 2, 1)}), BEHEERDER)
    assert [d for d, _, _ in quarterly.due_dates(date(2025, 1, 1), date(2025, 12, 31))] == [
        date(2025, 2, 15), date(2025, 5, 15), date(2025, 8, 15), date(2025, 11, 15)]
    once = services.creditors.add(household.id, creditor_data(category="overig", schedule={
        "amount": "99.00", "frequency": "once", "valid_from": date(2025, 6, 3)}), BEHEERDER)
    assert [d for d, _, _ in once.due_dates(date(2025, 1, 1), date(2025, 12, 31))] == [date(2025, 6, 3)]


def test_s10_outcome_a_staged_afbouw_leaves_no_month_paid_twice_or_unpaid(services, household):
    energie = services.creditors.add(household.id, creditor_data(category="energie", schedule={
        "amount": "180.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}), BEHEERDER)
    zorg = services.creditors.add(household.id, creditor_data(category="zorgverzekering", schedule={
        "amount": "150.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}), BEHEERDER)
    huur = services.creditors.add(household.id, creditor_data(schedule={
        "amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}), BEHEERDER)
    for creditor, moves_on in ((energie, date(2025, 9, 1)), (zorg, date(2025, 10, 1)), (huur, date(2025, 10, 1))):
        services.creditors.assign_payer(creditor.id, {"payer": "client_incasso", "valid_from": moves_on,
                                                      "reason": "Afbouw naar automatische incasso"}, BEHEERDER)

    for creditor in services.creditors.of_household(household.id):
        months = {}
        for due, _, payer in creditor.due_dates(date(2025, 4, 1), date(2025, 12, 31)):
            months.setdefault((due.year, due.month), []).append(payer)
        expected = {(d.year, d.month) for d in (date(2025, 4, 1) + relativedelta(months=n) for n in range(9))}
        assert set(months) == expected, "a month without a payer"
        assert all(len(payers) == 1 and payers[0] is not None for payers in months.values()), "a month paid twice"
    energie_now = services.creditors.get(energie.id)
    assert energie_now.payer_on(date(2025, 8, 31)) is Payer.LEDGER
    assert energie_now.payer_on(date(2025, 9, 1)) is Payer.CLIENT_INCASSO
    assert energie_now.payers[-1].reason == "Afbouw naar automatische incasso"


def test_a_second_payer_on_the_same_day_is_refused(services, household):
    creditor = services.creditors.add(household.id, creditor_data(), BEHEERDER)
    with pytest.raises(InvalidInputError) as refused:
        services.creditors.assign_payer(creditor.id, {"payer": "client_incasso", "valid_from": date(2025, 3, 15),
                                                      "reason": "zelfde dag"}, BEHEERDER)
    assert refused.value.field == "valid_from"


# -- postal addresses for the bank file ----------------------------------------------------------------


def test_a_creditor_address_is_stored_structured_with_the_postcode_in_postnl_form(services, household):
    creditor = services.creditors.add(household.id, creditor_data(address={
        "street_name": "Dijk", "building_number": "44", "postcode": "1601gk", "town": "Enkhuizen"}), BEHEERDER)
    address = services.creditors.get(creditor.id).address
    assert (address.street_name, address.building_number, address.postcode, address.town, address.country) == (
        "Dijk", "44", "1601 GK", "Enkhuizen", "NL")
    assert creditor.address_recorded_by == BEHEERDER and creditor.address_recorded_at is not None
    # Without one, none: the address is optional.
    assert services.creditors.add(household.id, creditor_data(), BEHEERDER).address is None


def test_a_creditor_address_is_changed_and_cleared_with_who_and_when(services, household):
    creditor = services.creditors.add(household.id, creditor_data(), BEHEERDER)
    changed = services.creditors.set_address(
        creditor.id, {"street_name": "Rue Royale", "building_number": "1", "postcode": "1000", "town": "Bruxelles",
                      "country": "be"}, "beheerder.bram")
    assert changed.address.country == "BE" and changed.address.postcode == "1000"  # no Dutch rule abroad
    assert changed.address_recorded_by == "beheerder.bram"
    only_town = services.creditors.set_address(creditor.id, {"town": "Utrecht", "street_name": ""}, BEHEERDER)
    assert (only_town.address.town, only_town.address.country, only_town.address.street_name) == ("Utrecht", "NL", None)
    assert services.creditors.set_address(creditor.id, None, BEHEERDER).address is None


@pytest.mark.parametrize(
    "address, field",
    [
        ({"postcode": "0601 GK", "town": "Enkhuizen"}, "address.postcode"),  # no Dutch postcode starts with 0
        ({"postcode": "1601 SS", "town": "Enkhuizen"}, "address.postcode"),  # SA, SD, SS are not issued
        ({"postcode": "16011 GK", "town": "Enkhuizen"}, "address.postcode"),
        ({"postcode": "1601 GK", "town": "Enkhuizen", "country": "Nederland"}, "address.country"),
        ({"town": "Enkhuizen", "country": "XX"}, "address.country"),
        ({"street_name": "Dijk", "building_number": "44"}, "address.town"),
        ({"town": "Enkhuizen", "building_number": "1" * 17}, "address.building_number"),
        ({"town": "Enkhuizen", "pobox": "12"}, "address.pobox"),
    ],
)
def test_a_bad_address_names_the_field_and_writes_nothing(services, database, household, address, field):
    with pytest.raises(InvalidInputError) as refused:
        services.creditors.add(household.id, creditor_data(address=address), BEHEERDER)
    assert refused.value.problems[0].field == field
    assert count_rows(database, "creditors") == 0 and count_rows(database, "creditor_schedules") == 0


@pytest.mark.parametrize(
    "address, field",
    [({"postcode": "1601 G", "town": "Enkhuizen"}, "postcode"), ({"town": "Enkhuizen", "country": "N"}, "country")],
)
def test_a_bad_address_change_names_the_field_and_keeps_the_old_address(services, household, address, field):
    creditor = services.creditors.add(household.id, creditor_data(address={"town": "Enkhuizen", "postcode": "1601 GK"}),
                                      BEHEERDER)
    with pytest.raises(InvalidInputError) as refused:
        services.creditors.set_address(creditor.id, address, "beheerder.bram")
    assert refused.value.problems[0].field == field
    kept = services.creditors.get(creditor.id)
    assert (kept.address.postcode, kept.address_recorded_by) == ("1601 GK", BEHEERDER)
