"""The rules engine: (household snapshot, rule profile, period) -> plan. Pure: no I/O, no clock.

The core only keeps time and money. It collects dated *steps* from the policies (pay a bill, transfer
leefgeld, advance a toeslag …), runs them day by day in a fixed order, and keeps the household's
balances as the plan moves them, so that no step can spend money the basisrekening does not have. How a
step pays, and where money comes from when the basisrekening is short, is asked of the policies:

- `steps(state)`      the dated things a policy wants done in the period;
- `after_inflow`      react to money arriving (repay an advance from a toeslag back-payment, S2);
- `fund(state, need)` put money on the basisrekening for a need it cannot meet (krediet bridge, S1;
                      a reservering for a one-off bill, S13);
- `finish(state)`     findings about the period as a whole (an advance still open at the end).

A new policy is a new class in `budget_ledger.rules.policies` added to the list the engine is given;
the core does not change (issue 4 §4).

Order within a day: money arriving first, then what the gemeente puts in (gift, advance), then fixed
costs in the tekort order, reserveringen, krediet aflossing, and leefgeld last, because leefgeld is
what is left (domain.md A6, S3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import IntEnum
from typing import Protocol

from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value
from budget_ledger.rules.plan import (
    Finding,
    FindingKind,
    Flow,
    Movement,
    Plan,
    Severity,
    movement_key,
    transfer,
)
from budget_ledger.rules.profiles import CostCategory, ProfileVersion
from budget_ledger.rules.snapshot import (
    BASIS,
    KREDIET_LOAN,
    KREDIET_UNSPENT,
    VOORSCHOT,
    HouseholdSnapshot,
    Inflow,
    month_start,
    reservering_account,
)


class RuleSource(Protocol):
    """A profile, or a household's profile with its overrides: a name and the version in force on a day."""

    @property
    def name(self) -> str: ...

    def version_on(self, day: date) -> ProfileVersion: ...


class Phase(IntEnum):
    RECEIPTS = 0
    GEMEENTE = 1
    FIXED_COSTS = 2
    RESERVERINGEN = 3
    AFLOSSING = 4
    LEEFGELD = 5


class NeedKind(IntEnum):
    FIXED_COST = 1
    ONE_OFF_COST = 2
    LEEFGELD = 3
    OTHER = 4


@quick_value
@dataclass(frozen=True, slots=True)
class Need:
    """A payment the basisrekening must make: what it is, for whom, and how much is still missing."""

    kind: NeedKind
    obligation: str
    due_on: date
    amount: Money
    label: str
    category: CostCategory | None = None
    period: date | None = None


@quick_value
@dataclass(frozen=True, slots=True)
class Step:
    """One dated action of one policy. `order` sorts steps of the same phase (the tekort rank for bills)."""

    day: date
    phase: Phase
    order: tuple
    key: str
    run: Callable[[PlanState], None]
    series: str | None = None
    """Steps of one series (leefgeld, aflossing, a reservering) are not caught up once a later one of the
    series is due: a missed run pays the rent it missed, but not last month's leefgeld out of this
    month's bijstand. Steps without a series (bills, advances) are always caught up."""


class Policy(Protocol):
    name: str

    def steps(self, state: PlanState) -> Iterable[Step]: ...

    def after_inflow(self, state: PlanState, inflow: Inflow) -> None: ...

    def fund(self, state: PlanState, need: Need, *, before_basis: bool) -> None: ...

    def finish(self, state: PlanState) -> None: ...


class BasePolicy:
    """Default hooks that do nothing, so a policy implements only what it is about."""

    name = "policy"

    def steps(self, state: PlanState) -> Iterable[Step]:
        return ()

    def after_inflow(self, state: PlanState, inflow: Inflow) -> None:
        return None

    def fund(self, state: PlanState, need: Need, *, before_basis: bool) -> None:
        return None

    def finish(self, state: PlanState) -> None:
        return None


def _has_hook(policy: Policy, hook: str) -> bool:
    """Whether `policy`'s `hook` may do something: anything but BasePolicy's own do-nothing method."""
    if hook in getattr(policy, "__dict__", ()):
        return True
    return getattr(type(policy), hook, None) is not getattr(BasePolicy, hook)


_LIABILITY_PREFIXES = ("krediet:", "voorschot:")
_TRACKED_PREFIXES = ("basis", "reservering:", "krediet:", "voorschot:", "leefgeld", "vordering:")


@dataclass
class PlanState:
    """The running state of one planning pass: balances as the plan moves them, and what it produced."""

    snapshot: HouseholdSnapshot
    rules: RuleSource
    start: date
    end: date
    policies: Sequence[Policy]
    movements: list[Movement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    balances: dict[str, Money] = field(default_factory=dict)
    today: date | None = None
    handovers: dict[CostCategory, date] = field(default_factory=dict)
    """Afbouw: from which day the client pays a category (filled by the afbouw policy before any bill)."""
    aflossing: dict[date, Money] = field(default_factory=dict)
    """Krediet aflossing withheld per month, once the aflossing policy has decided (0: suspended or repaid),
    so the month's leefgeld is what is really left, not what a regular instalment would leave."""
    memo: dict = field(default_factory=dict)
    """Values a policy derives from the snapshot and the rules alone (fixed for the pass), kept so they are
    derived once per pass (the leefgeld payment days)."""

    def __post_init__(self) -> None:
        opening = self.snapshot.balances
        self.balances = {
            BASIS: opening.basis,
            KREDIET_UNSPENT: opening.krediet_unspent,
            KREDIET_LOAN: opening.krediet_outstanding,
            VOORSCHOT: opening.voorschot_outstanding,
        }
        for name, amount in opening.reserveringen.items():
            self.balances[reservering_account(name)] = amount
        self._done = self.snapshot.done()
        self._withheld_of: dict[int, tuple[ProfileVersion, frozenset[CostCategory]]] = {}
        # The policies whose hook does something, in the policies' order: the others inherit BasePolicy's
        # hooks, which do nothing, so asking them changes nothing.
        self._funders = [p for p in self.policies if _has_hook(p, "fund")]
        self._inflow_hooks = [p for p in self.policies if _has_hook(p, "after_inflow")]
        self._keys: set[str] = set()
        # (obligation, due, amount, period) per rule, of earlier runs and of this pass: the policies ask for
        # their own history on every step, so it is kept up to date rather than rebuilt each time.
        self._by_rule: dict[str, list[tuple[str, date, Money, date | None]]] = defaultdict(list)
        for m in self.snapshot.history:
            self._by_rule[m.rule].append((m.obligation, m.due_on, m.amount, m.period))

    # -- reading -------------------------------------------------------------------------------

    @property
    def household_id(self) -> int:
        return self.snapshot.household_id

    def version(self, day: date | None = None) -> ProfileVersion:
        return self.rules.version_on(day or self.today or self.start)

    def balance(self, account: str) -> Money:
        return self.balances.get(account, Money(0))

    @property
    def basis(self) -> Money:
        return self.balance(BASIS)

    def in_period(self, day: date) -> bool:
        return self.start <= day <= self.end

    def in_trajectory(self, day: date) -> bool:
        trajectory = self.snapshot.trajectory
        return trajectory.start <= day <= trajectory.last_day

    def key(self, obligation: str, due_on: date) -> str:
        return movement_key(self.household_id, obligation, due_on)

    def is_done(self, key: str) -> bool:
        """Booked by an earlier run, or already planned in this one."""
        return key in self._done or key in self._keys

    def history(self, *, rule: str | None = None, obligation_prefix: str = "") -> list[tuple[str, date, Money, date | None]]:
        """(obligation, due date, amount, period) of what earlier runs booked and this pass planned."""
        rows = self._by_rule.get(rule, []) if rule is not None else [r for rows in self._by_rule.values() for r in rows]
        if not obligation_prefix:
            return list(rows)
        return [row for row in rows if row[0].startswith(obligation_prefix)]

    def handover_on(self, category: CostCategory) -> date:
        """The first day the client pays this category; without afbouw, the day after the trajectory."""
        return self.handovers.get(CostCategory(category), self.snapshot.trajectory.end_exclusive)

    def withheld(self, category: CostCategory, period: date) -> bool:
        """Whether the ledger pays `category` for the month `period`: the profile withholds it then, and
        it has not been handed over to the client yet."""
        version = self.version(max(period, self.snapshot.trajectory.start))
        # A version's withheld categories, worked out once per version for this pass (kept with the version,
        # so its id is never reused while remembered).
        found = self._withheld_of.get(id(version))
        if found is None or found[0] is not version:
            found = self._withheld_of[id(version)] = (version, version.withheld_categories())
        category = CostCategory(category)
        return category in found[1] and period < self.handovers.get(category, self.snapshot.trajectory.end_exclusive)

    # -- writing -------------------------------------------------------------------------------

    def emit(self, movement: Movement) -> None:
        if self.is_done(movement.key):
            raise ValueError(f"{movement.key} is planned twice")  # a policy bug, never a client's problem
        if movement.due_on < self.snapshot.as_of and movement.booked_on is None:
            # Caught up after its day: booked on the run's day, with money that is there now, so the
            # basisrekening is never below zero as of any date.
            movement = replace(movement, booked_on=self.snapshot.as_of)
        for account, amount in movement.postings:
            if account.startswith(_TRACKED_PREFIXES):
                sign = -1 if account.startswith(_LIABILITY_PREFIXES) else 1
                self.balances[account] = self.balance(account) + amount * sign
        self._keys.add(movement.key)
        self.movements.append(movement)
        self._by_rule[movement.rule].append((movement.obligation, movement.due_on, movement.amount, movement.period))

    def note(self, kind: FindingKind, severity: Severity, message: str, *, rule: str, on: date | None = None,
             amount: Money | None = None, creditor_id: int | None = None, category: CostCategory | None = None,
             proposals: tuple[str, ...] = ()) -> None:
        self.findings.append(Finding(kind, severity, on or self.today or self.start, rule, message, amount,
                                     creditor_id, category, proposals))

    def pay(self, need: Need, *, debit: str, rule: str, reason: str, flow: Flow = Flow.OUT,
            partial: bool = False, creditor_id: int | None = None) -> Money:
        """Pay `need` from the basisrekening, asking the funding policies when it is short.

        A bill is paid whole or not at all (a creditor paid in part is still in arrears); leefgeld may be
        paid in part (`partial`), because some money for food beats none. Returns what was paid; whatever
        could not be paid is the caller's finding to make.
        """
        for policy in self._funders:
            policy.fund(self, need, before_basis=True)
        if self.basis < need.amount:
            for policy in self._funders:
                if not self.basis < need.amount:
                    break
                policy.fund(self, need, before_basis=False)
        amount = need.amount
        if self.basis < amount:
            if not partial:
                return Money(0)
            amount = max(self.basis, Money(0))
        if amount.cents <= 0:
            return Money(0)
        self.emit(transfer(self.key(need.obligation, need.due_on), need.obligation, need.due_on, amount,
                           debit=debit, credit=BASIS, flow=flow, rule=rule, reason=reason, period=need.period,
                           creditor_id=creditor_id, category=need.category))
        return amount

    def receive(self, inflow: Inflow) -> None:
        if not inflow.booked:
            self.balances[BASIS] = self.basis + inflow.amount
        for policy in self._inflow_hooks:
            policy.after_inflow(self, inflow)


def plan(snapshot: HouseholdSnapshot, rules: RuleSource, start: date, end: date,
         policies: Sequence[Policy] | None = None) -> Plan:
    """Plan the household's movements for the days `start`..`end` (inclusive).

    Steps whose key an earlier run already booked are skipped, so planning a period again after a crash
    plans only what is missing. Inflows dated before `start` are taken as already known: only the ones
    inside the period are received, or — when booked — shown to the policies.
    """
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if policies is None:
        from budget_ledger.rules.policies import default_policies

        policies = default_policies()
    state = PlanState(snapshot, rules, start, end, policies)
    steps = [step for policy in policies for step in policy.steps(state) if state.in_period(step.day)]
    latest_due: dict[str, date] = {}
    for step in steps:
        if step.series is not None and step.day <= snapshot.as_of:
            latest_due[step.series] = max(step.day, latest_due.get(step.series, step.day))
    steps = [s for s in steps if s.series is None or not s.day < latest_due.get(s.series, s.day)]
    inflows = sorted((i for i in snapshot.inflows if state.in_period(i.on)), key=lambda i: (i.on, i.source))
    steps_on: dict[date, list[Step]] = defaultdict(list)
    for step in steps:
        steps_on[step.day].append(step)
    inflows_on: dict[date, list[Inflow]] = defaultdict(list)
    for inflow in inflows:
        inflows_on[inflow.on].append(inflow)
    for day in sorted(steps_on.keys() | inflows_on.keys()):
        state.today = day
        for inflow in inflows_on.get(day, ()):
            state.receive(inflow)
        for step in sorted(steps_on.get(day, ()), key=lambda s: (s.phase, s.order, s.key)):
            if not state.is_done(step.key):
                step.run(state)
    state.today = end
    for policy in policies:
        policy.finish(state)
    ordered = sorted(state.movements, key=lambda m: m.due_on)  # stable: same-day order is execution order
    findings = sorted(state.findings, key=lambda f: f.on)
    return Plan(snapshot.household_id, rules.name, start, end, tuple(ordered), tuple(findings))


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s month through `last`'s month."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months
