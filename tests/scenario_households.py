"""Households of the domain scenarios, set up through the services as a budgetbeheerder would enter them.

S1 (domain.md): a single statushouder housed on Saturday 15 March 2025 in Roermond, with the first rent as
a gift and the inrichtingskrediet bridging until bijstand and toeslagen arrive.
S3: a couple in Westfriesland whose bijstand (1,830.54) pays huur 780 and two zorgverzekeringen of 150,
while the client pays energie (220) himself.
"""

from __future__ import annotations

from datetime import date

from registry import BEHEERDER, gemeente, single

from budget_ledger.chart import BANK, CLIENT_MONEY, household_code, organisation_accounts
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money

S1_OVERRIDES = {
    # S1 pays a fixed €250 leefgeld with €120 for March [SYN], and its table bridges the March leefgeld from
    # the krediet (config/profiles/roermond.toml keeps that off); no krediet instalment in S1's table.
    "leefgeld": {"mode": "fixed", "amount": "250.00", "first_month_amount": "120.00"},
    "inrichtingskrediet_overbrugging": {"leefgeld_allowed": True},
    "krediet_aflossing": {"enabled": False},
}


def bank_in(h: int, key: str, on: date, debit: tuple[str, ...], credit: tuple[str, ...], amount: str,
            reason: str) -> EntryRequest:
    """Money arriving on the organisation's bank account for household `h`, as the bank import books it."""
    money = Money.parse(amount)
    return EntryRequest(
        idempotency_key=f"bank:{h}:{key}", booking_date=on, reason=reason, actor="bank-import",
        source=EntrySource.BANK_IMPORT, household_id=h,
        postings=(Posting(household_code(h, *debit), money), Posting(household_code(h, *credit), -money),
                  Posting(BANK, money), Posting(CLIENT_MONEY, -money)))


def income_received(h: int, on: date, source: str, amount: str) -> EntryRequest:
    return bank_in(h, f"{source}-{on}", on, ("basis",), ("inkomen", source), amount, f"{source} ontvangen")


def add_creditor(services, h: int, organisation: str, iban: str, category: str, amount: str, start: date):
    return services.creditors.add(h, {
        "organisation": organisation, "account_holder_name": organisation, "iban": iban, "category": category,
        "reference_kind": "vrij", "reference": f"{category} {organisation}",
        "schedule": {"amount": amount, "frequency": "monthly", "day": 1, "valid_from": start}}, BEHEERDER)


def s1_household(services) -> int:
    """S1 up to the krediet being granted on 15-03-2025; nothing planned or paid yet."""
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services, "roermond", rule_profile="roermond")
    h = single(services).household.id
    services.profiles.assign(h, {"valid_from": date(2025, 3, 15), "profile": None, "overrides": S1_OVERRIDES,
                                 "reason": "S1: vast leefgeld, maart naar rato €120"}, BEHEERDER)
    add_creditor(services, h, "Woonstichting Roermond", "NL91ABNA0417164300", "huur", "650.00", date(2025, 3, 15))
    add_creditor(services, h, "Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", "150.00", date(2025, 3, 15))
    add_creditor(services, h, "Energie B.V.", "NL64ABNA0417164301", "energie", "180.00", date(2025, 4, 1))
    services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 15)}, BEHEERDER)
    services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 4, 1),
                            "first_expected_on": date(2025, 5, 20)}, BEHEERDER)
    services.income.add(h, {"source": "huurtoeslag", "amount": "330.00", "entitlement_from": date(2025, 4, 1),
                            "first_expected_on": date(2025, 6, 20)}, BEHEERDER)
    trajectory = services.trajectories.start(h, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    services.ledger.post(bank_in(h, "krediet", date(2025, 3, 15), ("reservering", "inrichting"),
                                 ("krediet", "inrichting"), "3500.00", "Inrichtingskrediet verstrekt (leenbijstand)"))
    return h


S3_START = date(2025, 5, 1)


def s3_couple(services) -> int:
    """S3: a couple in Hoorn (Westfriesland: huur and zorgverzekering withheld) from 1 May 2025."""
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services, "hoorn", rule_profile="westfriesland")
    created = services.households.create({
        "gemeente": "hoorn", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": S3_START,
        "housing_date": S3_START, "preferred_language": "ar",
        "members": [{"name": "Samir Haddad", "date_of_birth": date(1990, 2, 1), "role": "aanvrager"},
                    {"name": "Lina Haddad", "date_of_birth": date(1992, 7, 9), "role": "partner"}],
    }, BEHEERDER)
    h = created.household.id
    add_creditor(services, h, "Woonstichting Hoorn", "NL37ABNA0417164302", "huur", "780.00", S3_START)
    add_creditor(services, h, "Zorgverzekeraar Samir", "NL10ABNA0417164303", "zorgverzekering", "150.00", S3_START)
    add_creditor(services, h, "Zorgverzekeraar Lina", "NL80ABNA0417164304", "zorgverzekering", "150.00", S3_START)
    add_creditor(services, h, "Energie Noord", "NL53ABNA0417164305", "energie", "220.00", S3_START)
    services.income.add(h, {"source": "bijstand", "amount": "1830.54", "entitlement_from": S3_START}, BEHEERDER)
    trajectory = services.trajectories.start(h, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    return h
