"""The pure ledger core: money, accounts, journal entries, reversal and balances. No I/O, no imports of ours."""

from budget_ledger.ledger.accounts import Account, AccountSpec, AccountType, ledger_account_name
from budget_ledger.ledger.balances import DatedPosting, TrialBalance, balances_as_of
from budget_ledger.ledger.entries import EntryRequest, EntrySource, PostedEntry, Posting, reversal_request
from budget_ledger.ledger.errors import (
    AlreadyReversedError,
    IdempotencyConflictError,
    InsufficientFundsError,
    InvalidEntryError,
    LedgerError,
    UnbalancedEntryError,
    UnknownAccountError,
)
from budget_ledger.ledger.money import Money, MoneyError

__all__ = [
    "Account", "AccountSpec", "AccountType", "AlreadyReversedError", "DatedPosting", "EntryRequest",
    "EntrySource", "IdempotencyConflictError", "InsufficientFundsError", "InvalidEntryError", "LedgerError",
    "Money", "MoneyError", "PostedEntry", "Posting", "TrialBalance", "UnbalancedEntryError",
    "UnknownAccountError", "balances_as_of", "ledger_account_name", "reversal_request",
]
