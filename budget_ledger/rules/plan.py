"""What the rules engine returns: planned movements and findings (beancount's `(entries, errors)` shape).

A movement is a balanced set of postings on the household's own accounts, plus the direction money
crosses the bank (`Flow`), so the service can add the organisation's side. Its idempotency key is made
from (household, obligation, due date): planning the same month twice yields the same keys, and the
ledger turns the second posting into a replay (design.md §3.4).

A finding is something a person must know or decide: a shortfall, a leefgeld under the floor, a proposal
to move a creditor to the client, a creditor to hand over. Findings never move money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value
from budget_ledger.rules.profiles import CostCategory

KEY_PREFIX = "plan"


def movement_key(household_id: int, obligation: str, due_on: date) -> str:
    """plan:<household>:<obligation>:<due date>: one obligation is paid at most once per due date."""
    return f"{KEY_PREFIX}:{household_id}:{obligation}:{due_on.isoformat()}"


class Flow(StrEnum):
    OUT = "out"
    """Money leaves the organisation's bank account (a creditor, the client's own account, the gemeente)."""
    IN = "in"
    """Money the gemeente puts in (a gift, an advance)."""
    INTERNAL = "internal"
    """Between the household's own accounts (a bridge from the krediet, a reservering)."""


@quick_value
@dataclass(frozen=True, slots=True)
class Movement:
    key: str
    obligation: str
    due_on: date
    postings: tuple[tuple[str, Money], ...]
    """(account relative to the household, signed amount: positive is debit). Always balances."""
    flow: Flow
    rule: str
    reason: str
    """Dutch, for the begeleider: "Huur april, ingehouden volgens profiel Roermond"."""
    period: date | None = None
    creditor_id: int | None = None
    category: CostCategory | None = None
    booked_on: date | None = None
    """Set when the movement is caught up after its due date: the day it is booked (the run's day)."""
    amount: Money = field(init=False, repr=False, compare=False)
    """The money moved: the sum of the debits (worked out once; the policies ask for it often)."""

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise ValueError(f"movement {self.key} needs at least two postings")
        cents = [amount.cents for _, amount in self.postings]
        if sum(cents) != 0:
            raise ValueError(f"movement {self.key} does not balance")
        if 0 in cents:
            raise ValueError(f"movement {self.key} has a zero posting")
        object.__setattr__(self, "amount", Money(sum(c for c in cents if c > 0)))

    @property
    def booking_date(self) -> date:
        return self.booked_on or self.due_on

    def change(self, account: str) -> Money:
        return Money.sum(a for name, a in self.postings if name == account)


def transfer(key: str, obligation: str, due_on: date, amount: Money, *, debit: str, credit: str, flow: Flow,
             rule: str, reason: str, period: date | None = None, creditor_id: int | None = None,
             category: CostCategory | None = None) -> Movement:
    return Movement(key, obligation, due_on, ((debit, amount), (credit, -amount)), flow, rule, reason, period,
                    creditor_id, category)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class FindingKind(StrEnum):
    SHORTFALL = "tekort"
    """An obligation the basisrekening could not pay, even with every bridge the profile allows."""
    FLOOR_BREACH = "leefgeld-onder-minimum"
    PROPOSE_CLIENT_PAID = "voorstel-klant-betaalt"
    """Move a creditor to the client's own incasso so leefgeld stays above the floor (BUCH, 001:L1201)."""
    CLIENT_PAID_CREDITOR = "crediteur-hoort-bij-klant"
    """A bill arrived for a category this profile does not withhold (S3): it is not paid from the basis."""
    HANDOVER = "overdracht-incasso"
    """Afbouw: from this date the client pays this creditor by automatische incasso (S10)."""
    BRIDGE_NOT_ALLOWED = "overbrugging-niet-toegestaan"
    """The krediet may not fund this (S15): propose an advance, the voedselbank or bijzondere bijstand."""
    BRIDGE_LIMIT = "overbruggingslimiet"
    TOESLAG_REJECTED = "toeslag-afgewezen"
    ADVANCE_OUTSTANDING = "voorschot-openstaand"
    REPAYMENT_SUSPENDED = "aflossing-opgeschort"
    RESERVERING_SHORT = "reservering-ontoereikend"
    EXTRA_LEEFGELD_DAY = "extra-leefgelddag"


@quick_value
@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    severity: Severity
    on: date
    rule: str
    message: str
    """Dutch, for the budgetbeheerder and begeleider."""
    amount: Money | None = None
    creditor_id: int | None = None
    category: CostCategory | None = None
    proposals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    household_id: int
    profile: str
    start: date
    end: date
    movements: tuple[Movement, ...]
    findings: tuple[Finding, ...]

    def total(self, rule: str | None = None, *, obligation_prefix: str | None = None) -> Money:
        return Money.sum(
            m.amount for m in self.movements
            if (rule is None or m.rule == rule)
            and (obligation_prefix is None or m.obligation.startswith(obligation_prefix))
        )

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [f for f in self.findings if f.kind is kind]

    def by_rule(self, rule: str) -> list[Movement]:
        return [m for m in self.movements if m.rule == rule]
