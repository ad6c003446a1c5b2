"""Demo data for the README's run command, entered through the same services as everything else.

Two gemeenten. Household 1 is scenario S1 of domain.md: a single statushouder housed on Saturday 15 March
2025 in Roermond (first month's rent as a gift, the inrichtingskrediet bridging March and April,
zorgtoeslag first paid on 20 May and huurtoeslag on 20 June). Household 2 is a couple in Deventer whose
krediet bridges the March rent but, by Deventer's earmarking, not their leefgeld.

Only the bank's side is written here: the krediet and the income arriving on the days S1's table gives.
Everything paid out is planned and booked by the rules engine (`PlanningService.run`) on each of those
days, as the payment run would, so the demo book is the engine's own work.
"""

from __future__ import annotations

from datetime import date

from budget_ledger.chart import BANK, CLIENT_MONEY, household_code, organisation_accounts
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.services import Services

ACTOR = "demo"

S1_OVERRIDES = {
    # S1 pays a fixed €250 leefgeld, €120 for March [SYN], and bridges it from the krediet, which the
    # Roermond seed text does not say (config/profiles/roermond.toml keeps it off); its table has no
    # krediet instalment before July.
    "leefgeld": {"mode": "fixed", "amount": "250.00", "first_month_amount": "120.00"},
    "inrichtingskrediet_overbrugging": {"leefgeld_allowed": True},
    "krediet_aflossing": {"enabled": False},
}


def _bank(household: int, key: str, on: date, reason: str, debit: tuple[str, ...], credit: tuple[str, ...],
          amount: str) -> EntryRequest:
    """Money arriving at the bank for a household, as the statement import will book it."""
    money = Money.parse(amount)
    return EntryRequest(
        idempotency_key=f"demo:{household}:{key}",
        booking_date=on,
        postings=(Posting(household_code(household, *debit), money), Posting(household_code(household, *credit), -money),
                  Posting(BANK, money), Posting(CLIENT_MONEY, -money)),
        reason=reason,
        actor=ACTOR,
        source=EntrySource.DEMO,
        household_id=household,
    )


def _krediet(h: int, on: date, amount: str) -> EntryRequest:
    return _bank(h, "krediet", on, "Inrichtingskrediet verstrekt (leenbijstand)", ("reservering", "inrichting"),
                 ("krediet", "inrichting"), amount)


def _income(h: int, on: date, source: str, amount: str, reason: str) -> EntryRequest:
    return _bank(h, f"{source}-{on.isoformat()}", on, reason, ("basis",), ("inkomen", source), amount)


def _bank_days(s1: int, couple: int) -> list[tuple[date, list[EntryRequest]]]:
    """S1's table: what arrives on which day (bijstand in arrears, toeslagen late with back-payment).
    1 May is a TARGET2 closing day, so May's bijstand and bills fall on Friday 2 May (the table says 01-05)."""
    return [
        (date(2025, 3, 3), [_krediet(couple, date(2025, 3, 3), "2800.00")]),
        (date(2025, 3, 15), [_krediet(s1, date(2025, 3, 15), "3500.00")]),
        (date(2025, 3, 17), []),
        (date(2025, 4, 1), [_income(s1, date(2025, 4, 1), "bijstand", "702.69", "Bijstand maart (17/31), achteraf"),
                            _income(couple, date(2025, 4, 1), "bijstand", "1830.54", "Bijstand maart gehuwden")]),
        (date(2025, 5, 2), [_income(s1, date(2025, 5, 2), "bijstand", "1281.38", "Bijstand april"),
                            _income(couple, date(2025, 5, 2), "bijstand", "1830.54", "Bijstand april gehuwden")]),
        (date(2025, 5, 20), [_income(s1, date(2025, 5, 20), "zorgtoeslag", "393.00",
                                     "Zorgtoeslag april t/m juni (eerste betaling, met nabetaling)")]),
        (date(2025, 6, 2), [_income(s1, date(2025, 6, 2), "bijstand", "1281.38", "Bijstand mei"),
                            _income(couple, date(2025, 6, 2), "bijstand", "1830.54", "Bijstand mei gehuwden")]),
        (date(2025, 6, 20), [_income(s1, date(2025, 6, 20), "zorgtoeslag", "131.00", "Zorgtoeslag juli"),
                             _income(s1, date(2025, 6, 20), "huurtoeslag", "1320.00",
                                     "Huurtoeslag april t/m juli (eerste betaling)")]),
    ]


def _register_households(services: Services) -> tuple[int, int]:
    """The registry side of the demo: gemeenten, two households, S1's creditors, income and trajectory."""
    existing = {g.code for g in services.gemeenten.list()}
    for code, name in (("roermond", "Roermond"), ("deventer", "Deventer")):
        if code not in existing:  # the simulated region may have made it already
            services.gemeenten.create({"code": code, "name": name, "settings": {"rule_profile": code}}, ACTOR)
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
    services.profiles.assign(s1.id, {"valid_from": date(2025, 3, 15), "profile": None, "overrides": S1_OVERRIDES,
                                     "reason": "Scenario S1: vast leefgeld €250, maart €120, ook uit het krediet"}, ACTOR)
    for organisation, iban, category, amount in (
        ("Woonbedrijf Ieder1", "NL02ABNA0123456789", "huur", "780.00"),
        ("Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", "300.00"),
    ):
        services.creditors.add(couple.id, {
            "organisation": organisation, "account_holder_name": organisation, "iban": iban, "category": category,
            "reference_kind": "vrij", "reference": f"{category} Brink 7",
            "schedule": {"amount": amount, "frequency": "monthly", "day": 1, "valid_from": date(2025, 3, 1)}}, ACTOR)
    services.income.add(couple.id, {"source": "bijstand", "amount": "1830.54", "entitlement_from": date(2025, 3, 1)},
                        ACTOR)
    for household in (s1.id, couple.id):
        trajectory = services.trajectories.start(household, {}, ACTOR)
        services.trajectories.activate(trajectory.id, ACTOR)
    return s1.id, couple.id


def load_demo_book(services: Services, *, beside_simulation: bool = False) -> str:
    """Register the demo households and post their entries if the database is empty (or holds only the
    simulated region the demo starts with: `beside_simulation`); say what happened."""
    if not beside_simulation and (services.ledger.accounts() or services.gemeenten.list()):
        return "the database already holds data; demo data not loaded"
    if beside_simulation and any(h.aanvrager.name == "Yonas Tesfay" for h in services.households.list()):
        return "the demo households are there already"
    services.ledger.open_accounts(organisation_accounts())
    s1, couple = _register_households(services)
    posted = 0
    for day, arrivals in _bank_days(s1, couple):
        posted += len(services.ledger.post_many(arrivals).posted) if arrivals else 0
        for household in (s1, couple):
            posted += len(services.planning.run(household, day, ACTOR).posted)
    return f"{posted} entries for 2 households in 2 gemeenten (scenario S1 and a couple in Deventer)"


DEMO_AS_OF = date(2025, 6, 23)
"""The demo's book is 2025's (S1's figures are that year's): its last income arrived on 20 June 2025, so
its views read best as of a day soon after. Asked about today, the same book shows that income as long
overdue, which is what it would be."""


def demo_household(services: Services) -> int | None:
    """S1's household (Yonas Tesfay in Roermond), the one the README's examples look at."""
    return next((h.id for h in services.households.list() if h.aanvrager.name == "Yonas Tesfay"), None)


DEMO_TOKEN_LABEL = "demo"
DEMO_ACTORS = {"budgetbeheerder": "demo.beheerder", "begeleider": "mb.sara", "batch": "demo.batch",
               "auditor": "demo.auditor"}
"""Who the demo tokens act as: the begeleider is mb.sara, who is assigned to both demo households."""


def issue_demo_tokens(services: Services) -> dict[str, str]:
    """One fresh token per role, its secret by role. The demo tokens of an earlier start are revoked first,
    so only the ones just printed work: secrets are stored as digests and cannot be shown again."""
    for token in services.access.tokens():
        if token.label == DEMO_TOKEN_LABEL and token.revoked_at is None:
            services.access.revoke(token.id, ACTOR)
    return {role: services.access.issue({"actor": actor, "role": role, "label": DEMO_TOKEN_LABEL}, ACTOR)[1]
            for role, actor in DEMO_ACTORS.items()}
