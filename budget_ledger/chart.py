"""The chart of accounts: the organisation's bank side and each household's client side.

Two sides are kept apart, as design.md asks. The bank side is what the organisation holds: its
derdengeldenrekening at the bank, money on its way out (onderweg) and unmatched bank lines, balanced by
`org:clientgelden`, the liability for all client money held. The client side is each household's own
sub-ledger, seen from the household: its basisrekening and leefgeldrekening are its assets, its loans
its liabilities, its income and fixed costs its income and expense accounts.

Money arriving for a household therefore moves both sides in one balanced entry:
    Dr org:bank:derdengelden / Cr org:clientgelden       (the bank holds more client money)
    Dr huishouden:N:basis     / Cr huishouden:N:inkomen:bijstand
so the sum of all client-money accounts always equals `org:clientgelden`, which an auditor can check.
"""

from __future__ import annotations

from budget_ledger.ledger.accounts import AccountSpec, AccountType

BANK = "org:bank:derdengelden"
IN_TRANSIT = "org:bank:onderweg"
UNMATCHED = "org:bank:ongematcht"
CLIENT_MONEY = "org:clientgelden"
GEMEENTE_RECEIVABLE = "org:gemeente:te-ontvangen"
"""Money the gemeente has put in by the rules (a gift, a toeslag voorschot) that its transfer has not
brought to the bank yet: the household can spend it as planned, and the bank account stays what the bank
says until the transfer is matched (`bank_matching`, kind `inleg-gemeente`)."""

INCOME_SOURCES = (
    "bijstand",
    "bijstand-voorschot",
    "zorgtoeslag",
    "huurtoeslag",
    "kindgebonden-budget",
    "kinderbijslag",
    "loon",
    "vakantiegeld",
    "gift",
    "overig",
)
COST_CATEGORIES = (
    "huur",
    "zorgverzekering",
    "energie",
    "gas",
    "water",
    "stadsverwarming",
    "gemeentelijke-belastingen",
    "overig",
)


def organisation_accounts() -> list[AccountSpec]:
    return [
        AccountSpec(BANK, "Derdengeldenrekening bij de bank", AccountType.ASSET),
        AccountSpec(IN_TRANSIT, "Betalingen onderweg (aangeboden, nog niet afgeschreven)", AccountType.ASSET),
        AccountSpec(UNMATCHED, "Ontvangsten nog niet toegewezen", AccountType.LIABILITY),
        AccountSpec(CLIENT_MONEY, "Gelden van cliënten (derdengelden)", AccountType.LIABILITY),
        AccountSpec(GEMEENTE_RECEIVABLE, "Inleg van de gemeente, toegezegd en nog niet ontvangen", AccountType.ASSET),
    ]


def household_code(household_id: int, *parts: str) -> str:
    return ":".join(("huishouden", str(household_id), *parts))


def household_accounts(household_id: int) -> list[AccountSpec]:
    """Every account a household gets when it is created. Client money never goes below zero."""

    def spec(name: str, label: str, kind: AccountType, *parts: str, no_overdraft: bool = False) -> AccountSpec:
        return AccountSpec(household_code(household_id, *parts), label, kind, household_id, no_overdraft)

    specs = [
        spec("basis", "Basisrekening", AccountType.ASSET, "basis", no_overdraft=True),
        spec("leefgeld", "Leefgeldrekening", AccountType.ASSET, "leefgeld", no_overdraft=True),
        spec("inrichting", "Inrichtingskrediet, nog te besteden", AccountType.ASSET, "reservering", "inrichting",
             no_overdraft=True),
        spec("vordering", "Vordering op de klant (voorgeschoten)", AccountType.ASSET, "vordering", "klant"),
        spec("krediet", "Inrichtingskrediet (lening gemeente)", AccountType.LIABILITY, "krediet", "inrichting"),
        spec("voorschot", "Voorschot toeslagen", AccountType.LIABILITY, "voorschot", "toeslag"),
        spec("leefgeld-uitkering", "Leefgeld uitgekeerd", AccountType.EXPENSE, "leefgeld-uitkering"),
    ]
    specs += [
        AccountSpec(household_code(household_id, "inkomen", source), f"Inkomen: {source}", AccountType.INCOME, household_id)
        for source in INCOME_SOURCES
    ]
    specs += [
        AccountSpec(household_code(household_id, "vaste-last", cost), f"Vaste last: {cost}", AccountType.EXPENSE,
                    household_id)
        for cost in COST_CATEGORIES
    ]
    return specs
