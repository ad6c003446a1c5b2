"""Demo data for the README's run command: a small book posted through the normal posting service.

Household 1 is scenario S1 of domain.md (a single statushouder housed on Saturday 15 March 2025, first
month's rent as a gift, the inrichtingskrediet bridging March and April, zorgtoeslag first paid on
20 May and huurtoeslag on 20 June), with the figures of its table. Household 2 is a couple whose
bijstand covers the fixed costs from the first month. Until the rules engine exists these entries are
written out by hand here; they are demo data, not rules.
"""

from __future__ import annotations

from datetime import date

from budget_ledger.chart import BANK, CLIENT_MONEY, household_accounts, household_code, organisation_accounts
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.posting import LedgerService

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


def _s1_single_statushouder() -> list[EntryRequest]:
    h = 1

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


def _couple_with_bijstand() -> list[EntryRequest]:
    h = 2
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


def load_demo_book(ledger: LedgerService) -> str:
    """Open the demo accounts and post the demo entries if the book is empty; say what happened."""
    if ledger.accounts():
        return "the database already holds a book; demo data not loaded"
    ledger.open_accounts(organisation_accounts() + household_accounts(1) + household_accounts(2))
    result = ledger.post_many(_s1_single_statushouder() + _couple_with_bijstand())
    return f"{len(result.posted)} entries for 2 households (scenario S1 and a couple on bijstand)"
