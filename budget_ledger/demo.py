"""Demo data for the README's run command, entered through the same services as everything else.

Two gemeenten; household 1 is scenario S1 of domain.md (a single statushouder housed on Saturday
15 March 2025, first month's rent as a gift, the inrichtingskrediet bridging March and April,
zorgtoeslag first paid on 20 May and huurtoeslag on 20 June) with its creditors, expected income and
trajectory, and the figures of its table in the book. Household 2 is a couple whose bijstand covers the
fixed costs from the first month. Until the rules engine exists the entries are written out by hand
here; they are demo data, not rules.
"""

from __future__ import annotations

from datetime import date

from budget_ledger.chart import BANK, CLIENT_MONEY, household_code, organisation_accounts
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.services import Services

ACTOR = "demo"


def _entry(household: int, key: str, on: date, reason: str, debit: tuple[str, ...], credit: tuple[str, ...],
           amount: str, *, bank: int = 0) -> EntryRequest:
    """A client-side movement, plus the bank side when money enters (+1) or leaves (-1) the bank."""
    money = Money.parse(amount)
    postings = [Posting(household_code(household, *debit), money), Posting(household_code(household, *credit), -money)]
    if bank:
        postings += [Posting(BANK, money * bank), Posting(CLIENT_MONEY, -money * bank)]
    return EntryRequest(
        idempotency_key=f"demo:{household}:{key}",
        booking_date=on,
        postings=tuple(postings),
        reason=reason,
        actor=ACTOR,
        source=EntrySource.DEMO,
        household_id=household,
    )


def _s1_single_statushouder(h: int) -> list[EntryRequest]:

    def income(key: str, on: date, source: str, amount: str, reason: str) -> EntryRequest:
        return _entry(h, key, on, reason, ("basis",), ("inkomen", source), amount, bank=+1)

    def cost(key: str, on: date, category: str, amount: str, reason: str) -> EntryRequest:
        return _entry(h, key, on, reason, ("vaste-last", category), ("basis",), amount, bank=-1)

    def leefgeld(key: str, on: date, amount: str, reason: str) -> EntryRequest:
        return _entry(h, key, on, reason, ("leefgeld-uitkering",), ("basis",), amount, bank=-1)

    def bridge(key: str, on: date, amount: str, reason: str) -> EntryRequest:
        return _entry(h, key, on, reason, ("basis",), ("reservering", "inrichting"), amount)

    entries = [
        _entry(h, "krediet", date(2025, 3, 15), "Inrichtingskrediet verstrekt (leenbijstand)",
               ("reservering", "inrichting"), ("krediet", "inrichting"), "3500.00", bank=+1),
        income("gift-huur-2025-03", date(2025, 3, 15), "gift", "356.45", "Eerste huur 15-31 maart als gift van de gemeente"),
        cost("huur-2025-03", date(2025, 3, 15), "huur", "356.45", "Huur 15-31 maart"),
        bridge("brug-2025-03", date(2025, 3, 17), "202.26", "Overbrugging uit inrichtingskrediet: bijstand komt achteraf"),
        cost("zorg-2025-03", date(2025, 3, 17), "zorgverzekering", "82.26", "Zorgverzekering 15-31 maart"),
        leefgeld("leefgeld-2025-03", date(2025, 3, 17), "120.00", "Leefgeld maart (naar rato)"),
        income("bijstand-2025-03", date(2025, 4, 1), "bijstand", "702.69", "Bijstand maart (17/31), achteraf betaald"),
        bridge("brug-2025-04", date(2025, 4, 1), "527.31", "Overbrugging april uit inrichtingskrediet"),
    ]
    months = [(date(2025, 4, 1), "april"), (date(2025, 5, 1), "mei"), (date(2025, 6, 2), "juni")]
    for on, name in months:
        if name != "april":
            entries.append(income(f"bijstand-{on:%Y-%m}", on, "bijstand", "1281.38", f"Bijstand {_previous[name]}"))
        entries += [
            cost(f"huur-{on:%Y-%m}", on, "huur", "650.00", f"Huur {name}, ingehouden volgens profiel volledig"),
            cost(f"zorg-{on:%Y-%m}", on, "zorgverzekering", "150.00", f"Zorgverzekering {name}"),
            cost(f"energie-{on:%Y-%m}", on, "energie", "180.00", f"Energie {name}"),
            leefgeld(f"leefgeld-{on:%Y-%m}", on, "250.00", f"Leefgeld {name}"),
        ]
        if name == "mei":
            entries.append(income("zorgtoeslag-2025-05", date(2025, 5, 20), "zorgtoeslag", "393.00",
                                  "Zorgtoeslag april t/m juni (eerste betaling, met nabetaling)"))
    entries += [
        income("zorgtoeslag-2025-06", date(2025, 6, 20), "zorgtoeslag", "131.00", "Zorgtoeslag juli"),
        income("huurtoeslag-2025-06", date(2025, 6, 20), "huurtoeslag", "1320.00", "Huurtoeslag april t/m juli (eerste betaling)"),
    ]
    return entries


_previous = {"mei": "april", "juni": "mei"}


def _couple_with_bijstand(h: int) -> list[EntryRequest]:
    entries: list[EntryRequest] = []
    for on in (date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 2)):
        month = f"{on:%Y-%m}"
        entries += [
            _entry(h, f"bijstand-{month}", on, "Bijstand gehuwden", ("basis",), ("inkomen", "bijstand"), "1830.54", bank=+1),
            _entry(h, f"huur-{month}", on, "Huur", ("vaste-last", "huur"), ("basis",), "780.00", bank=-1),
            _entry(h, f"zorg-{month}", on, "Zorgverzekering (2 personen)", ("vaste-last", "zorgverzekering"), ("basis",),
                   "300.00", bank=-1),
            _entry(h, f"leefgeld-{month}", on, "Leefgeld", ("leefgeld-uitkering",), ("basis",), "600.00", bank=-1),
        ]
    return entries


def _register_households(services: Services) -> tuple[int, int]:
    """The registry side of the demo: gemeenten, two households, S1's creditors, income and trajectory."""
    services.gemeenten.create({"code": "roermond", "name": "Roermond", "settings": {"rule_profile": "roermond"}}, ACTOR)
    services.gemeenten.create({"code": "deventer", "name": "Deventer", "settings": {"rule_profile": "deventer"}}, ACTOR)
    s1 = services.households.create({
        "gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 3, 15),
        "housing_date": date(2025, 3, 15), "preferred_language": "ti", "bsn": "111222333", "begeleiders": ["mb.sara"],
        "members": [{"name": "Yonas Tesfay", "date_of_birth": date(1998, 6, 1), "role": "aanvrager"}],
    }, ACTOR).household
    couple = services.households.create({
        "gemeente": "deventer", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 3, 1),
        "housing_date": date(2025, 3, 1), "preferred_language": "ar", "begeleiders": ["mb.sara", "mb.joost"],
        "members": [{"name": "Amal Haddad", "date_of_birth": date(1990, 2, 11), "role": "aanvrager"},
                    {"name": "Karim Haddad", "date_of_birth": date(1988, 9, 23), "role": "partner"}],
    }, ACTOR).household
    creditors = [
        ("Woonstichting Roermond", "Stichting Woonstichting Roermond", "NL91ABNA0417164300", "huur", "vrij",
         "Huur Kloosterstraat 12", "650.00", date(2025, 3, 15)),
        ("Zorgverzekeraar", "Zorgverzekeraar U.A.", "NL20INGB0001234567", "zorgverzekering", "betalingskenmerk",
         "5000056789012345", "150.00", date(2025, 3, 15)),
        ("Energieleverancier", "Energie B.V.", "NL64ABNA0417164301", "energie", "rf", "RF18539007547034",
         "180.00", date(2025, 4, 1)),
    ]
    for organisation, holder, iban, category, kind, reference, amount, start in creditors:
        services.creditors.add(s1.id, {
            "organisation": organisation, "account_holder_name": holder, "iban": iban, "category": category,
            "reference_kind": kind, "reference": reference,
            "schedule": {"amount": amount, "frequency": "monthly", "day": 1, "valid_from": start}}, ACTOR)
    services.income.add(s1.id, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 15)}, ACTOR)
    services.income.add(s1.id, {"source": "zorgtoeslag", "amount": "131.00", "conditions_met_on": date(2025, 3, 15)}, ACTOR)
    services.income.add(s1.id, {"source": "huurtoeslag", "amount": "330.00", "entitlement_from": date(2025, 4, 1),
                                "first_expected_on": date(2025, 6, 20)}, ACTOR)
    trajectory = services.trajectories.start(s1.id, {}, ACTOR)
    services.trajectories.activate(trajectory.id, ACTOR)
    return s1.id, couple.id


def load_demo_book(services: Services) -> str:
    """Register the demo households and post their entries if the database is empty; say what happened."""
    if services.ledger.accounts() or services.gemeenten.list():
        return "the database already holds data; demo data not loaded"
    services.ledger.open_accounts(organisation_accounts())
    s1, couple = _register_households(services)
    result = services.ledger.post_many(_s1_single_statushouder(s1) + _couple_with_bijstand(couple))
    return f"{len(result.posted)} entries for 2 households in 2 gemeenten (scenario S1 and a couple on bijstand)"
