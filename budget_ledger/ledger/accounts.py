"""Accounts of the book: what they are, which side is their normal side, and whether they may go negative.

Balances are stored debit-positive (the sum of signed postings, debits positive). An asset or expense
account normally has a positive balance, a liability, income or equity account a negative one. "No
overdraft" therefore means: the balance never crosses zero against the account's normal side. Client
money (basisrekening, leefgeldrekening, reserveringen) carries that flag, because a budgetbeheerrekening
has no overdraft facility.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def normal_sign(self) -> int:
        """+1 for debit-normal accounts, -1 for credit-normal ones."""
        return 1 if self in (AccountType.ASSET, AccountType.EXPENSE) else -1

    @property
    def ledger_root(self) -> str:
        """The top-level name hledger recognises as this account type."""
        return _LEDGER_ROOTS[self]


_LEDGER_ROOTS = {
    AccountType.ASSET: "assets",
    AccountType.LIABILITY: "liabilities",
    AccountType.EQUITY: "equity",
    AccountType.INCOME: "revenues",
    AccountType.EXPENSE: "expenses",
}

# Codes are colon-separated segments such as "huishouden:17:basis" or "org:bank:ing-derdengelden".
# They end up as hledger account names, so no spaces (two spaces end an account name there), no
# semicolons (comments) and nothing else that ledger syntax gives a meaning.
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]*(:[a-z0-9][a-z0-9_.-]*)*$")


class AccountCodeError(ValueError):
    pass


def validate_code(code: str) -> str:
    if type(code) is str and code in _VALID_CODES:  # checked before (a str subclass is checked every time)
        return code
    if not _CODE.match(code) or len(code) > 200:
        raise AccountCodeError(
            f"account code {code!r} must be lower-case segments of letters, digits, '.', '_' or '-', "
            "separated by ':' (for example 'huishouden:17:basis')"
        )
    if type(code) is str:
        if len(_VALID_CODES) >= _VALID_CODES_MAX:  # bounded: start afresh rather than grow
            _VALID_CODES.clear()
        _VALID_CODES.add(code)
    return code


_VALID_CODES: set[str] = set()
"""Codes `validate_code` accepted: the answer for a string never changes, so a code on every posting of a
batch is matched against the pattern once. Only accepted codes are kept; a refused one is refused each time."""
_VALID_CODES_MAX = 100_000


@quick_value
@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What is needed to open an account."""

    code: str
    name: str
    type: AccountType
    household_id: int | None = None
    no_overdraft: bool = False

    def __post_init__(self) -> None:
        validate_code(self.code)
        if not self.name.strip():
            raise AccountCodeError(f"account {self.code} needs a human-readable name")


@dataclass(frozen=True, slots=True)
class Account:
    """An opened account as the ledger knows it, with its current (debit-positive) balance."""

    id: int
    code: str
    name: str
    type: AccountType
    household_id: int | None
    no_overdraft: bool
    balance: Money

    @property
    def full_name(self) -> str:
        """The name used in the plain-text export and in the balances CSV."""
        return ledger_account_name(self.type, self.code)

    def normal_balance(self) -> Money:
        """The balance seen from the account's normal side: what the client has, what we owe."""
        return self.balance * self.type.normal_sign


def ledger_account_name(account_type: AccountType, code: str) -> str:
    return f"{account_type.ledger_root}:{code}"


def would_overdraw(account_type: AccountType, no_overdraft: bool, balance_cents: int) -> bool:
    """True when a no-overdraft account would end up on the wrong side of zero."""
    return no_overdraft and balance_cents * account_type.normal_sign < 0
