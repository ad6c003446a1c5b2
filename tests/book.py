"""A small book for tests: an organisation bank account and one household's accounts, and a terse
way to write entries as a ledger reads ("bijstand april: basis +1200.00, inkomen:bijstand -1200.00")."""

from __future__ import annotations

from datetime import date

from budget_ledger.ledger import AccountSpec, AccountType, EntryRequest, Money, Posting
from budget_ledger.posting import LedgerService

BANK = "org:bank:derdengelden"
CLIENT_MONEY = "org:clientgelden"


def household_codes(household_id: int) -> dict[str, str]:
    prefix = f"huishouden:{household_id}"
    return {
        "basis": f"{prefix}:basis",
        "leefgeld": f"{prefix}:leefgeld",
        "bijstand": f"{prefix}:inkomen:bijstand",
        "zorgtoeslag": f"{prefix}:inkomen:zorgtoeslag",
        "huur": f"{prefix}:vaste-last:huur",
        "zorgverzekering": f"{prefix}:vaste-last:zorgverzekering",
        "leefgeld-uitkering": f"{prefix}:leefgeld-uitkering",
        "krediet": f"{prefix}:krediet:inrichting",
    }


def open_book(ledger: LedgerService, households: int = 1) -> dict[int, dict[str, str]]:
    """Open the organisation's accounts and `households` households; returns the codes per household."""
    specs = [
        AccountSpec(BANK, "Derdengeldenrekening", AccountType.ASSET),
        AccountSpec(CLIENT_MONEY, "Gelden van cliënten", AccountType.LIABILITY),
    ]
    charts = {}
    for household_id in range(1, households + 1):
        c = household_codes(household_id)
        charts[household_id] = c
        specs += [
            AccountSpec(c["basis"], "Basisrekening", AccountType.ASSET, household_id, no_overdraft=True),
            AccountSpec(c["leefgeld"], "Leefgeldrekening", AccountType.ASSET, household_id, no_overdraft=True),
            AccountSpec(c["bijstand"], "Bijstand", AccountType.INCOME, household_id),
            AccountSpec(c["zorgtoeslag"], "Zorgtoeslag", AccountType.INCOME, household_id),
            AccountSpec(c["huur"], "Huur", AccountType.EXPENSE, household_id),
            AccountSpec(c["zorgverzekering"], "Zorgverzekering", AccountType.EXPENSE, household_id),
            AccountSpec(c["leefgeld-uitkering"], "Leefgeld uitgekeerd", AccountType.EXPENSE, household_id),
            AccountSpec(c["krediet"], "Inrichtingskrediet", AccountType.LIABILITY, household_id),
        ]
    ledger.open_accounts(specs)
    return charts


def entry(key: str, on: date, *lines: tuple[str, str], reason: str = "test", household_id: int | None = None) -> EntryRequest:
    """An entry from (account, "decimal amount") lines; debit positive."""
    return EntryRequest(
        idempotency_key=key,
        booking_date=on,
        postings=tuple(Posting(account, Money.parse(amount)) for account, amount in lines),
        reason=reason,
        actor="test",
        household_id=household_id,
    )


def income(key: str, on: date, codes: dict[str, str], amount: str, source: str = "bijstand") -> EntryRequest:
    """Income for a household lands on its basisrekening."""
    return entry(key, on, (codes["basis"], amount), (codes[source], f"-{amount}"), reason=f"{source} ontvangen")


def pay(key: str, on: date, codes: dict[str, str], amount: str, cost: str = "huur") -> EntryRequest:
    """A fixed cost paid from the basisrekening."""
    return entry(key, on, (codes[cost], amount), (codes["basis"], f"-{amount}"), reason=f"{cost} betaald")
