"""Journal entries: requests to post, what a posted entry looks like, and reversals.

An entry is two or more postings whose signed amounts (debit positive) add up to zero. A request to post
carries an idempotency key; its fingerprint (`request_hash`) covers what moves money — dates, postings and
the entry it reverses — so a replay with the same key and the same money returns the original entry,
while the same key with different money is a conflict. Descriptive metadata (actor, reason, source) is
kept out of the fingerprint: a retried run with a reworded reason is still the same payment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from budget_ledger.ledger.accounts import validate_code
from budget_ledger.ledger.errors import InvalidEntryError, UnbalancedEntryError
from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value

MAX_KEY_LENGTH = 200


class EntrySource(StrEnum):
    """Where an entry came from, for the audit trail."""

    MANUAL = "manual"
    BATCH_RUN = "batch_run"
    BANK_IMPORT = "bank_import"
    SCHEDULER = "scheduler"
    REVERSAL = "reversal"
    MIGRATION = "migration"
    DEMO = "demo"


@quick_value
@dataclass(frozen=True, slots=True)
class Posting:
    """One line of an entry: an amount on an account. Positive is debit, negative is credit."""

    account: str
    amount: Money

    def __post_init__(self) -> None:
        validate_code(self.account)
        if not isinstance(self.amount, Money):
            raise InvalidEntryError(f"posting on {self.account} needs a Money amount", field="postings")
        if self.amount.cents == 0:
            raise InvalidEntryError(f"posting on {self.account} has amount zero", field="postings")


@quick_value
@dataclass(frozen=True, slots=True)
class EntryRequest:
    """A request to post one journal entry. Validated on construction; the database checks it again."""

    idempotency_key: str
    booking_date: date
    postings: tuple[Posting, ...]
    reason: str
    actor: str
    source: EntrySource = EntrySource.MANUAL
    rule: str | None = None
    value_date: date | None = None
    household_id: int | None = None
    reverses_entry_id: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)
    """`request_hash`, once it was asked for (a payment run's planning process asks, so the writer need not)."""

    def __post_init__(self) -> None:
        key = self.idempotency_key
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidEntryError(
                f"an idempotency key of 1 to {MAX_KEY_LENGTH} characters is required", field="idempotency_key"
            )
        for name in ("booking_date", "value_date"):
            value = getattr(self, name)
            if value is None and name == "value_date":
                continue
            # datetime is a subclass of date; a timestamp here would make "as of a date" ambiguous.
            if not isinstance(value, date) or isinstance(value, datetime):
                raise InvalidEntryError(f"{name} must be a calendar date", field=name)
        if not isinstance(self.postings, tuple):
            object.__setattr__(self, "postings", tuple(self.postings))
        if len(self.postings) < 2:
            raise InvalidEntryError("an entry needs at least two postings", field="postings")
        total = Money(sum([p.amount.cents for p in self.postings]))
        if total.cents != 0:
            raise UnbalancedEntryError(
                f"postings add up to {total}, not 0.00: debits and credits must balance", field="postings"
            )
        if not self.reason.strip():
            raise InvalidEntryError("every entry needs a reason a person can read", field="reason")
        if not self.actor.strip():
            raise InvalidEntryError("every entry needs an actor", field="actor")
        if type(self.source) is not EntrySource:
            object.__setattr__(self, "source", EntrySource(self.source))

    @property
    def effective_value_date(self) -> date:
        return self.value_date or self.booking_date

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(p.account for p in self.postings)

    def request_hash(self) -> str:
        if self._hash is None:  # the request is immutable, so its fingerprint is worked out once
            object.__setattr__(self, "_hash", request_fingerprint(
                self.booking_date, self.effective_value_date, self.postings, self.reverses_entry_id))
        return self._hash


def request_fingerprint(
    booking_date: date, value_date: date, postings: Iterable[Posting], reverses_entry_id: int | None
) -> str:
    """SHA-256 over the money-relevant content of an entry, independent of posting order.

    The text hashed is the compact JSON of {booking_date, value_date, postings (sorted [code, cents]
    pairs), reverses}, written out directly: account codes are validated to need no JSON escaping, and
    this is on the hot path of every posting. The bytes must never change, or stored keys stop replaying.
    """
    lines = ",".join(f'["{account}",{cents}]' for account, cents in sorted((p.account, p.amount.cents) for p in postings))
    reverses = "null" if reverses_entry_id is None else str(int(reverses_entry_id))
    canonical = (
        f'{{"booking_date":"{booking_date.isoformat()}","value_date":"{value_date.isoformat()}",'
        f'"postings":[{lines}],"reverses":{reverses}}}'
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@quick_value
@dataclass(frozen=True, slots=True)
class PostedEntry:
    """An entry as it stands in the book. Never changes once posted."""

    id: int
    idempotency_key: str
    booking_date: date
    value_date: date
    postings: tuple[Posting, ...]
    reason: str
    actor: str
    source: EntrySource
    rule: str | None
    household_id: int | None
    reverses_entry_id: int | None
    replayed: bool = False
    """True when this result is the original entry returned for a replayed request."""


def reversal_request(
    original: PostedEntry,
    *,
    actor: str,
    reason: str,
    booking_date: date,
    idempotency_key: str | None = None,
) -> EntryRequest:
    """The entry that undoes `original`: the same postings with opposite signs, pointing back at it."""
    return EntryRequest(
        idempotency_key=idempotency_key or f"reversal:{original.id}",
        booking_date=booking_date,
        value_date=booking_date,
        postings=tuple(Posting(p.account, -p.amount) for p in original.postings),
        reason=reason,
        actor=actor,
        source=EntrySource.REVERSAL,
        rule=original.rule,
        household_id=original.household_id,
        reverses_entry_id=original.id,
    )
