"""The rules engine on a real book: S1 day by day through the planning service, on SQLite and PostgreSQL.

Income is booked as the bank statement would bring it; on each day money arrives or is due, the payment
run plans and posts everything due by then. The database's own guard (client money never below zero)
checks every step, and a second run on the same day books nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, gemeente, single

from budget_ledger.chart import BANK, CLIENT_MONEY, household_code, organisation_accounts
from budget_ledger.errors import ConflictError, NotFoundError
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.planning import Receipt, allocate_receipts

M = Money.parse

S1_OVERRIDES = {
    # S1 pays a fixed €250 leefgeld with €120 for March [SYN], and its table bridges the March leefgeld from
    # the krediet, which Roermond's seed text does not say (config/profiles/roermond.toml keeps it off).
    "leefgeld": {"mode": "fixed", "amount": "250.00", "first_month_amount": "120.00"},
    "inrichtingskrediet_overbrugging": {"leefgeld_allowed": True},
    # S1's table runs to 20 June without a krediet instalment.
    "krediet_aflossing": {"enabled": False},
}


def _bank_in(h: int, key: str, on: date, debit: tuple[str, ...], credit: tuple[str, ...], amount: str, reason: str):
    money = M(amount)
    return EntryRequest(
        idempotency_key=f"bank:{h}:{key}", booking_date=on, reason=reason, actor="bank-import",
        source=EntrySource.BANK_IMPORT, household_id=h,
        postings=(Posting(household_code(h, *debit), money), Posting(household_code(h, *credit), -money),
                  Posting(BANK, money), Posting(CLIENT_MONEY, -money)))


def income(h: int, on: date, source: str, amount: str) -> EntryRequest:
    return _bank_in(h, f"{source}-{on}", on, ("basis",), ("inkomen", source), amount, f"{source} ontvangen")


@pytest.fixture
def s1(services):
    """A single statushouder housed on Saturday 15 March 2025 in Roermond, set up as in domain.md S1."""
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services, "roermond", rule_profile="roermond")
    h = single(services).household.id
    services.profiles.assign(h, {"valid_from": date(2025, 3, 15), "profile": None, "overrides": S1_OVERRIDES,
                                 "reason": "S1: vast leefgeld, maart naar rato €120"}, BEHEERDER)
    for organisation, iban, category, amount, start in (
        ("Woonstichting Roermond", "NL91ABNA0417164300", "huur", "650.00", date(2025, 3, 15)),
        ("Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", "150.00", date(2025, 3, 15)),
        ("Energie B.V.", "NL64ABNA0417164301", "energie", "180.00", date(2025, 4, 1)),
    ):
        services.creditors.add(h, {
            "organisation": organisation, "account_holder_name": organisation, "iban": iban, "category": category,
            "reference_kind": "vrij", "reference": f"{category} Kloosterstraat 12",
            "schedule": {"amount": amount, "frequency": "monthly", "day": 1, "valid_from": start}}, BEHEERDER)
    services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 15)}, BEHEERDER)
    services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 4, 1),
                            "first_expected_on": date(2025, 5, 20)}, BEHEERDER)
    services.income.add(h, {"source": "huurtoeslag", "amount": "330.00", "entitlement_from": date(2025, 4, 1),
                            "first_expected_on": date(2025, 6, 20)}, BEHEERDER)
    trajectory = services.trajectories.start(h, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    services.ledger.post(_bank_in(h, "krediet", date(2025, 3, 15), ("reservering", "inrichting"), ("krediet", "inrichting"),
                                  "3500.00", "Inrichtingskrediet verstrekt (leenbijstand)"))
    return h


S1_DAYS = [
    (date(2025, 3, 15), []),
    (date(2025, 3, 17), []),
    (date(2025, 4, 1), [("bijstand", "702.69")]),
    (date(2025, 5, 1), [("bijstand", "1281.38")]),
    (date(2025, 5, 20), [("zorgtoeslag", "393.00")]),
    (date(2025, 6, 2), [("bijstand", "1281.38")]),
    (date(2025, 6, 20), [("zorgtoeslag", "131.00"), ("huurtoeslag", "1320.00")]),
]


def balance(services, h: int, *parts: str) -> Money:
    """Seen from the account's normal side: what the household has, or what it owes."""
    code = household_code(h, *parts)
    sign = -1 if parts[0] in ("voorschot", "krediet") else 1
    return services.ledger.balance(code) * sign


def test_s1_the_krediet_bridges_729_57_and_the_basisrekening_never_goes_below_zero(services, s1):
    h = s1
    seen_basis = []
    for day, arrivals in S1_DAYS:
        for source, amount in arrivals:
            services.ledger.post(income(h, day, source, amount))
        services.planning.run(h, day, "batch")
        seen_basis.append(balance(services, h, "basis"))
        if day == date(2025, 4, 1):
            assert balance(services, h, "reservering", "inrichting") == M("2770.43")
    assert all(not b.is_negative for b in seen_basis)

    plan = services.planning.plan(h, date(2025, 3, 15), date(2025, 6, 30))
    assert plan.movements == ()  # everything due is booked; planning again adds nothing

    with services.ledger.extract(household_id=h) as book:
        entries = list(book.entries)
    drawn = Money.sum(p.amount for e in entries if e.rule == "inrichtingskrediet_overbrugging"
                      and ":overbrugging:" in e.idempotency_key
                      for p in e.postings if p.account == household_code(h, "basis"))
    assert drawn == M("729.57")
    refilled = Money.sum(-p.amount for e in entries if ":overbrugging-terug:" in e.idempotency_key
                         for p in e.postings if p.account == household_code(h, "basis"))
    assert refilled == M("461.00")  # April's part of the zorgtoeslag (131) and of the huurtoeslag (330)
    combined = balance(services, h, "basis") + balance(services, h, "reservering", "inrichting")
    assert combined == M("4717.19")
    assert services.ledger.trial_balance().is_balanced


def test_s1_running_the_same_day_twice_books_nothing_the_second_time(services, s1):
    h = s1
    first = services.planning.run(h, date(2025, 3, 17), "batch")
    again = services.planning.run(h, date(2025, 3, 17), "batch")
    assert len(first.posted) == 6  # gift, huur, bridge + zorg, bridge + leefgeld
    assert again.posted == {} and again.plan.movements == ()


def test_every_movement_explains_itself_in_dutch_with_rule_and_key(services, s1):
    result = services.planning.run(s1, date(2025, 3, 17), "batch")
    entry = services.ledger.get_entry(result.posted[f"plan:{s1}:crediteur-1:2025-03-17"])
    assert entry.rule == "vaste_lasten"
    assert entry.reason.startswith("Huur maart 2025 (Woonstichting Roermond), ingehouden volgens profiel roermond")
    assert entry.source.value == "batch_run"


def test_a_household_without_a_running_trajectory_is_refused_and_nothing_is_written(services):
    gemeente(services, "roermond", rule_profile="roermond")
    h = single(services).household.id
    with pytest.raises(ConflictError) as refused:
        services.planning.run(h, date(2025, 4, 1), "batch")
    assert refused.value.field == "household_id"
    with pytest.raises(NotFoundError):
        services.planning.run(999, date(2025, 4, 1), "batch")


def test_a_toeslag_back_payment_is_split_over_the_months_it_covers():
    april, may, june = date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)
    expected = [(date(2025, 5, 20), ((april, M("131.00")), (may, M("131.00")), (june, M("131.00"))))]
    [inflow] = allocate_receipts([Receipt("zorgtoeslag", date(2025, 5, 20), M("393.00"))], expected)
    assert inflow.covers == ((april, M("131.00")), (may, M("131.00")), (june, M("131.00")))
    assert inflow.booked


@pytest.fixture
def s2(services):
    """S2 in Deventer: a single statushouder on bijstand from 1 March, rent and zorg from 1 April, no
    krediet, so Deventer's toeslag advance (the tussenvoorziening's voorschot) bridges the toeslag lag."""
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services, "deventer", rule_profile="deventer")
    h = single(services, gemeente_code="deventer", bijstand_start=date(2025, 3, 1), housing_date=date(2025, 3, 1)
               ).household.id
    for organisation, iban, category, amount in (("Woonbedrijf Ieder1", "NL02ABNA0123456789", "huur", "650.00"),
                                                 ("Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", "150.00")):
        services.creditors.add(h, {
            "organisation": organisation, "account_holder_name": organisation, "iban": iban, "category": category,
            "reference_kind": "vrij", "reference": f"{category} Brink 7",
            "schedule": {"amount": amount, "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}}, BEHEERDER)
    services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 1)}, BEHEERDER)
    services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 4, 1),
                            "first_expected_on": date(2025, 5, 20)}, BEHEERDER)
    huurtoeslag = services.income.add(h, {"source": "huurtoeslag", "amount": "330.00",
                                          "entitlement_from": date(2025, 4, 1), "first_expected_on": date(2025, 6, 20)},
                                      BEHEERDER)
    # Deventer advances on request (001:L2593); this client asked, so the advance is booked, not proposed.
    services.profiles.assign(h, {"valid_from": date(2025, 3, 1), "profile": None,
                                 "overrides": {"toeslag_voorschot": {"on_request": False}},
                                 "reason": "Klant heeft voorschot op zorg- en huurtoeslag aangevraagd"}, BEHEERDER)
    trajectory = services.trajectories.start(h, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    return h, huurtoeslag.id


def _run_days(services, h, days):
    for day, arrivals in days:
        for source, amount in arrivals:
            services.ledger.post(income(h, day, source, amount))
        services.planning.run(h, day, "batch")


def test_s2_the_toeslag_advance_is_repaid_only_from_the_months_it_covered(services, s2):
    h, _ = s2
    _run_days(services, h, [(date(2025, 4, 1), [("bijstand", "1281.38")]), (date(2025, 5, 2), [("bijstand", "1281.38")])])
    assert balance(services, h, "voorschot", "toeslag") == M("922.00")  # 461 for April and for May
    _run_days(services, h, [(date(2025, 5, 20), [("zorgtoeslag", "393.00")])])
    assert balance(services, h, "voorschot", "toeslag") == M("660.00")  # 262 repaid: April and May, not June
    _run_days(services, h, [(date(2025, 6, 2), [("bijstand", "1281.38")]),
                            (date(2025, 6, 20), [("zorgtoeslag", "131.00"), ("huurtoeslag", "1320.00")])])
    assert balance(services, h, "voorschot", "toeslag") == Money(0)


def test_s2_a_rejected_huurtoeslag_leaves_its_advance_owed_and_flagged_never_taken_from_leefgeld(services, s2):
    h, huurtoeslag = s2
    _run_days(services, h, [(date(2025, 4, 1), [("bijstand", "1281.38")]), (date(2025, 5, 2), [("bijstand", "1281.38")]),
                            (date(2025, 5, 20), [("zorgtoeslag", "393.00")])])
    services.income.record_rejection(huurtoeslag, {"decided_on": date(2025, 6, 10),
                                                   "reason": "Beschikking huurtoeslag: €0 (inkomen partner)"}, BEHEERDER)
    _run_days(services, h, [(date(2025, 6, 2), [("bijstand", "1281.38")]), (date(2025, 6, 20), [("zorgtoeslag", "131.00")])])
    assert balance(services, h, "voorschot", "toeslag") == M("660.00")
    plan = services.planning.plan(h, date(2025, 3, 1), date(2025, 6, 30))
    [rejected] = [f for f in plan.findings if f.kind.value == "toeslag-afgewezen"]
    assert rejected.amount == M("660.00") and rejected.severity.value == "critical"
    with services.ledger.extract(household_id=h) as book:
        repaid_from_leefgeld = [e for e in book.entries if ":voorschot-terug:huurtoeslag" in e.idempotency_key]
    assert repaid_from_leefgeld == []
    with pytest.raises(ConflictError):
        services.income.record_rejection(huurtoeslag, {"decided_on": date(2025, 6, 11), "reason": "nogmaals afgewezen"},
                                         BEHEERDER)
