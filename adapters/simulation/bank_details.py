"""Valid Dutch account numbers and payment references for simulated people and organisations.

Every value is drawn from the caller's `random.Random`, so the same seed gives the same IBANs, and each is
checked by the same parsers a budgetbeheerder's input goes through (budget_ledger.identifiers): a simulated
creditor is refused at the door exactly like a mistyped real one would be.
"""

from __future__ import annotations

import random

from schwifty import IBAN
from stdnum.iso7064 import mod_97_10

from budget_ledger.errors import InvalidInputError
from budget_ledger.identifiers import parse_betalingskenmerk, parse_bsn, parse_iban, parse_rf_reference

# Dutch banks with a BIC in schwifty's registry; gemeenten bank with BNG.
CLIENT_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "ASNB", "TRIO", "KNAB", "BUNQ")
GEMEENTE_BANK = "BNGH"


def iban(rng: random.Random, bank_code: str | None = None) -> str:
    """A Dutch IBAN (mod-97 correct, NL layout) at `bank_code`, or at one of the client banks."""
    bank = bank_code or rng.choice(CLIENT_BANKS)
    account = f"{rng.randrange(10**9, 10**10):010d}"
    return parse_iban(str(IBAN.generate("NL", bank_code=bank, account_code=account))).iban


def betalingskenmerk(rng: random.Random) -> str:
    """A 16-digit betalingskenmerk (check digit + 15 digits), as zorgverzekeraars print on their notes.

    Exactly one leading check digit satisfies the Betaalvereniging's weighted check: the parser finds it."""
    digits = f"{rng.randrange(10**14, 10**15):015d}"
    for check in "0123456789":
        try:
            return parse_betalingskenmerk(check + digits)
        except InvalidInputError:
            continue
    raise AssertionError("no check digit fits")  # pragma: no cover - the check has a digit for every number


def rf_reference(rng: random.Random) -> str:
    """An ISO 11649 creditor reference (RFcc + up to 21 characters), as energy suppliers use."""
    body = f"{rng.randrange(10**11, 10**12)}"
    check = mod_97_10.calc_check_digits(body + "RF")
    return parse_rf_reference(f"RF{check}{body}")


def bsn(rng: random.Random) -> str:
    """A burgerservicenummer that passes the elfproef (never a real person's on purpose: drawn at random)."""
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        if digits[0] == 0:
            continue
        check = sum((9 - i) * d for i, d in enumerate(digits)) % 11
        if check < 10:
            return parse_bsn("".join(map(str, digits)) + str(check))
