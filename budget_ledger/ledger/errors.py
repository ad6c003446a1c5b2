"""Errors of the ledger, each saying what was wrong and with which field.

The HTTP layer turns these into RFC 9457 problem details and the CLI into a message and a non-zero exit;
`field` names the input that caused it so both can point at it. None of these is ever raised for a
database failure: those are `TransientDatabaseError` (retried) or surface as themselves.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal by the ledger. `code` is stable and machine-readable."""

    code = "ledger-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidEntryError(LedgerError):
    code = "invalid-entry"


class UnbalancedEntryError(InvalidEntryError):
    code = "unbalanced-entry"


class UnknownAccountError(LedgerError):
    code = "unknown-account"


class DuplicateAccountError(LedgerError):
    code = "duplicate-account"


class InsufficientFundsError(LedgerError):
    """A no-overdraft account would go below zero. Only ever raised after reading a locked balance."""

    code = "insufficient-funds"

    def __init__(self, account_code: str, available_cents: int, requested_cents: int, *, field: str | None = None):
        from budget_ledger.ledger.money import Money

        self.account_code = account_code
        self.available = Money(available_cents)
        self.requested = Money(requested_cents)
        super().__init__(
            f"account {account_code} has {self.available} available; this entry would take {self.requested} from it",
            field=field,
        )


class IdempotencyConflictError(LedgerError):
    """The idempotency key was used before for a different request."""

    code = "idempotency-conflict"

    def __init__(self, key: str, existing_entry_id: int, *, field: str | None = "idempotency_key"):
        self.key = key
        self.existing_entry_id = existing_entry_id
        super().__init__(
            f"idempotency key {key!r} was already used for entry {existing_entry_id} with a different request",
            field=field,
        )


class AlreadyReversedError(LedgerError):
    code = "already-reversed"


class EntryNotFoundError(LedgerError):
    code = "entry-not-found"


class TransientDatabaseError(Exception):
    """A deadlock, serialization failure, lock timeout or busy database: the transaction may be retried.

    Deliberately not a LedgerError: it says nothing about the request, only about the moment.
    """


class DatabaseBusyError(Exception):
    """The bounded retries for transient database errors were used up. Nothing was written."""
