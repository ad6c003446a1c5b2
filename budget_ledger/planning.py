"""Planning a household's money: from the registry and the book to the rules engine and back.

This is the one place that turns the stored world into a `HouseholdSnapshot` (creditors' bills on bank
business days, expected and received income with the months it covers, balances, what earlier plans
booked) and a plan's movements into journal entries. The payment run, the CLI and the API all plan and
post through `PlanningService`, so there is one way a rule moves money (ground rule 2).

A plan is posted in the same transaction it was made in, from balances read in that transaction: on
SQLite the writer lock is taken first (BEGIN IMMEDIATE), on PostgreSQL the posting locks the accounts,
and the idempotency keys (household, obligation, due date) make a second run a replay.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, lru_cache

from dateutil.relativedelta import relativedelta

from budget_ledger.chart import (
    CLIENT_MONEY,
    GEMEENTE_RECEIVABLE,
    IN_TRANSIT,
    household_code,
    organisation_accounts,
)
from budget_ledger.clock import Clock, system_clock
from budget_ledger.creditors import Creditor, Frequency
from budget_ledger.creditors import Payer as CreditorPayer
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.expected_income import ExpectedIncome, expected_payments
from budget_ledger.gemeenten import Gemeente
from budget_ledger.household_profiles import Merges, ProfileAssignment, ProfileCatalog, effective_version
from budget_ledger.households import Household
from budget_ledger.ledger.accounts import AccountSpec, AccountType
from budget_ledger.ledger.entries import EntryRequest, EntrySource, PostedEntry, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value
from budget_ledger.payment_calendar import DEFAULT_CALENDAR, PaymentCalendar
from budget_ledger.ports import UnitOfWork
from budget_ledger.posting import BulkResult, open_accounts_in, post_in
from budget_ledger.rules.engine import plan as make_plan
from budget_ledger.rules.plan import KEY_PREFIX, Flow, Movement, Plan
from budget_ledger.rules.profiles import CostCategory, Profile, ProfileVersion, Toeslag
from budget_ledger.rules.snapshot import (
    Balances,
    Bill,
    BusinessDays,
    HouseholdSnapshot,
    Inflow,
    Krediet,
    PastMovement,
    Payer,
    ToeslagExpectation,
    month_end,
    month_start,
    pro_rata_from,
)
from budget_ledger.rules.snapshot import Trajectory as TrajectoryWindow
from budget_ledger.trajectories import Trajectory, TrajectoryStatus
from budget_ledger.transactions import Transactions

ACTIVE = (TrajectoryStatus.AANGEMELD, TrajectoryStatus.ACTIEF, TrajectoryStatus.VERLENGD, TrajectoryStatus.IN_AFBOUW)
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_TOESLAGEN = frozenset(t.value for t in Toeslag)
_PAYERS = {CreditorPayer.LEDGER: Payer.LEDGER, CreditorPayer.CLIENT_INCASSO: Payer.CLIENT}


MovementFilter = Callable[[Movement], bool]
"""Which of a plan's movements to book now (the rest is planned again, and booked, by a later run)."""


class HouseholdRules:
    """The engine's `RuleSource` for one household: its gemeente's profile with its own assignments."""

    def __init__(self, gemeente_profile: Profile, catalog: ProfileCatalog, assignments: Sequence[ProfileAssignment],
                 *, force_profile: Profile | None = None, merges: Merges | None = None) -> None:
        self._gemeente = gemeente_profile
        self._catalog = catalog
        self._assignments = tuple(assignments)
        self._forced = force_profile
        self.name = force_profile.name if force_profile else self._latest_name()
        self.version_on = cache(self._version_on)
        self._merged: dict = {}
        """effective_version's memo: one validation per (assignment, profile version), not one per day."""
        self._merges = merges
        """The planning service's merged versions by content, shared by the households it plans."""

    def _latest_name(self) -> str:
        if not self._assignments:
            return self._gemeente.name
        latest = max(self._assignments, key=lambda a: (a.valid_from, a.recorded_at, a.id))
        return latest.profile or self._gemeente.name

    def _version_on(self, day: date) -> ProfileVersion:
        if self._forced is not None:
            return self._forced.version_on(day)
        return effective_version(self._gemeente, self._catalog, self._assignments, day, memo=self._merged,
                                 merges=self._merges).version


class _MemoCalendar:
    """A payment calendar's business days, remembered per date for one planning service (the calendar is
    immutable, so an answer never changes; a refused date is refused again, never remembered)."""

    __slots__ = ("_calendar", "_next", "_is")

    def __init__(self, calendar: PaymentCalendar) -> None:
        self._calendar = calendar
        self._next: dict[date, date] = {}
        self._is: dict[date, bool] = {}

    def next_business_day(self, d: date) -> date:
        if type(d) is not date:  # a datetime (refused by the calendar) or anything else: ask every time
            return self._calendar.next_business_day(d)
        found = self._next.get(d)
        if found is None:
            found = self._next[d] = self._calendar.next_business_day(d)
        return found

    def is_business_day(self, d: date) -> bool:
        if type(d) is not date:
            return self._calendar.is_business_day(d)
        found = self._is.get(d)
        if found is None:
            found = self._is[d] = self._calendar.is_business_day(d)
        return found

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._calendar, name)


# -- from stored facts to a snapshot -----------------------------------------------------------------


def bills_of(creditors: Iterable[Creditor], start: date, end: date, calendar: BusinessDays) -> list[Bill]:
    """Every instalment due from `start` to `end`, moved to the next business day, with the month it is for.

    A monthly schedule that begins after its due day in that month also owes the part-month from its first
    day (S1: rent from 15 March is 17/31 × 650 = 356.45, due on the first business day from 15 March).
    """
    bills: list[Bill] = []
    for creditor in creditors:
        category: CostCategory | None = None  # worked out at the creditor's first bill, once, not per bill
        first_schedule = min(creditor.schedules, key=lambda s: s.valid_from, default=None)
        for schedule in creditor.schedules:
            dues = schedule.due_dates(start, end)
            begins = schedule.valid_from
            items = [(due, schedule.amount) for due in dues]
            # Whether the first month has its own instalment is decided on the whole month, not on the
            # window asked for: a schedule from 3 March due on the 15th owes its March instalment on the
            # 15th, also when a run on 3 March cannot see the 15th yet (else March would be paid twice).
            if (schedule is first_schedule and schedule.frequency is Frequency.MONTHLY and start <= begins <= end
                    and not schedule.due_dates(begins, month_end(begins))):
                items.insert(0, (begins, pro_rata_from(schedule.amount, begins)))
            for due, amount in items:
                payer = creditor.payer_on(due)
                if category is None:
                    category = CostCategory(creditor.category)
                bills.append(Bill(
                    creditor_id=creditor.id, creditor=creditor.organisation, category=category,
                    due_on=calendar.next_business_day(due), amount=amount, period=month_start(due),
                    payer=None if payer is None else _PAYERS[payer],
                    one_off=schedule.frequency is Frequency.ONCE,
                ))
    return sorted(bills, key=lambda b: (b.due_on, b.creditor_id))


@quick_value
@dataclass(frozen=True, slots=True)
class Receipt:
    source: str
    on: date
    amount: Money


def income_receipts(entry: PostedEntry, household_id: int) -> list[Receipt]:
    """The income an entry brought the household: each credit on one of its `inkomen:<source>` accounts."""
    prefix = household_code(household_id, "inkomen") + ":"
    return [Receipt(p.account[len(prefix):], entry.booking_date, -p.amount)
            for p in entry.postings if p.account.startswith(prefix) and p.amount.is_negative]


def allocate_receipts(receipts: Sequence[Receipt], expected: Sequence[tuple[date, tuple[tuple[date, Money], ...]]]
                      ) -> list[Inflow]:
    """Give each received payment of one source the months it covers, by filling the expected payments
    in order (S2: a zorgtoeslag of 393.00 on 20-05 is April, May and June). Money beyond what was expected
    covers the month it arrived in."""
    queue = [[month, amount.cents] for _due, covers in sorted(expected, key=lambda e: e[0]) for month, amount in covers]
    inflows = []
    for receipt in sorted(receipts, key=lambda r: r.on):
        left, covers = receipt.amount.cents, []
        while left > 0 and queue:
            month, open_ = queue[0]
            take = min(left, open_)
            covers.append((month, Money(take)))
            left -= take
            queue[0][1] -= take
            if queue[0][1] == 0:
                queue.pop(0)
        if left > 0:
            covers.append((month_start(receipt.on), Money(left)))
        merged: dict[date, Money] = {}
        for month, amount in covers:
            merged[month] = merged.get(month, Money(0)) + amount
        inflows.append(Inflow(receipt.source, receipt.on, receipt.amount, tuple(sorted(merged.items())), booked=True))
    return inflows


RETRY_MARK = "#"
"""An obligation planned again after its payment was rejected (and its entry reversed) is booked under
`plan:<household>:<obligation>:<due date>#<attempt>`: the ledger's key stays unique, the obligation the same."""


def base_key(key: str) -> str:
    """The movement key without the attempt suffix of a re-planned obligation."""
    return key.split(RETRY_MARK, 1)[0]


def _obligation_of(key: str, household_id: int) -> tuple[str, date] | None:
    prefix = f"{KEY_PREFIX}:{household_id}:"
    if not key.startswith(prefix):
        return None
    obligation, _, day = base_key(key)[len(prefix):].rpartition(":")
    return obligation, date.fromisoformat(day)


def retry_keys(entries: Iterable[PostedEntry]) -> dict[str, str]:
    """For each planned obligation whose every booking has been reversed (its payment was rejected), the key
    the next booking takes: base key + '#<attempt>'. Obligations with a booking still standing are absent."""
    entries = list(entries)
    reversed_ids = {e.reverses_entry_id for e in entries if e.reverses_entry_id is not None}
    attempts: dict[str, list[bool]] = defaultdict(list)
    for entry in entries:
        if entry.idempotency_key.startswith(KEY_PREFIX + ":"):
            attempts[base_key(entry.idempotency_key)].append(entry.id in reversed_ids)
    return {key: f"{key}{RETRY_MARK}{len(flags) + 1}" for key, flags in attempts.items() if all(flags)}


def past_movement(entry: PostedEntry, household_id: int) -> PastMovement | None:
    return _past_movement(entry, household_id, _obligation_of(entry.idempotency_key, household_id))


def _past_movement(entry: PostedEntry, household_id: int, parsed: tuple[str, date] | None,
                   mine: str | None = None) -> PastMovement | None:
    """`past_movement` with the entry's key already parsed by `_obligation_of` (and `mine`, the household's
    account prefix, worked out by the caller once for all its entries)."""
    if parsed is None:
        return None
    obligation, due = parsed
    if mine is None:
        mine = household_code(household_id) + ":"
    amount = Money(sum([p.amount.cents for p in entry.postings if p.account.startswith(mine) and p.amount.cents >= 0]))
    last = obligation.rsplit(":", 1)[-1]
    period = _month_of(last) if _MONTH.match(last) else None
    return PastMovement(base_key(entry.idempotency_key), entry.rule or "", obligation, due, amount, period)


@lru_cache(maxsize=1024)  # pure, on an immutable date; one or two horizons per run
def _budget_horizon(horizon: date) -> date:
    """The last day of the month two months after `horizon`'s."""
    return month_end(horizon + relativedelta(months=2))


@lru_cache(maxsize=1024)  # pure, on an immutable string; a handful of months per run
def _month_of(text: str) -> date:
    return date.fromisoformat(text + "-01")


def current_trajectory(trajectories: Sequence[Trajectory]) -> Trajectory | None:
    running = [t for t in trajectories if t.status in ACTIVE]
    return max(running, key=lambda t: t.start_date, default=None)


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """Everything read for one household, in one transaction."""

    household: Household
    trajectory: Trajectory
    creditors: tuple[Creditor, ...]
    incomes: tuple[ExpectedIncome, ...]
    entries: tuple[PostedEntry, ...]
    balances: dict[str, Money]
    """Household account code (without the household prefix) → balance seen from its normal side."""
    rules: HouseholdRules
    gemeente: Gemeente


def build_snapshot(facts: StoredFacts, as_of: date, until: date, calendar: PaymentCalendar, *,
                   project_income: bool = False, plan_calendar: BusinessDays | None = None) -> HouseholdSnapshot:
    """The engine's view of the household on `as_of`, with bills and income through `until`.

    Received income comes from the book. With `project_income` (forecasts) the expected payments not yet
    received and due after `as_of` are added as future inflows; a payment run never counts on them.
    `plan_calendar`: the same calendar's business days as the bills and the engine move dates with (a
    remembering wrapper of `calendar`); `calendar` itself by default.
    """
    h = facts.household.id
    trajectory = facts.trajectory
    horizon = max(until, as_of)
    expected: dict[str, list[tuple[date, tuple[tuple[date, Money], ...]]]] = defaultdict(list)
    monthly_income: dict[date, dict[str, Money]] = defaultdict(dict)
    toeslagen = []
    # Look two months past the horizon so every month up to it has all its income (bijstand for June
    # arrives on 1 July), or the budget of the last month would look short.
    budget_horizon = _budget_horizon(horizon)
    horizon_end = month_end(horizon)
    for income in facts.incomes:
        source = income.source.value
        payments = expected_payments(income, budget_horizon, calendar)
        for payment in payments:
            if payment.due_on <= horizon_end:
                expected[source].append((payment.due_on, payment.covers))
            for month, amount in payment.covers:
                of_month = monthly_income[month]
                current = of_month.get(source, Money(0))
                of_month[source] = current + amount
        if source in _TOESLAGEN:
            toeslagen.append(ToeslagExpectation(Toeslag(income.source.value), income.amount, income.entitlement_from,
                                                income.first_expected_on, income.rejected_on))
    krediet_code = household_code(h, "krediet", "inrichting")
    receipts: dict[str, list[Receipt]] = defaultdict(list)
    krediet_total, krediet_on = Money(0), None
    history = []
    # A planned payment that was rejected is reversed: neither it nor its reversal counts as booked, so the
    # obligation is planned again (its balances are restored by the reversal itself).
    reversed_ids = {e.reverses_entry_id for e in facts.entries if e.reverses_entry_id is not None}
    obligations = [_obligation_of(e.idempotency_key, h) for e in facts.entries]  # each key parsed once
    mine = household_code(h) + ":"
    planned_ids = {e.id for e, parsed in zip(facts.entries, obligations, strict=True) if parsed is not None}
    for entry, parsed in zip(facts.entries, obligations, strict=True):
        if entry.id in reversed_ids and entry.id in planned_ids:
            continue
        if entry.reverses_entry_id is not None and entry.reverses_entry_id in planned_ids:
            continue
        moved = _past_movement(entry, h, parsed, mine)
        if moved is not None:
            history.append(moved)
            continue
        for receipt in income_receipts(entry, h):
            receipts[receipt.source].append(receipt)
        for posting in entry.postings:
            if posting.account == krediet_code and posting.amount.is_negative:
                krediet_total = krediet_total - posting.amount
                krediet_on = krediet_on or entry.booking_date
    inflows: list[Inflow] = []
    for source, got in receipts.items():
        inflows += allocate_receipts(got, expected.get(source, []))
    if project_income:
        for source, payments in expected.items():
            received = Money.sum(r.amount for r in receipts.get(source, []))
            cumulative = Money(0)
            for due, covers in sorted(payments, key=lambda p: p[0]):
                amount = Money.sum(a for _, a in covers)
                cumulative = cumulative + amount
                if not received < cumulative or due <= as_of or due > horizon:
                    continue
                inflows.append(Inflow(source, due, amount, covers))
    balances = facts.balances
    reserveringen = {code.split(":", 1)[1]: amount for code, amount in balances.items()
                     if code.startswith("reservering:") and code != "reservering:inrichting"}
    return HouseholdSnapshot(
        household_id=h,
        members=facts.household.size,
        as_of=as_of,
        trajectory=TrajectoryWindow(trajectory.start_date, trajectory.last_day, trajectory.status.value),
        balances=Balances(
            basis=balances.get("basis", Money(0)),
            krediet_unspent=balances.get("reservering:inrichting", Money(0)),
            krediet_outstanding=balances.get("krediet:inrichting", Money(0)),
            voorschot_outstanding=balances.get("voorschot:toeslag", Money(0)),
            reserveringen=reserveringen,
        ),
        bills=tuple(bills_of(facts.creditors, trajectory.start_date, horizon, plan_calendar or calendar)),
        inflows=tuple(sorted(inflows, key=lambda i: (i.on, i.source))),
        toeslagen=tuple(toeslagen),
        monthly_income={m: dict(v) for m, v in monthly_income.items()},
        krediet=Krediet(krediet_total, krediet_on) if krediet_on else None,
        history=tuple(history),
        calendar=plan_calendar or calendar,
    )


# -- from a plan to journal entries ------------------------------------------------------------------


def entry_request(household_id: int, movement: Movement, actor: str) -> EntryRequest:
    """The journal entry for a movement: the household's side as planned, plus the organisation's side when
    money crosses its bank account: out, onderweg until the statement confirms it (design.md §3); in (what
    the gemeente puts in by the rules), a receivable until the gemeente's transfer is on the statement."""
    postings = [Posting(household_code(household_id, *account.split(":")), amount) for account, amount in movement.postings]
    if movement.flow is Flow.OUT:
        postings += [Posting(CLIENT_MONEY, movement.amount), Posting(IN_TRANSIT, -movement.amount)]
    elif movement.flow is Flow.IN:
        postings += [Posting(GEMEENTE_RECEIVABLE, movement.amount), Posting(CLIENT_MONEY, -movement.amount)]
    return EntryRequest(
        idempotency_key=movement.key,
        booking_date=movement.booking_date,
        value_date=movement.due_on if movement.booked_on else None,
        postings=tuple(postings),
        reason=movement.reason,
        actor=actor,
        source=EntrySource.BATCH_RUN,
        rule=movement.rule,
        household_id=household_id,
        metadata={k: v for k, v in (("obligation", movement.obligation),
                                     ("period", movement.period.isoformat() if movement.period else None),
                                     ("creditor_id", str(movement.creditor_id) if movement.creditor_id else None))
                  if v is not None},
    )


def reservering_specs(household_id: int, movements: Iterable[Movement]) -> list[AccountSpec]:
    """Accounts for the reserveringen a plan uses (reservering:<name> is opened the first time it is needed)."""
    names = {account for m in movements for account, _ in m.postings if account.startswith("reservering:")}
    return [AccountSpec(household_code(household_id, *name.split(":")), f"Reservering {name.split(':', 1)[1]}",
                        AccountType.ASSET, household_id, True)
            for name in sorted(names) if name != "reservering:inrichting"]


def book_requests(uow: UnitOfWork, requests: Sequence[EntryRequest], accounts: Iterable[AccountSpec]) -> BulkResult:
    """Post planned entries through the ledger's bulk path, opening first the accounts they need: the
    organisation's (idempotently; a fresh database has none) and the plans' reserveringen."""
    open_accounts_in(uow.ledger, [*organisation_accounts(), *accounts])
    return post_in(uow.ledger, requests) if requests else BulkResult()


@dataclass(frozen=True, slots=True)
class Planned:
    """A household's plan up to a run's day, not booked yet: what it was made from, and the movements to book
    under the keys they get (`PlanningService._plan_for`)."""

    facts: StoredFacts
    plan: Plan
    movements: tuple[Movement, ...]


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: Plan
    posted: dict[str, int]
    """Idempotency key → entry id of what this run posted."""
    replayed: dict[str, int]


class PlanningService:
    def __init__(self, transactions: Transactions, catalog: ProfileCatalog, clock: Clock = system_clock,
                 calendar: PaymentCalendar = DEFAULT_CALENDAR) -> None:
        self._tx = transactions
        self._catalog = catalog
        self._clock = clock
        self._calendar = calendar
        self._memo_calendar = _MemoCalendar(calendar)
        self._merges: Merges = {}
        self._shared_rules: dict[tuple[int, int], tuple[Profile, Profile | None, HouseholdRules]] = {}
        """The rules of households without profile assignments, one per (gemeente profile, forced profile):
        they are the same for all such households, and so are the versions they remember per day."""

    @property
    def calendar(self) -> PaymentCalendar:
        return self._calendar

    def facts(self, uow: UnitOfWork, household_id: int, *, profile: str | None = None) -> StoredFacts:
        """Everything the engine needs of one household, read in the caller's transaction."""
        facts = self.facts_of_many(uow, [household_id], profile=profile)[household_id]
        if isinstance(facts, Exception):
            raise facts
        return facts

    def facts_of_many(self, uow: UnitOfWork, household_ids: Sequence[int], *, profile: str | None = None
                      ) -> dict[int, StoredFacts | Exception]:
        """`facts` for many households with one query per table, not one per household: the bulk payment
        run reads a chunk of households this way. A household that cannot be planned gets its error."""
        ids = sorted(set(household_ids))
        found = {h.id: h for h in uow.registry.households(ids=ids)}
        gemeenten = {g.id: g for g in uow.registry.gemeenten()}
        trajectories = uow.registry.trajectories_of_households(ids)
        assignments = uow.registry.profile_assignments_of(ids)
        creditors = uow.registry.creditors_of_households(ids)
        incomes = uow.registry.expected_income_of_households(ids)
        entries = uow.ledger.entries_of_households(ids)
        balances = uow.ledger.balances_of_households(ids)
        facts: dict[int, StoredFacts | Exception] = {}
        for h in ids:
            if h not in found:
                facts[h] = NotFoundError(f"there is no household {h}", field="household_id")
                continue
            prefix = household_code(h) + ":"
            try:
                facts[h] = self._assemble(
                    found[h], trajectories.get(h, []), gemeenten[found[h].gemeente_id], assignments.get(h, []),
                    creditors.get(h, []), incomes.get(h, []), entries.get(h, []),
                    {code[len(prefix):]: amount for code, amount in balances.get(h, {}).items()}, profile=profile)
            except Exception as exc:  # reported per household by the caller
                facts[h] = exc
        return facts

    def _assemble(self, household: Household, trajectories: Sequence[Trajectory], gemeente: Gemeente,
                  assignments: Sequence[ProfileAssignment], creditors: Sequence[Creditor],
                  incomes: Sequence[ExpectedIncome], entries: Sequence[PostedEntry], balances: dict[str, Money], *,
                  profile: str | None = None) -> StoredFacts:
        trajectory = current_trajectory(trajectories)
        if trajectory is None:
            raise ConflictError(f"household {household.id} has no running ontzorgtraject to plan for",
                                field="household_id")
        forced = self._catalog.get(profile, field="profile") if profile else None
        rules = self._rules(self._catalog.for_gemeente(gemeente), assignments, forced)
        return StoredFacts(
            household=household,
            trajectory=trajectory,
            creditors=tuple(creditors),
            incomes=tuple(incomes),
            entries=tuple(entries),
            balances=balances,
            rules=rules,
            gemeente=gemeente,
        )

    def _rules(self, gemeente_profile: Profile, assignments: Sequence[ProfileAssignment], forced: Profile | None
               ) -> HouseholdRules:
        if assignments:
            return HouseholdRules(gemeente_profile, self._catalog, assignments, force_profile=forced,
                                  merges=self._merges)
        key = (id(gemeente_profile), id(forced))
        hit = self._shared_rules.get(key)
        if hit is None or hit[0] is not gemeente_profile or hit[1] is not forced:
            hit = self._shared_rules[key] = (gemeente_profile, forced, HouseholdRules(
                gemeente_profile, self._catalog, (), force_profile=forced, merges=self._merges))
        return hit[2]

    def plan(self, household_id: int, start: date, end: date, *, profile: str | None = None,
             as_of: date | None = None) -> Plan:
        """What the rules would do for the household from `start` to `end`; nothing is written.

        Income expected after `as_of` (default: `end`) is counted as arriving when it is due, so a preview
        of next month shows the rent paid from next month's bijstand; a payment run never counts on it.
        """
        if end < start:
            raise InvalidInputError("end", f"the period ends on {end}, before it starts on {start}")

        def work(uow: UnitOfWork) -> Plan:
            facts = self.facts(uow, household_id, profile=profile)
            snapshot = build_snapshot(facts, as_of or end, end, self._calendar, project_income=True)
            return make_plan(snapshot, facts.rules, start, end)

        return self._tx.run(work, write=False)

    def run(self, household_id: int, through: date, actor: str) -> PlanResult:
        """Plan every obligation of the trajectory due by `through` that is not booked yet, and book it.

        Catching up from the trajectory's start means a run missed while the service was down is made
        up the next time; what was booked before is skipped by its key.
        """
        return self._tx.run(lambda uow: self.book_in(uow, household_id, through, actor))

    def book_in(self, uow: UnitOfWork, household_id: int, through: date, actor: str) -> PlanResult:
        """`run` inside a unit of work the caller holds: one household's plan booked, without payment
        instructions (the payment run plans chunks with `plan_many_in` and writes its instructions itself).

        The household's row is locked first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        writers), so two runners for one household plan one after the other, the second from what the
        first booked.
        """
        uow.registry.lock_household(household_id)
        plan, movements = self._plan_for(self.facts(uow, household_id), through)
        result = book_requests(uow, [entry_request(household_id, m, actor) for m in movements],
                               reservering_specs(household_id, movements))
        return PlanResult(plan, dict(result.posted), dict(result.replayed))

    def plan_many_in(self, uow: UnitOfWork, household_ids: Sequence[int], through: date, *,
                     only: MovementFilter | None = None) -> dict[int, Planned | Exception]:
        """What `book_in` would book for each of a chunk of households, with one read per table; nothing is
        written. The payment run turns these into entries and instructions and posts a whole chunk at once
        (`book_requests`), in this transaction or, planned ahead, in the writer's (payment_runs)."""
        return self.plan_many(self.facts_of_many(uow, household_ids), through, only=only)

    def plan_many(self, facts: dict[int, StoredFacts | Exception], through: date, *,
                  only: MovementFilter | None = None) -> dict[int, Planned | Exception]:
        """`plan_many_in` from facts already read (no database: a planning process plans after its read
        transaction has ended). A household that could not be read or planned gets its error; the others
        go on (planning is pure)."""
        results: dict[int, Planned | Exception] = {}
        for h, read in facts.items():
            if isinstance(read, Exception):
                results[h] = read
                continue
            try:
                plan, movements = self._plan_for(read, through, only)
            except Exception as exc:  # one household's rules failing never stops the others
                results[h] = exc
                continue
            results[h] = Planned(read, plan, tuple(movements))
        return results

    def _plan_for(self, facts: StoredFacts, through: date, only: MovementFilter | None = None
                  ) -> tuple[Plan, list[Movement]]:
        """The plan up to `through` from the trajectory's start, and its movements under the keys they are
        booked with (an obligation re-planned after a rejected payment takes '#<attempt>'); with `only`,
        just the movements it selects (the leefgeld job books leefgeld, the payment run the rest)."""
        start = facts.trajectory.start_date
        h = facts.household.id
        if through < start:  # nothing is due before the trajectory starts
            return Plan(h, facts.rules.name, through, through, (), ()), []
        snapshot = build_snapshot(facts, through, through, self._calendar, plan_calendar=self._memo_calendar)
        plan = make_plan(snapshot, facts.rules, start, through)
        retries = retry_keys(facts.entries)
        return plan, [replace(m, key=retries[m.key]) if m.key in retries else m for m in plan.movements
                      if only is None or only(m)]

