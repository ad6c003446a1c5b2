"""Households: registered with their members, decided eligible or not with a reason code, and given
their ledger accounts in the same transaction when they are to be ontzorgd technically."""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, count_rows, gemeente, single

from budget_ledger.chart import household_code
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.ledger import Money

VALID_BSN = "111222333"


def test_a_single_statushouder_gets_a_basisrekening_and_a_leefgeldrekening(services):
    gemeente(services)
    created = single(services, bsn=VALID_BSN, begeleiders=["mb.sara"])
    household = created.household

    assert household.eligibility.eligible and household.eligibility.reason_code == "ELIGIBLE_ASIEL"
    assert household.eligibility.register_status == "ontzorgd"
    assert household.aanvrager.name == "Yonas Tesfay"
    assert household.begeleiders == ("mb.sara",)
    assert created.accounts_opened > 0
    codes = {a.code for a in services.ledger.accounts(household_id=household.id)}
    assert {household_code(household.id, "basis"), household_code(household.id, "leefgeld")} <= codes
    basis = next(a for a in services.ledger.accounts(household_id=household.id) if a.code.endswith(":basis"))
    assert basis.no_overdraft and basis.balance == Money(0)


def test_the_bsn_is_masked_for_everyone_but_the_budgetbeheerder_and_never_in_a_repr(services):
    gemeente(services)
    household = single(services, bsn=VALID_BSN).household
    assert services.households.get(household.id, reveal_bsn=True).bsn == VALID_BSN
    shown = services.households.get(household.id)
    assert shown.bsn is not None and shown.bsn.endswith("333") and VALID_BSN not in shown.bsn
    assert VALID_BSN not in repr(services.households.get(household.id, reveal_bsn=True))


@pytest.mark.parametrize(
    "permit_type, has_bijstand, code",
    [
        ("gezinsmigrant", True, "E1_GEZINSMIGRANT"),
        ("nareiziger_regulier", True, "E2_NAREIZIGER_REGULIER"),
        ("asiel", False, "E3_GEEN_BIJSTAND"),
    ],
)
def test_s5_ineligible_clients_get_a_reason_code_and_no_accounts(services, permit_type, has_bijstand, code):
    gemeente(services)
    household = single(services, permit_type=permit_type, bijstand_start=date(2025, 3, 15) if has_bijstand else None).household
    assert not household.eligibility.eligible
    assert household.eligibility.reason_code == code
    assert household.eligibility.register_status == "niet_ontzorgd"
    assert services.ledger.accounts(household_id=household.id) == []


def test_the_first_household_ontzorgd_opens_the_organisations_bank_side_too(services):
    """A fresh organisation has no accounts until its first household is ontzorgd; from then on every booking
    for it finds the bank side (derdengelden, onderweg, ongematcht, clientgelden, te ontvangen van de gemeente)
    without anyone opening it by hand."""
    from budget_ledger.chart import organisation_accounts

    gemeente(services)
    assert services.ledger.accounts() == []
    household = single(services).household
    assert household.eligibility.eligible
    opened = {a.code: (a.name, a.type, a.household_id) for a in services.ledger.accounts() if a.household_id is None}
    assert opened == {spec.code: (spec.name, spec.type, None) for spec in organisation_accounts()}
    again = single(services).household  # the second changes nothing on the bank side
    assert again.id != household.id
    assert {a.code for a in services.ledger.accounts() if a.household_id is None} == set(opened)


def test_s5_a_nareiziger_with_an_asiel_permit_depends_on_the_gemeente(services):
    gemeente(services, code="hoorn", nareiziger_asiel_eligible=False)  # Westfriesland's practice
    gemeente(services, code="deventer")  # the law's reading
    in_hoorn = single(services, gemeente_code="hoorn", permit_type="nareiziger_asiel").household
    in_deventer = single(services, gemeente_code="deventer", permit_type="nareiziger_asiel").household
    assert in_hoorn.eligibility.reason_code == "E2_NAREIZIGER_ASIEL_GEMEENTE" and not in_hoorn.eligibility.eligible
    assert in_deventer.eligibility.reason_code == "ELIGIBLE_NAREIZIGER_ASIEL" and in_deventer.eligibility.eligible


def test_s5_utrecht_exception_a_gezinsmigrant_with_an_uitkering_made_eligible_by_a_documented_override(services):
    gemeente(services, code="utrecht")
    household = single(services, gemeente_code="utrecht", permit_type="gezinsmigrant").household
    decision = services.households.override_eligibility(
        household.id,
        {"eligible": True, "form": "standaard", "reason": "Uitkering en schulden: ontzorgen is nodig (uitzondering).",
         "policy_reference": "Beleid Utrecht uitzonderingsgeval"},
        BEHEERDER,
    )
    assert decision.override and decision.reason_code == "OVERRIDE_MAATWERK" and decision.eligible
    assert services.households.get(household.id).eligibility == decision
    assert services.ledger.accounts(household_id=household.id) != []
    assert [d.reason_code for d in services.households.decisions(household.id)] == ["E1_GEZINSMIGRANT", "OVERRIDE_MAATWERK"]


def test_s20_an_opt_out_at_the_intake_opens_no_basisrekening_but_counts_as_ontzorgd_in_afwijkende_vorm(services):
    gemeente(services)
    household = single(services, eligibility_override={
        "eligible": True, "form": "geen", "reason": "Financieel zelfredzaam bij de brede intake.",
        "policy_reference": "Kamerbrief 6-4-2023"}).household

    assert household.eligibility.reason_code == "OVERRIDE_OPT_OUT"
    assert household.eligibility.register_status == "ontzorgd_afwijkende_vorm"
    assert services.ledger.accounts(household_id=household.id) == []
    decisions = services.households.decisions(household.id)
    assert [d.reason_code for d in decisions] == ["ELIGIBLE_ASIEL", "OVERRIDE_OPT_OUT"]
    assert decisions[1].policy_reference == "Kamerbrief 6-4-2023" and decisions[1].override


def test_an_override_without_a_documented_reason_is_refused(services, database):
    gemeente(services)
    household = single(services).household
    with pytest.raises(InvalidInputError) as refused:
        services.households.override_eligibility(
            household.id, {"eligible": True, "form": "geen", "reason": "", "policy_reference": "Kamerbrief 6-4-2023"},
            BEHEERDER)
    assert refused.value.field == "reason"
    assert count_rows(database, "eligibility_decisions") == 1


def test_an_opt_out_household_gets_no_ledger_creditor(services):
    gemeente(services)
    household = single(services, permit_type="gezinsmigrant").household  # not eligible (E1): no ledger
    with pytest.raises(InvalidInputError) as refused:
        services.creditors.add(household.id, {
            "organisation": "Woonstichting", "account_holder_name": "Woonstichting De Zaak", "iban": "NL91ABNA0417164300",
            "category": "huur", "reference_kind": "vrij", "reference": "Huur", "payer": "ledger",
            "schedule": {"amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}},
            BEHEERDER)
    assert refused.value.field == "payer"


@pytest.mark.parametrize(
    "change, field, fragment",
    [
        ({"gemeente": "atlantis"}, "gemeente", "no gemeente"),
        ({"members": [{"name": "Kind", "date_of_birth": date(2019, 1, 1), "role": "kind"}]}, "NewHousehold", "exactly one aanvrager"),
        ({"bsn": "123456789"}, "bsn", ""),
        ({"permit_type": "toerist"}, "permit_type", ""),
        ({"members": [{"name": "X", "date_of_birth": date(2090, 1, 1), "role": "aanvrager"}]}, "members.0.date_of_birth", "future"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(services, database, change, field, fragment):
    gemeente(services)
    with pytest.raises(InvalidInputError) as refused:
        single(services, **change)
    assert refused.value.problems[0].field == field
    assert fragment in refused.value.problems[0].reason
    assert "123456789" not in str(refused.value)
    assert count_rows(database, "households") == 0 and count_rows(database, "household_members") == 0
    assert count_rows(database, "accounts") == 0


def test_an_unknown_household_is_not_found(services):
    with pytest.raises(NotFoundError):
        services.households.get(999)


def test_begeleiders_are_assigned_and_a_caseload_is_listed(services):
    gemeente(services)
    first = single(services).household
    second = single(services).household
    services.households.assign_begeleider(first.id, "mb.sara", BEHEERDER)
    services.households.assign_begeleider(first.id, "mb.sara", BEHEERDER)  # twice is once
    assert [h.id for h in services.households.list(begeleider="mb.sara")] == [first.id]
    assert [h.id for h in services.households.list(gemeente="roermond")] == [first.id, second.id]
    services.households.unassign_begeleider(first.id, "mb.sara", BEHEERDER)
    assert services.households.list(begeleider="mb.sara") == []


def test_a_second_aanvrager_is_refused_by_the_database_too(database, services):
    gemeente(services)
    household = single(services).household
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), database.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO household_members (household_id, name, date_of_birth, role) "
            f"VALUES ({household.id}, 'Tweede', '1990-01-01', 'aanvrager')"
        )


# -- the client's own leefgeld account --------------------------------------------------------------------


def test_the_leefgeld_account_is_recorded_with_who_and_when_and_a_change_is_a_new_row(services, database):
    gemeente(services)
    household = single(services, bsn=VALID_BSN).household
    assert household.leefgeld_account is None

    shown = services.households.set_leefgeld_account(
        household.id, {"iban": "nl20 ingb 0001 2345 67", "account_holder_name": "Y. Tesfay"}, BEHEERDER)
    account = shown.leefgeld_account
    assert (account.iban, account.bic, account.account_holder_name) == ("NL20INGB0001234567", "INGBNL2A", "Y. Tesfay")
    assert account.recorded_by == BEHEERDER and account.recorded_at is not None
    assert VALID_BSN not in repr(shown)  # the view returned is the masked one

    services.households.set_leefgeld_account(
        household.id, {"iban": "NL91ABNA0417164300", "account_holder_name": "Yonas Tesfay"}, "beheerder.bram")
    assert services.households.get(household.id).leefgeld_account.iban == "NL91ABNA0417164300"
    history = services.households.leefgeld_accounts(household.id)
    assert [(a.iban, a.recorded_by) for a in history] == [
        ("NL20INGB0001234567", BEHEERDER), ("NL91ABNA0417164300", "beheerder.bram")]
    # Listing many households carries each one's latest account.
    assert [h.leefgeld_account.account_holder_name for h in services.households.list(gemeente="roermond")] == [
        "Yonas Tesfay"]


def test_the_database_keeps_the_leefgeld_accounts_append_only(services, database):
    from sqlalchemy.exc import DBAPIError

    gemeente(services)
    household = single(services).household
    services.households.set_leefgeld_account(
        household.id, {"iban": "NL20INGB0001234567", "account_holder_name": "Y. Tesfay"}, BEHEERDER)
    for statement in ("UPDATE household_leefgeld_accounts SET iban = 'NL91ABNA0417164300'",
                      "DELETE FROM household_leefgeld_accounts"):
        with pytest.raises(DBAPIError), database.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert services.households.get(household.id).leefgeld_account.iban == "NL20INGB0001234567"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"iban": "NL20INGB0001234568", "account_holder_name": "Y. Tesfay"}, "iban"),  # one digit flipped
        ({"iban": "NL20 INGB 0001 2345", "account_holder_name": "Y. Tesfay"}, "iban"),  # too short
        ({"iban": "", "account_holder_name": "Y. Tesfay"}, "iban"),
        ({"iban": "NL20INGB0001234567", "account_holder_name": "  "}, "account_holder_name"),
        ({"iban": "NL20INGB0001234567"}, "account_holder_name"),
        ({"iban": "NL20INGB0001234567", "account_holder_name": "Y. Tesfay", "bic": "INGBNL2A"}, "bic"),
    ],
)
def test_a_bad_leefgeld_account_names_the_field_and_writes_nothing(services, database, data, field):
    gemeente(services)
    household = single(services).household
    with pytest.raises(InvalidInputError) as refused:
        services.households.set_leefgeld_account(household.id, data, BEHEERDER)
    assert refused.value.problems[0].field == field
    assert count_rows(database, "household_leefgeld_accounts") == 0
    assert services.households.get(household.id).leefgeld_account is None


def test_a_leefgeld_account_for_an_unknown_household_is_not_found(services, database):
    with pytest.raises(NotFoundError):
        services.households.set_leefgeld_account(
            999, {"iban": "NL20INGB0001234567", "account_holder_name": "Y. Tesfay"}, BEHEERDER)
    assert count_rows(database, "household_leefgeld_accounts") == 0
